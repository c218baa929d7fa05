import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate, runStatusUpdate, runUpdate } from '../harness.js';
import { deploymentResource as def } from './deployment.js';

function deployment(spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate(), ...spec },
  };
}

test('Deployment defaults match apps/v1', async () => {
  const { obj, errs } = await runCreate(def, deployment());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  assert.equal(spec.template.spec.restartPolicy, 'Always');
  assert.equal(spec.template.spec.dnsPolicy, 'ClusterFirst');
});

test('Recreate strategy gets no rollingUpdate defaults', async () => {
  const { obj, errs } = await runCreate(def, deployment({ strategy: { type: 'Recreate' } }));
  assert.deepEqual(errs, []);
  assert.deepEqual((obj.spec as Record<string, unknown>).strategy, { type: 'Recreate' });
});

test('Deployment validation errors carry upstream paths and messages', async () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['missing selector', { selector: undefined }, 'spec.selector', 'Required value'],
    ['empty selector', { selector: {} }, 'spec.selector', 'empty selector is invalid for deployment'],
    ['mismatch', { selector: { matchLabels: { app: 'db' } } }, 'spec.template.metadata.labels', '`selector` does not match template `labels`'],
    ['negative replicas', { replicas: -1 }, 'spec.replicas', 'must be greater than or equal to 0'],
    ['restartPolicy', { template: podTemplate({ app: 'web' }, 'Never') }, 'spec.template.spec.restartPolicy', 'supported values: "Always"'],
    ['both zero', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, 'spec.strategy.rollingUpdate.maxUnavailable', 'may not be 0 when `maxSurge` is 0'],
    ['bad percent', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'x' } } }, 'spec.strategy.rollingUpdate.maxSurge', "a valid percent string"],
    ['over 100%', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '101%' } } }, 'spec.strategy.rollingUpdate.maxUnavailable', 'must not be greater than 100%'],
    ['bad type', { strategy: { type: 'BlueGreen' } }, 'spec.strategy.type', 'Unsupported value: "BlueGreen"'],
    ['recreate+rolling', { strategy: { type: 'Recreate', rollingUpdate: {} } }, 'spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"],
    ['deadline', { minReadySeconds: 700 }, 'spec.progressDeadlineSeconds', 'must be greater than minReadySeconds'],
  ];
  for (const [name, spec, field, message] of cases) {
    const { errs } = await runCreate(def, deployment(spec));
    const e = errs.find((x) => x.field === field);
    assert.ok(e, `${name}: expected an error at ${field}, got ${JSON.stringify(errs)}`);
    assert.ok(e.message.includes(message), `${name}: ${e.message}`);
  }
});

test('selector is immutable; replicas and template may change', async () => {
  const { obj: old } = await runCreate(def, deployment());
  const changed = structuredClone(old);
  (changed.spec as Record<string, any>).replicas = 5;
  (changed.spec as Record<string, any>).template.spec.containers[0].image = 'nginx:1.26';
  assert.deepEqual((await runUpdate(def, old, changed)).errs, []);
  const bad = structuredClone(old);
  (bad.spec as Record<string, any>).selector = { matchLabels: { app: 'web', tier: 'x' } };
  (bad.spec as Record<string, any>).template.metadata.labels.tier = 'x';
  const { errs } = await runUpdate(def, old, bad);
  assert.deepEqual(fields(errs), ['spec.selector']);
  assert.match(errs[0]!.message, /field is immutable/);
});

test('status counters are checked against each other', async () => {
  const { obj } = await runCreate(def, deployment());
  assert.deepEqual(runStatusUpdate(def, obj, { replicas: 3, readyReplicas: 3, availableReplicas: 2, updatedReplicas: 3 }).errs, []);
  const { errs } = runStatusUpdate(def, obj, { replicas: 1, readyReplicas: 2, availableReplicas: 2 });
  assert.deepEqual(fields(errs), ['status.readyReplicas', 'status.availableReplicas']);
  assert.match(errs[0]!.message, /cannot be greater than status.replicas/);
});

test('table: READY UP-TO-DATE AVAILABLE AGE and wide columns', async () => {
  const { obj } = await runCreate(def, deployment({ replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db', 'cache'] }] } }));
  obj.status = { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(
    def.table!.columns.map((c) => [c.name, c.priority]),
    [['Name', 0], ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1]],
  );
  const cells = def.table!.cells(obj, new Date('2024-05-01T12:05:00Z'));
  assert.deepEqual(cells, ['web', '2/3', 3, 2, '5m', 'web', 'nginx:1.25', 'app=web,tier notin (cache,db)']);
  assert.equal(def.shortNames?.[0], 'deploy');
  assert.deepEqual(def.subresources?.scale, { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' });
});
