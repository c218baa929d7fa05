import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModelGraph } from './models.js';
import { ClassNamer, classOfDef, definitionNameOf, listDefinitionNameOf, splitClassName } from './naming.js';
import { sampleBuiltinDefs, sampleCustomDef } from './testing.js';

test('model graph parses fields, types, descriptions and required-ness', () => {
  const g = loadModelGraph();
  assert.equal(g, loadModelGraph(), 'cached');
  const c = g.get('V1Container')!;
  assert.ok(c.description?.includes('container'));
  const name = c.byName.get('name')!;
  assert.equal(name.required, true);
  assert.deepEqual(name.type, { kind: 'string' });
  assert.equal(c.byName.get('image')!.required, false);
  assert.deepEqual(c.byName.get('ports')!.type, { kind: 'array', items: { kind: 'ref', model: 'V1ContainerPort' } });
  assert.ok(c.byName.get('args')!.description?.includes("container image's CMD"), 'escaped quotes undone');
  const port = g.get('V1ContainerPort')!;
  assert.deepEqual(port.byName.get('containerPort')!.type, { kind: 'integer', format: 'int32' });
  const rr = g.get('V1ResourceRequirements')!;
  assert.deepEqual(rr.byName.get('limits')!.type, { kind: 'map', values: { kind: 'special', name: 'Quantity' } });
  assert.deepEqual(g.get('V1ServicePort')!.byName.get('targetPort')!.type, { kind: 'special', name: 'IntOrString' });
  assert.deepEqual(g.get('V1ObjectMeta')!.byName.get('creationTimestamp')!.type, { kind: 'special', name: 'Time' });
  assert.deepEqual(g.get('V1ManagedFieldsEntry')!.byName.get('fieldsV1')!.type, { kind: 'special', name: 'FieldsV1' });
  assert.deepEqual(g.get('V1EmptyDirVolumeSource')!.byName.get('sizeLimit')!.type, { kind: 'special', name: 'Quantity' });
  // JSON names come from baseName (TS names differ for reserved words and x- fields)
  assert.ok(g.get('V1JSONSchemaProps')!.byName.has('x-kubernetes-list-type'));
  assert.ok(g.get('V1ListMeta')!.byName.has('continue'));
  assert.equal(g.get('NoSuchClass'), undefined);
});

test('class names split and map to upstream definition names', () => {
  assert.deepEqual(splitClassName('CoreV1Event'), { prefix: 'Core', version: 'v1', short: 'Event' });
  assert.deepEqual(splitClassName('V1beta1FlowSchema'), { prefix: undefined, version: 'v1beta1', short: 'FlowSchema' });
  const g = loadModelGraph();
  const defs = [...sampleBuiltinDefs(), sampleCustomDef()];
  const namer = new ClassNamer(g, defs);
  const expect: Record<string, string> = {
    V1PodSpec: 'io.k8s.api.core.v1.PodSpec',
    V1ObjectMeta: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    V1LabelSelector: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
    V1Condition: 'io.k8s.apimachinery.pkg.apis.meta.v1.Condition',
    V1Deployment: 'io.k8s.api.apps.v1.Deployment',
    V1DeploymentSpec: 'io.k8s.api.apps.v1.DeploymentSpec',
    V1PodTemplateSpec: 'io.k8s.api.core.v1.PodTemplateSpec',
    V1PersistentVolumeClaim: 'io.k8s.api.core.v1.PersistentVolumeClaim',
    V1TypedLocalObjectReference: 'io.k8s.api.core.v1.TypedLocalObjectReference',
    V1JobTemplateSpec: 'io.k8s.api.batch.v1.JobTemplateSpec',
    CoreV1Event: 'io.k8s.api.core.v1.Event',
    EventsV1Event: 'io.k8s.api.events.v1.Event',
    V1Scale: 'io.k8s.api.autoscaling.v1.Scale',
    V2HorizontalPodAutoscalerSpec: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec',
    RbacV1Subject: 'io.k8s.api.rbac.v1.Subject',
    V1PolicyRule: 'io.k8s.api.rbac.v1.PolicyRule',
    V1IngressBackend: 'io.k8s.api.networking.v1.IngressBackend',
    V1CustomResourceDefinitionSpec: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec',
    V1NodeSelector: 'io.k8s.api.core.v1.NodeSelector',
  };
  for (const [cls, name] of Object.entries(expect)) {
    assert.equal(namer.nameOf(cls), name, cls);
    assert.equal(namer.classOf(name), cls, name);
  }
});

test('registered kinds name their definitions and classes', () => {
  const g = loadModelGraph();
  const byKind = (group: string, kind: string) => sampleBuiltinDefs().find((d) => d.group === group && d.kind === kind)!;
  assert.equal(definitionNameOf(byKind('', 'Event')), 'io.k8s.api.core.v1.Event');
  assert.equal(classOfDef(byKind('', 'Event'), g), 'CoreV1Event');
  assert.equal(classOfDef(byKind('events.k8s.io', 'Event'), g), 'EventsV1Event');
  assert.equal(listDefinitionNameOf(byKind('apps', 'Deployment')), 'io.k8s.api.apps.v1.DeploymentList');
  const cr = sampleCustomDef();
  assert.equal(definitionNameOf(cr), 'com.example.stable.v1.CronTab');
  assert.equal(listDefinitionNameOf(cr), 'com.example.stable.v1.CronTabList');
  assert.equal(classOfDef(cr, g), undefined);
  assert.equal(definitionNameOf({ ...byKind('apps', 'Deployment'), openapiName: 'x.y.v1.Z' }), 'x.y.v1.Z');
});
