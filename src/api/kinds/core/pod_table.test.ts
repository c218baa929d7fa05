import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { podTable } from './pod_table.js';

const now = new Date('2024-05-01T12:00:00Z');
const created = '2024-05-01T11:00:00Z';

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'p', namespace: 'default', creationTimestamp: created, ...meta }, spec, status } as KubeObject;
}

const one = { containers: [{ name: 'c', image: 'x' }] };
const withInit = { initContainers: [{ name: 'i', image: 'x' }], containers: [{ name: 'c', image: 'x' }] };
const running = { running: { startedAt: created } };

const cases: Array<{ name: string; pod: KubeObject; want: [string, string, string] }> = [
  { name: 'pending, nothing reported', pod: pod(one, { phase: 'Pending' }), want: ['0/1', 'Pending', '0'] },
  { name: 'running and ready', pod: pod(one, { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: running }] }), want: ['1/1', 'Running', '0'] },
  {
    name: 'container creating',
    pod: pod(one, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }),
    want: ['0/1', 'ContainerCreating', '0'],
  },
  {
    name: 'crash loop with restart age',
    pod: pod(one, {
      phase: 'Running',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2024-05-01T11:55:00Z' } } },
      ],
    }),
    want: ['0/1', 'CrashLoopBackOff', '5 (5m ago)'],
  },
  { name: 'init running', pod: pod(withInit, { phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, state: running }] }), want: ['0/1', 'Init:0/1', '0'] },
  {
    name: 'init crash loop',
    pod: pod(withInit, { phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
    want: ['0/1', 'Init:CrashLoopBackOff', '2'],
  },
  {
    name: 'init failed',
    pod: pod(withInit, { phase: 'Pending', initContainerStatuses: [{ name: 'i', restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] }),
    want: ['0/1', 'Init:Error', '0'],
  },
  {
    name: 'init exit code without reason',
    pod: pod(withInit, { phase: 'Pending', initContainerStatuses: [{ name: 'i', restartCount: 0, state: { terminated: { exitCode: 2 } } }] }),
    want: ['0/1', 'Init:ExitCode:2', '0'],
  },
  {
    name: 'init done, main creating',
    pod: pod(withInit, {
      phase: 'Pending',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 'i', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    }),
    want: ['0/1', 'PodInitializing', '0'],
  },
  {
    name: 'completed',
    pod: pod(one, { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }),
    want: ['0/1', 'Completed', '0'],
  },
  {
    name: 'one completed, one running, not ready',
    pod: pod(
      { containers: [{ name: 'a' }, { name: 'b' }] },
      {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: running },
          { name: 'b', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
    ),
    want: ['1/2', 'NotReady', '0'],
  },
  {
    name: 'killed by signal',
    pod: pod(one, { phase: 'Failed', containerStatuses: [{ name: 'c', restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] }),
    want: ['0/1', 'Signal:9', '0'],
  },
  {
    name: 'exit code',
    pod: pod(one, { phase: 'Failed', containerStatuses: [{ name: 'c', restartCount: 0, state: { terminated: { exitCode: 3 } } }] }),
    want: ['0/1', 'ExitCode:3', '0'],
  },
  { name: 'evicted', pod: pod(one, { phase: 'Failed', reason: 'Evicted' }), want: ['0/1', 'Evicted', '0'] },
  {
    name: 'scheduling gated',
    pod: pod(one, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
    want: ['0/1', 'SchedulingGated', '0'],
  },
  {
    name: 'terminating',
    pod: pod(one, { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: running }] }, { deletionTimestamp: '2024-05-01T12:00:30Z' }),
    want: ['1/1', 'Terminating', '0'],
  },
  {
    name: 'node lost while terminating',
    pod: pod(one, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: '2024-05-01T12:00:30Z' }),
    want: ['0/1', 'Unknown', '0'],
  },
  {
    name: 'sidecar init container counts as ready',
    pod: pod(
      { initContainers: [{ name: 'i', restartPolicy: 'Always' }], containers: [{ name: 'c' }] },
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'i', ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { finishedAt: '2024-05-01T11:58:00Z' } } }],
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: running }],
      },
    ),
    want: ['2/2', 'Running', '1 (2m ago)'],
  },
];

for (const c of cases) {
  test(`pod STATUS: ${c.name}`, () => {
    const cells = podTable.cells(c.pod, now);
    assert.deepEqual(cells.slice(1, 4), c.want);
    assert.equal(cells[0], 'p');
    assert.equal(cells[4], '60m');
  });
}

test('pod wide cells', () => {
  const p = pod(
    { ...one, nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/ready' }] },
    { phase: 'Running', podIPs: [{ ip: '10.244.1.5' }], conditions: [{ type: 'example.com/ready', status: 'True' }] },
  );
  assert.deepEqual(podTable.cells(p, now).slice(5), ['10.244.1.5', 'node-1', '<none>', '1/1']);
  assert.deepEqual(podTable.cells(pod(one, {}), now).slice(5), ['<none>', '<none>', '<none>', '<none>']);
  assert.deepEqual(
    podTable.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ],
  );
  assert.equal(podTable.columns[0].format, 'name');
});
