import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { ERR_REASON, NAME, NodePorts, factory, wantedHostPorts } from './index.js';

/** A pod with host ports given as 'proto/ip/port' strings (ip may be empty). */
function portsPod(name: string, ...ports: string[]): Pod {
  const pod = makePod({ name });
  pod.spec!.containers[0]!.ports = ports.map((p) => {
    const [protocol, hostIP, port] = p.split('/');
    return { containerPort: Number(port), hostPort: Number(port), protocol, ...(hostIP ? { hostIP } : {}) };
  });
  return pod;
}

test('NodePorts filter (upstream cases)', () => {
  const pl = factory(undefined, fakeHandle()) as NodePorts;
  assert.equal(NAME, 'NodePorts');
  const cases: { name: string; pod: Pod; existing: Pod[]; fits: boolean }[] = [
    { name: 'nothing running', pod: portsPod('p', 'UDP/127.0.0.1/8080'), existing: [], fits: true },
    { name: 'other port', pod: portsPod('p', 'UDP/127.0.0.1/8080'), existing: [portsPod('e', 'UDP/127.0.0.1/9090')], fits: true },
    { name: 'same udp port', pod: portsPod('p', 'UDP/127.0.0.1/8080'), existing: [portsPod('e', 'UDP/127.0.0.1/8080')], fits: false },
    { name: 'same tcp port', pod: portsPod('p', 'TCP/127.0.0.1/8080'), existing: [portsPod('e', 'TCP/127.0.0.1/8080')], fits: false },
    { name: 'different protocol', pod: portsPod('p', 'TCP/127.0.0.1/8080'), existing: [portsPod('e', 'UDP/127.0.0.1/8080')], fits: true },
    { name: 'different host ip', pod: portsPod('p', 'TCP/127.0.0.2/8080'), existing: [portsPod('e', 'TCP/127.0.0.1/8080')], fits: true },
    { name: 'second port conflicts', pod: portsPod('p', 'UDP/127.0.0.1/8080', 'TCP/127.0.0.1/8081'), existing: [portsPod('e', 'TCP/127.0.0.1/8081')], fits: false },
    { name: 'wanted 0.0.0.0 vs specific ip', pod: portsPod('p', 'TCP/0.0.0.0/8001'), existing: [portsPod('e', 'TCP/127.0.0.1/8001')], fits: false },
    { name: 'wanted empty ip = 0.0.0.0', pod: portsPod('p', 'TCP//8001'), existing: [portsPod('e', 'TCP/10.0.0.1/8001')], fits: false },
    { name: 'wanted specific ip vs existing 0.0.0.0', pod: portsPod('p', 'TCP/127.0.0.1/8001'), existing: [portsPod('e', 'TCP/0.0.0.0/8001')], fits: false },
    { name: '0.0.0.0 but other protocol', pod: portsPod('p', 'UDP/0.0.0.0/8001'), existing: [portsPod('e', 'TCP/127.0.0.1/8001')], fits: true },
    { name: 'both 0.0.0.0 other port', pod: portsPod('p', 'TCP/0.0.0.0/8002'), existing: [portsPod('e', 'TCP/0.0.0.0/8001')], fits: true },
    { name: 'SCTP port', pod: portsPod('p', 'SCTP/0.0.0.0/9000'), existing: [portsPod('e', 'SCTP/0.0.0.0/9000')], fits: false },
  ];
  for (const c of cases) {
    const state = new CycleState();
    const pi = podInfo(c.pod);
    const pre = pl.preFilter(state, pi);
    assert.equal(pre.status, undefined, c.name);
    const s = pl.filter(state, pi, makeNodeInfo(makeNode('n'), c.existing));
    if (c.fits) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.Unschedulable, c.name);
      assert.deepEqual(s?.reasons, [ERR_REASON], c.name);
    }
  }
});

test('NodePorts preFilter skips pods without host ports', () => {
  const pod = makePod();
  pod.spec!.containers[0]!.ports = [{ containerPort: 80 }];
  assert.equal(new NodePorts().preFilter(new CycleState(), podInfo(pod)).status?.code, Code.Skip);
});

test('NodePorts hint on pod deletion', () => {
  const [delEv, nodeEv] = new NodePorts().eventsToRegister();
  assert.equal(nodeEv!.hint, undefined);
  const pod = portsPod('p', 'TCP/0.0.0.0/80');
  const assigned = (p: Pod) => ({ ...p, spec: { ...p.spec!, nodeName: 'n' } });
  assert.equal(delEv!.hint!(pod, assigned(portsPod('e', 'TCP/10.0.0.1/80')), undefined), 'Queue', 'frees a conflicting port');
  assert.equal(delEv!.hint!(pod, assigned(portsPod('e', 'TCP/10.0.0.1/81')), undefined), 'QueueSkip', 'frees another port');
  assert.equal(delEv!.hint!(pod, portsPod('e', 'TCP/10.0.0.1/80'), undefined), 'QueueSkip', 'unassigned pod');
  assert.equal(delEv!.hint!(pod, assigned(makePod({ name: 'e' })), undefined), 'QueueSkip', 'no host ports');
});

test('NodePorts wanted ports: containers and sidecar init containers only', () => {
  const pod = portsPod('p', 'TCP//80');
  pod.spec!.initContainers = [
    { name: 'sidecar', restartPolicy: 'Always', ports: [{ containerPort: 81, hostPort: 81 }] },
    { name: 'init', ports: [{ containerPort: 82, hostPort: 82 }] },
  ];
  assert.deepEqual(wantedHostPorts(pod), [
    { ip: '0.0.0.0', protocol: 'TCP', port: 81 },
    { ip: '0.0.0.0', protocol: 'TCP', port: 80 },
  ]);
});
