import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.js';
import { fields, runCreate } from './harness.js';
import { formatHPAMetrics, horizontalPodAutoscalerResource as def } from './autoscaling.js';

function hpa(spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10, ...spec } };
}

test('HPA defaults', async () => {
  const { obj, errs } = await runCreate(def, hpa());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.minReplicas, 1);
  assert.deepEqual(spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(spec.behavior, undefined);
  const withBehavior = (await runCreate(def, hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }))).obj.spec as Record<string, any>;
  assert.equal(withBehavior.behavior.scaleDown.stabilizationWindowSeconds, 60);
  assert.equal(withBehavior.behavior.scaleDown.selectPolicy, 'Max');
  assert.equal(withBehavior.behavior.scaleUp.policies.length, 2);
});

test('HPA validation', async () => {
  const bad = await runCreate(def, hpa({ minReplicas: 0, maxReplicas: 0, scaleTargetRef: { name: 'web' } }));
  assert.deepEqual(fields(bad.errs), ['spec.minReplicas', 'spec.maxReplicas', 'spec.scaleTargetRef.kind']);
  const order = await runCreate(def, hpa({ minReplicas: 5, maxReplicas: 2 }));
  assert.match(order.errs[0]!.message, /must be greater than or equal to `minReplicas`/);
  const metric = await runCreate(def, hpa({ metrics: [{ type: 'Pods', resource: { name: 'cpu' } }] }));
  assert.deepEqual(fields(metric.errs), ['spec.metrics[0].resource', 'spec.metrics[0].pods']);
  const behavior = await runCreate(def, hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 4000, policies: [{ type: 'Pods', value: 0, periodSeconds: 15 }] } } }));
  assert.deepEqual(fields(behavior.errs), ['spec.behavior.scaleUp.stabilizationWindowSeconds', 'spec.behavior.scaleUp.policies[0].value']);
});

test('HPA table', async () => {
  const { obj } = await runCreate(def, hpa({ minReplicas: 2 }));
  const now = new Date('2024-05-01T12:00:20Z');
  assert.deepEqual(def.table!.cells(obj, now), ['web', 'Deployment/web', 'cpu: <unknown>/80%', '2', 10, 0, '20s']);
  obj.status = { currentReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '120m' } } }] };
  assert.equal(formatHPAMetrics(obj), 'cpu: 12%/80%');
  const many = {
    ...obj,
    spec: {
      ...(obj.spec as object),
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
      ],
    },
    status: {},
  };
  assert.equal(formatHPAMetrics(many), 'memory: <unknown>/512Mi, <unknown>/1k + 1 more...');
  assert.deepEqual(def.categories, ['all']);
});
