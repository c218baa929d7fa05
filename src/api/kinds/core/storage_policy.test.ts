import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fakeContext, prepareObject, testObject, typesAndFields as fields } from './fake_context.js';
import { limitRangeResource, resourceQuotaResource } from './limitrange.js';
import { persistentVolumeResource } from './persistentvolume.js';
import { persistentVolumeClaimResource } from './persistentvolumeclaim.js';
import { podTemplateResource, replicationControllerResource } from './replicationcontroller.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = fakeContext(now);

const o = (meta: Record<string, unknown>, rest: Record<string, unknown> = {}): KubeObject => testObject('2024-05-01T11:00:00Z', meta, rest);
const prepared = (def: ResourceDef, obj: KubeObject): Promise<KubeObject> => prepareObject(def, obj, ctx);

test('persistent volumes', async () => {
  const st = persistentVolumeResource.strategy!;
  const pv = await prepared(
    persistentVolumeResource,
    o({ name: 'pv1' }, { spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], hostPath: { path: '/data' }, storageClassName: 'manual' } }),
  );
  assert.equal((pv.spec as any).persistentVolumeReclaimPolicy, 'Retain');
  assert.equal((pv.spec as any).volumeMode, 'Filesystem');
  assert.deepEqual(pv.status, { phase: 'Pending', lastPhaseTransitionTime: '2024-05-01T12:00:00Z' });
  assert.deepEqual(st.validate!(pv), []);
  (pv.spec as any).claimRef = { namespace: 'default', name: 'data' };
  (pv.status as any).phase = 'Bound';
  assert.deepEqual(persistentVolumeResource.table!.cells(pv, now), ['pv1', '10Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'manual', '<unset>', '', '60m', 'Filesystem']);
  const bad = o({ name: 'pv2' }, { spec: { capacity: { storage: 'lots', cpu: '1' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Keep' } });
  assert.deepEqual(fields(st.validate!(bad)), [
    ['FieldValueForbidden', 'spec.accessModes'],
    ['FieldValueNotSupported', 'spec.capacity'],
    ['FieldValueInvalid', 'spec.capacity[storage]'],
    ['FieldValueRequired', 'spec'],
    ['FieldValueNotSupported', 'spec.persistentVolumeReclaimPolicy'],
  ]);
  const moved = structuredClone(pv);
  (moved.spec as any).hostPath.path = '/other';
  assert.deepEqual(fields(st.validateUpdate!(moved, pv)), [['FieldValueForbidden', 'spec.persistentvolumesource']]);
});

test('persistent volume claims', async () => {
  const st = persistentVolumeClaimResource.strategy!;
  const pvc = await prepared(persistentVolumeClaimResource, o({ name: 'data', namespace: 'default' }, { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1.5Gi' } } } }));
  assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1536Mi' } }, volumeMode: 'Filesystem' });
  assert.deepEqual(pvc.status, { phase: 'Pending' });
  assert.deepEqual(st.validate!(pvc), []);
  assert.deepEqual(persistentVolumeClaimResource.table!.cells(pvc, now), ['data', 'Pending', '', '', '', '', '<unset>', '60m', 'Filesystem']);
  assert.deepEqual(fields(st.validate!(o({ name: 'x' }, { spec: {} }))), [
    ['FieldValueRequired', 'spec.accessModes'],
    ['FieldValueRequired', 'spec.resources[storage]'],
  ]);
  // Binding sets volumeName once; other spec changes are refused; bound claims may grow.
  const bound = structuredClone(pvc);
  (bound.spec as any).volumeName = 'pv1';
  assert.deepEqual(st.validateUpdate!(bound, pvc), []);
  bound.status = { phase: 'Bound', capacity: { storage: '1536Mi' }, accessModes: ['ReadWriteOnce'] };
  assert.deepEqual(persistentVolumeClaimResource.table!.cells(bound, now).slice(1, 5), ['Bound', 'pv1', '1536Mi', 'RWO']);
  const grown = structuredClone(bound);
  (grown.spec as any).resources.requests.storage = '5Gi';
  assert.deepEqual(st.validateUpdate!(grown, bound), []);
  const shrunk = structuredClone(bound);
  (shrunk.spec as any).resources.requests.storage = '1Gi';
  assert.deepEqual(fields(st.validateUpdate!(shrunk, bound)), [['FieldValueForbidden', 'spec.resources.requests.storage']]);
  const remoded = structuredClone(bound);
  (remoded.spec as any).accessModes = ['ReadWriteMany'];
  assert.deepEqual(fields(st.validateUpdate!(remoded, bound)), [['FieldValueForbidden', 'spec']]);
  const rebound = structuredClone(bound);
  (rebound.spec as any).volumeName = 'pv2';
  assert.deepEqual(fields(st.validateUpdate!(rebound, bound)), [['FieldValueForbidden', 'spec']]);
});

test('limit ranges', async () => {
  const st = limitRangeResource.strategy!;
  const lr = await prepared(limitRangeResource, o({ name: 'lr' }, { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } }));
  assert.deepEqual((lr.spec as any).limits[0], { type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });
  assert.deepEqual(st.validate!(lr), []);
  assert.deepEqual(limitRangeResource.table!.cells(lr, now), ['lr', '2024-05-01T11:00:00Z']);
  const bad = o({ name: 'lr' }, { spec: { limits: [{ type: 'Pod', default: { cpu: '1' }, min: { cpu: '2' }, max: { cpu: '1' } }, { type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }] } });
  assert.deepEqual(fields(st.validate!(bad)), [
    ['FieldValueForbidden', 'spec.limits[0].default'],
    ['FieldValueInvalid', 'spec.limits[0].min[cpu]'],
    ['FieldValueInvalid', 'spec.limits[0].default[cpu]'],
    ['FieldValueInvalid', 'spec.limits[1].maxLimitRequestRatio[cpu]'],
  ]);
});

test('resource quotas', async () => {
  const st = resourceQuotaResource.strategy!;
  const rq = await prepared(resourceQuotaResource, o({ name: 'q' }, { spec: { hard: { pods: '10', 'requests.cpu': '2000m', 'limits.memory': '2Gi' } }, status: { used: { pods: '99' } } }));
  assert.deepEqual((rq.spec as any).hard, { pods: '10', 'requests.cpu': '2', 'limits.memory': '2Gi' });
  assert.deepEqual(rq.status, {});
  assert.deepEqual(st.validate!(rq), []);
  rq.status = { hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '2Gi' }, used: { pods: '1', 'requests.cpu': '500m' } };
  assert.deepEqual(resourceQuotaResource.table!.cells(rq, now), ['q', '60m', 'pods: 1/10, requests.cpu: 500m/2', 'limits.memory: 0/2Gi']);
  assert.deepEqual(fields(st.validate!(o({ name: 'q' }, { spec: { hard: { pods: '-1' }, scopes: ['Sometimes'] } }))), [
    ['FieldValueInvalid', 'spec.hard[pods]'],
    ['FieldValueNotSupported', 'spec.scopes[0]'],
  ]);
});

test('replication controllers and pod templates', async () => {
  const st = replicationControllerResource.strategy!;
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } };
  const rc = await prepared(replicationControllerResource, o({ name: 'web', namespace: 'default' }, { spec: { template: structuredClone(template) } }));
  const spec = rc.spec as any;
  assert.deepEqual(spec.selector, { app: 'web' });
  assert.deepEqual(rc.metadata.labels, { app: 'web' });
  assert.equal(spec.replicas, 1);
  assert.equal(spec.template.spec.restartPolicy, 'Always');
  assert.equal(spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(spec.template.spec.enableServiceLinks, undefined);
  assert.deepEqual(rc.status, { replicas: 0 });
  assert.deepEqual(st.validate!(rc), []);
  rc.status = { replicas: 1, readyReplicas: 1 };
  assert.deepEqual(replicationControllerResource.table!.cells(rc, now), ['web', 1, 1, 1, '60m', 'c', 'nginx:1.25', 'app=web']);
  const bad = structuredClone(rc);
  (bad.spec as any).selector = { app: 'other' };
  (bad.spec as any).template.spec.restartPolicy = 'Never';
  (bad.spec as any).replicas = -1;
  assert.deepEqual(fields(st.validate!(bad)), [
    ['FieldValueInvalid', 'spec.replicas'],
    ['FieldValueInvalid', 'spec.template.metadata.labels'],
    ['FieldValueNotSupported', 'spec.template.spec.restartPolicy'],
  ]);
  assert.deepEqual(replicationControllerResource.subresources?.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.selector' });

  const pt = await prepared(podTemplateResource, o({ name: 'pt', namespace: 'default' }, { template: structuredClone(template) }));
  assert.deepEqual(podTemplateResource.strategy!.validate!(pt), []);
  assert.deepEqual(podTemplateResource.table!.cells(pt, now), ['pt', 'c', 'nginx:1.25', 'app=web']);
  const noImage = o({ name: 'pt' }, { template: { spec: { containers: [{ name: 'c' }] } } });
  await podTemplateResource.strategy!.default!(noImage, ctx);
  assert.deepEqual(fields(podTemplateResource.strategy!.validate!(noImage)), [['FieldValueRequired', 'template.spec.containers[0].image']]);
});
