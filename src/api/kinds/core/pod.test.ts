import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../../apimachinery/errors.js';
import type { KubeObject } from '../../resource.js';
import { fakeContext } from './fake_context.js';
import { applyPodBinding, podGracePeriod, podQOSClass, podResource, validatePodBinding } from './pod.js';
import { imageTag } from './pod_defaults.js';
import { validatePodSpec } from './pod_validation.js';

const strategy = podResource.strategy!;

function pod(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec, ...extra } as KubeObject;
}

async function create(p: KubeObject, ctx = fakeContext()): Promise<KubeObject> {
  await strategy.default!(p, ctx);
  await strategy.prepareForCreate!(p, ctx);
  return p;
}

test('pod defaults and create-time admission', async () => {
  const p = await create(pod({ containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] }));
  const spec = p.spec as Record<string, any>;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.deepEqual(spec.securityContext, {});
  assert.equal(spec.enableServiceLinks, true);
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.serviceAccount, 'default');
  assert.equal(spec.priority, 0);
  assert.equal(spec.preemptionPolicy, 'PreemptLowerPriority');
  const c = spec.containers[0];
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.deepEqual(c.resources, {});
  assert.equal(c.ports[0].protocol, 'TCP');
  assert.deepEqual(spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  assert.deepEqual(p.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.deepEqual(strategy.validate!(p), []);
});

test('image tags decide the pull policy', () => {
  const cases: Array<[string, string]> = [
    ['nginx', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.25', '1.25'],
    ['localhost:5000/nginx', 'latest'],
    ['localhost:5000/nginx:1', '1'],
    ['nginx@sha256:abcd', ''],
    ['nginx:1@sha256:abcd', '1'],
  ];
  for (const [image, tag] of cases) assert.equal(imageTag(image), tag, image);
});

test('existing tolerations suppress the defaults', async () => {
  const p = await create(
    pod({ containers: [{ name: 'c', image: 'x:1' }], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] }),
  );
  const tols = (p.spec as any).tolerations;
  assert.equal(tols.length, 2);
  assert.equal(tols[1].key, 'node.kubernetes.io/unreachable');
  const q = await create(pod({ containers: [{ name: 'c', image: 'x:1' }], tolerations: [{ operator: 'Exists' }] }));
  assert.deepEqual((q.spec as any).tolerations, [{ operator: 'Exists' }]);
});

test('priority from a PriorityClass, the global default, built-ins, and errors', async () => {
  const ctx = fakeContext();
  ctx.put('scheduling.k8s.io', 'priorityclasses', undefined, { metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' } as KubeObject);
  const a = await create(pod({ containers: [{ name: 'c', image: 'x:1' }], priorityClassName: 'high' }), ctx);
  assert.equal((a.spec as any).priority, 1000);
  assert.equal((a.spec as any).preemptionPolicy, 'Never');

  const b = await create(pod({ containers: [{ name: 'c', image: 'x:1' }], priorityClassName: 'system-node-critical' }), ctx);
  assert.equal((b.spec as any).priority, 2000001000);

  await assert.rejects(create(pod({ containers: [{ name: 'c', image: 'x:1' }], priorityClassName: 'nope' }), ctx), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 403);
    assert.equal(e.message, 'pods "web" is forbidden: no PriorityClass with name nope was found');
    return true;
  });
  await assert.rejects(create(pod({ containers: [{ name: 'c', image: 'x:1' }], priorityClassName: 'high', priority: 5 }), ctx), /must not be provided in pod spec/);

  ctx.put('scheduling.k8s.io', 'priorityclasses', undefined, { metadata: { name: 'dflt' }, value: 7, globalDefault: true } as KubeObject);
  const c = await create(pod({ containers: [{ name: 'c', image: 'x:1' }] }), ctx);
  assert.equal((c.spec as any).priority, 7);
  assert.equal((c.spec as any).priorityClassName, 'dflt');
});

test('QoS classes', async () => {
  const best = podQOSClass({ containers: [{ name: 'a' }] });
  assert.equal(best, 'BestEffort');
  const burst = podQOSClass({ containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }] });
  assert.equal(burst, 'Burstable');
  const p = await create(pod({ containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '0.5', memory: '128Mi' } } }] }));
  assert.deepEqual((p.spec as any).containers[0].resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
  assert.equal((p.status as any).qosClass, 'Guaranteed');
  const partial = podQOSClass({
    containers: [
      { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } },
      { resources: { limits: { cpu: '1' }, requests: { cpu: '1' } } },
    ],
  });
  assert.equal(partial, 'Burstable');
});

const validationCases: Array<{ name: string; spec: Record<string, unknown>; want: Array<[string, string]> }> = [
  { name: 'no containers', spec: { containers: [] }, want: [['FieldValueRequired', 'spec.containers']] },
  { name: 'no image', spec: { containers: [{ name: 'c' }] }, want: [['FieldValueRequired', 'spec.containers[0].image']] },
  { name: 'bad name', spec: { containers: [{ name: 'C_1', image: 'x' }] }, want: [['FieldValueInvalid', 'spec.containers[0].name']] },
  {
    name: 'duplicate names across init and regular',
    spec: { containers: [{ name: 'c', image: 'x' }], initContainers: [{ name: 'c', image: 'x' }] },
    want: [['FieldValueDuplicate', 'spec.initContainers[0].name']],
  },
  { name: 'bad port', spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 70000 }] }] }, want: [['FieldValueInvalid', 'spec.containers[0].ports[0].containerPort']] },
  { name: 'bad protocol', spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, protocol: 'ICMP' }] }] }, want: [['FieldValueNotSupported', 'spec.containers[0].ports[0].protocol']] },
  { name: 'bad restartPolicy', spec: { containers: [{ name: 'c', image: 'x' }], restartPolicy: 'Sometimes' }, want: [['FieldValueNotSupported', 'spec.restartPolicy']] },
  { name: 'bad dnsPolicy', spec: { containers: [{ name: 'c', image: 'x' }], dnsPolicy: 'Google' }, want: [['FieldValueNotSupported', 'spec.dnsPolicy']] },
  {
    name: 'requests above limits',
    spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '100m' }, requests: { cpu: '200m' } } }] },
    want: [['FieldValueInvalid', 'spec.containers[0].resources.requests[cpu]']],
  },
  {
    name: 'unknown resource',
    spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { gpu: '1' } } }] },
    want: [
      ['FieldValueInvalid', 'spec.containers[0].resources.limits[gpu]'],
      ['FieldValueInvalid', 'spec.containers[0].resources.requests[gpu]'],
    ],
  },
  {
    name: 'duplicate volumes and two sources',
    spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] },
    want: [
      ['FieldValueDuplicate', 'spec.volumes[1].name'],
      ['FieldValueForbidden', 'spec.volumes[1].emptyDir'],
    ],
  },
  { name: 'volume without source defaults to emptyDir', spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v' }] }, want: [] },
  {
    name: 'mount of unknown volume',
    spec: { containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'nope', mountPath: '/data' }] }] },
    want: [['FieldValueNotFound', 'spec.containers[0].volumeMounts[0].name']],
  },
  { name: 'secret volume needs name', spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', secret: {} }] }, want: [['FieldValueRequired', 'spec.volumes[0].secret.secretName']] },
  {
    name: 'toleration seconds without NoExecute',
    spec: { containers: [{ name: 'c', image: 'x' }], tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] },
    want: [['FieldValueInvalid', 'spec.tolerations[0].effect']],
  },
  { name: 'bad nodeSelector', spec: { containers: [{ name: 'c', image: 'x' }], nodeSelector: { 'a b': 'c' } }, want: [['FieldValueInvalid', 'spec.nodeSelector']] },
  { name: 'probe without handler', spec: { containers: [{ name: 'c', image: 'x', livenessProbe: { periodSeconds: 3 } }] }, want: [['FieldValueRequired', 'spec.containers[0].livenessProbe']] },
];

for (const c of validationCases) {
  test(`pod validation: ${c.name}`, async () => {
    const p = pod(c.spec);
    await strategy.default!(p, fakeContext());
    const errs = strategy.validate!(p);
    assert.deepEqual(
      errs.map((e) => [e.type, e.field]),
      c.want,
      JSON.stringify(errs, null, 1),
    );
  });
}

test('validatePodSpec without defaults', () => {
  const errs = validatePodSpec({ containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v' }] }, 'spec.template.spec');
  assert.deepEqual(
    errs.map((e) => [e.type, e.field]),
    [
      ['FieldValueRequired', 'spec.template.spec.volumes[0]'],
      ['FieldValueRequired', 'spec.template.spec.restartPolicy'],
      ['FieldValueRequired', 'spec.template.spec.dnsPolicy'],
    ],
  );
  assert.equal(errs[0].message, 'Required value: must specify a volume type');
});

test('requests above limits message', async () => {
  const p = pod({ containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '100m' }, requests: { cpu: '200m' } } }] });
  await strategy.default!(p, fakeContext());
  assert.equal(strategy.validate!(p)[0].message, 'Invalid value: "200m": must be less than or equal to cpu limit of 100m');
});

test('pod update rules', async () => {
  const old = await create(pod({ containers: [{ name: 'c', image: 'nginx:1', ports: [{ containerPort: 80 }] }], activeDeadlineSeconds: 100 }));
  const upd = (f: (s: any) => void) => {
    const n = structuredClone(old);
    f(n.spec);
    return strategy.validateUpdate!(n, old).map((e) => [e.type, e.field]);
  };
  assert.deepEqual(upd((s) => (s.containers[0].image = 'nginx:2')), []);
  assert.deepEqual(upd((s) => (s.activeDeadlineSeconds = 50)), []);
  assert.deepEqual(upd((s) => (s.activeDeadlineSeconds = 200)), [['FieldValueInvalid', 'spec.activeDeadlineSeconds']]);
  assert.deepEqual(upd((s) => s.tolerations.push({ key: 'x', operator: 'Exists' })), []);
  assert.deepEqual(upd((s) => (s.tolerations[0].tolerationSeconds = 10)), []);
  assert.deepEqual(upd((s) => (s.tolerations[0].key = 'other')), [['FieldValueForbidden', 'spec.tolerations']]);
  const errs = (() => {
    const n = structuredClone(old);
    (n.spec as any).containers[0].ports[0].containerPort = 81;
    return strategy.validateUpdate!(n, old);
  })();
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec');
  assert.match(errs[0].message, /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  assert.match(errs[0].message, /spec.containers\[0\].ports\[0\].containerPort: 80 -> 81/);
});

test('pod status update rules', () => {
  const old = pod({ restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] }, { status: { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0 } } }] } });
  const n = structuredClone(old);
  (n.status as any).containerStatuses[0].state = { running: {} };
  (n.status as any).podIP = '10.0.0.300';
  assert.deepEqual(
    strategy.validateStatusUpdate!(n, old).map((e) => e.field),
    ['status.podIP', 'status.containerStatuses[0].state'],
  );
});

test('graceful deletion period', () => {
  const scheduled = pod({ nodeName: 'n1', terminationGracePeriodSeconds: 45 });
  assert.equal(podGracePeriod(scheduled, undefined), 45);
  assert.equal(podGracePeriod(scheduled, 5), 5);
  assert.equal(podGracePeriod(scheduled, 0), 0);
  assert.equal(podGracePeriod(scheduled, -3), 1);
  assert.equal(podGracePeriod(pod({ nodeName: 'n1' }), undefined), 30);
  assert.equal(podGracePeriod(pod({ terminationGracePeriodSeconds: 45 }), undefined), 0);
  assert.equal(podGracePeriod(pod({ nodeName: 'n1' }, { status: { phase: 'Succeeded' } }), 10), 0);
});

test('pod field selectors', () => {
  const p = pod({ nodeName: 'n1', restartPolicy: 'Never', schedulerName: 's', serviceAccountName: 'sa', hostNetwork: true }, { status: { phase: 'Running', podIPs: [{ ip: '10.1.0.5' }] } });
  const fs = podResource.fieldSelectors!;
  assert.equal(fs['spec.nodeName'](p), 'n1');
  assert.equal(fs['spec.hostNetwork'](p), 'true');
  assert.equal(fs['status.phase'](p), 'Running');
  assert.equal(fs['status.podIP'](p), '10.1.0.5');
  assert.equal(fs['status.nominatedNodeName'](p), '');
  assert.equal(fs['spec.nodeName'](pod({})), '');
  assert.equal(fs['spec.hostNetwork'](pod({})), 'false');
});

test('pod binding', () => {
  const p = pod({ containers: [{ name: 'c', image: 'x' }] }, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } });
  const binding = { metadata: { name: 'web', annotations: { a: 'b' } }, target: { kind: 'Node', name: 'n1' } } as KubeObject;
  assert.deepEqual(validatePodBinding(binding), []);
  assert.deepEqual(validatePodBinding({ target: { kind: 'Pod' } }).map((e) => e.field), ['target.kind', 'target.name']);
  applyPodBinding(p, binding, new Date('2024-05-01T12:00:00Z'));
  assert.equal((p.spec as any).nodeName, 'n1');
  assert.deepEqual(p.metadata.annotations, { a: 'b' });
  assert.deepEqual((p.status as any).conditions, [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-05-01T12:00:00Z' }]);
  assert.throws(() => applyPodBinding(p, binding, new Date()), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 409);
    assert.equal(e.message, 'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "n1"');
    return true;
  });
});
