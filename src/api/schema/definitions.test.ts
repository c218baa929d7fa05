import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDefinitions, type JsonSchema } from './definitions.js';
import { sampleBuiltinDefs, sampleCustomDef } from './testing.js';

const defs = [...sampleBuiltinDefs(), sampleCustomDef()];
const def = (group: string, kind: string) => defs.find((d) => d.group === group && d.kind === kind)!;
type Props = Record<string, JsonSchema>;

/** Every `$ref` in `schemas` points at a member of `schemas`. */
function assertRefsResolve(schemas: Record<string, JsonSchema>, prefix: string): number {
  let n = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') {
        n++;
        assert.ok(typeof x === 'string' && x.startsWith(prefix), `ref ${String(x)}`);
        assert.ok((x as string).slice(prefix.length) in schemas, `dangling ${String(x)}`);
      } else visit(x);
    }
  };
  visit(schemas);
  return n;
}

test('Pod and Deployment definitions carry descriptions, gvk, required and refs', () => {
  const d = createDefinitions(defs);
  const dep = d.get('io.k8s.api.apps.v1.Deployment', 'v3')!;
  assert.match(dep.description as string, /declarative updates/);
  assert.deepEqual(dep['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  const props = dep.properties as Props;
  assert.deepEqual(props.spec!.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }]);
  assert.ok((props.spec!.description as string).length > 0, 'ref fields get the type description');
  const spec = d.get('io.k8s.api.apps.v1.DeploymentSpec', 'v3')!;
  assert.deepEqual(spec.required, ['selector', 'template']);
  assert.deepEqual((spec.properties as Props).replicas, {
    type: 'integer',
    format: 'int32',
    description: (spec.properties as Props).replicas!.description,
  });
  const pod = d.get('io.k8s.api.core.v1.Pod', 'v3')!;
  assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
  assert.deepEqual(d.get('io.k8s.api.core.v1.PodList', 'v3')!['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'PodList' }]);
  const v2 = d.get('io.k8s.api.apps.v1.Deployment', 'v2')!;
  const v2spec = (v2.properties as Props).spec!;
  assert.equal(v2spec.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
  assert.ok(v2spec.description);
});

test('list extensions for containers, env, ports, volumeMounts, conditions and finalizers', () => {
  const d = createDefinitions(defs);
  const podSpec = d.get('io.k8s.api.core.v1.PodSpec', 'v3')!.properties as Props;
  assert.equal(podSpec.containers!['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(podSpec.containers!['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(podSpec.containers!['x-kubernetes-list-type'], 'map');
  assert.deepEqual(podSpec.containers!['x-kubernetes-list-map-keys'], ['name']);
  assert.equal(podSpec.volumes!['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.deepEqual(podSpec.containers!.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
  const container = d.get('io.k8s.api.core.v1.Container', 'v3')!.properties as Props;
  assert.equal(container.env!['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(container.volumeMounts!['x-kubernetes-patch-merge-key'], 'mountPath');
  assert.deepEqual(container.ports!['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  const status = d.get('io.k8s.api.apps.v1.DeploymentStatus', 'v3')!.properties as Props;
  assert.equal(status.conditions!['x-kubernetes-patch-merge-key'], 'type');
  const meta = d.get('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'v3')!.properties as Props;
  assert.equal(meta.finalizers!['x-kubernetes-list-type'], 'set');
  assert.equal(meta.ownerReferences!['x-kubernetes-patch-merge-key'], 'uid');
});

test('special types: Quantity, IntOrString, Time, RawExtension', () => {
  const d = createDefinitions(defs);
  const ios = d.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'v3')!;
  assert.equal(ios.format, 'int-or-string');
  assert.equal(ios['x-kubernetes-int-or-string'], true);
  assert.equal(d.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'v2')!.type, 'string');
  assert.equal(d.get('io.k8s.apimachinery.pkg.api.resource.Quantity', 'v2')!.type, 'string');
  assert.deepEqual(d.get('io.k8s.apimachinery.pkg.apis.meta.v1.Time', 'v3')!.format, 'date-time');
  const limits = (d.get('io.k8s.api.core.v1.ResourceRequirements', 'v3')!.properties as Props).limits!;
  assert.deepEqual(limits.additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  const rev = d.get('io.k8s.api.apps.v1.ControllerRevision', 'v3')!.properties as Props;
  assert.deepEqual(rev.data!.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.runtime.RawExtension' }]);
});

test('collect returns a closed, sorted set (v3 and v2)', () => {
  const d = createDefinitions(defs);
  const roots = ['io.k8s.api.apps.v1.Deployment', 'io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.Service'];
  const v3 = d.collect(roots, 'v3');
  assert.ok(assertRefsResolve(v3, '#/components/schemas/') > 100);
  assert.deepEqual(Object.keys(v3), Object.keys(v3).sort());
  assert.ok('io.k8s.api.core.v1.Container' in v3 && 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' in v3);
  const v2 = d.collect(roots, 'v2');
  assertRefsResolve(v2, '#/definitions/');
  assert.deepEqual(Object.keys(v2), Object.keys(v3));
  const all = d.collect(defs.flatMap((x) => [d.nameOf(x), d.listNameOf(x)]), 'v3');
  assertRefsResolve(all, '#/components/schemas/');
  for (const x of defs) {
    const gvk = all[d.nameOf(x)]!['x-kubernetes-group-version-kind'];
    assert.deepEqual(gvk, [{ group: x.group, version: x.version, kind: x.kind }], x.kind);
  }
});

test('custom resource definition from its structural schema', () => {
  const d = createDefinitions(defs);
  const cr = sampleCustomDef();
  const s = d.get(d.nameOf(cr), 'v3')!;
  assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }]);
  const props = s.properties as Props;
  assert.deepEqual(props.metadata!.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  assert.equal(props.apiVersion!.type, 'string');
  assert.equal(((props.spec!.properties as Props).replicas as JsonSchema).type, 'integer');
  assert.equal(((props.spec!.properties as Props).ratio as JsonSchema).nullable, true);
  const v2 = d.get(d.nameOf(cr), 'v2')!;
  assert.equal(((v2.properties as Props).spec!.properties as Props).ratio!.nullable, undefined, 'v2 drops nullable');
  const list = d.get(d.listNameOf(cr), 'v3')!;
  assert.deepEqual((list.properties as Props).items!.items, { $ref: '#/components/schemas/com.example.stable.v1.CronTab' });
  assertRefsResolve(d.collect([d.nameOf(cr), d.listNameOf(cr)], 'v3'), '#/components/schemas/');
  assert.equal(cr.schema!.properties && 'metadata' in (cr.schema!.properties as object), false, 'input schema untouched');
});
