import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import { SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { CidrSet, NO_CIDRS_REMAINING, cidrSetsFor, formatIP, startNodeIPAMController, type NodeIPAMController } from './index.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS = { group: '', version: 'v1', resource: 'events' };
let cp: TestControlPlane;
const errors: unknown[] = [];

before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
});
after(async () => {
  await cp.stop();
});

/** Starts a controller (its own informers) on a 4-subnet range; returns it and its stop function. */
async function start(): Promise<{ ctl: NodeIPAMController; stop: () => Promise<void> }> {
  const ac = new AbortController();
  const ctl = await startNodeIPAMController({
    client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal,
    clusterCIDR: '10.250.0.0/22', nodeCIDRMaskSize: 24, onError: (_k, e) => errors.push(e),
  });
  return { ctl, stop: async () => { ac.abort(); await ctl.done; } };
}
const mkNode = (name: string) => cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
const cidrOf = (name: string) => eventually(`${name} has a podCIDR`, async () => (await cp.client.get<Node>(NODES, name)).spec?.podCIDR);

test('CidrSet allocates round-robin, occupies, releases and refuses what is out of range', () => {
  const s = new CidrSet('10.1.0.0/23', 24);
  assert.equal(s.size, 2);
  assert.equal(s.allocateNext(), '10.1.0.0/24');
  assert.equal(s.allocateNext(), '10.1.1.0/24');
  assert.throws(() => s.allocateNext(), { message: NO_CIDRS_REMAINING });
  s.release('10.1.0.0/24');
  assert.equal(s.allocatedCount, 1);
  assert.equal(s.allocateNext(), '10.1.0.0/24');
  assert.throws(() => s.occupy('10.2.0.0/24'), /out the range of cluster cidr 10.1.0.0\/23/);
  s.release('10.1.0.0/23');
  assert.equal(s.allocatedCount, 0);
  s.occupy('10.1.1.0/24');
  assert.equal(s.allocateNext(), '10.1.0.0/24');
  const v6 = new CidrSet('fd00:10::/56', 64);
  assert.equal(v6.allocateNext(), 'fd00:10::/64');
  assert.equal(v6.allocateNext(), 'fd00:10:0:1::/64');
  assert.equal(formatIP(0n, 128), '::');
  assert.throws(() => new CidrSet('10.0.0.0/8', 25), /subnet mask size too big/);
  assert.throws(() => new CidrSet('10.0.0.0/24', 16), /does not fit/);
  assert.deepEqual(cidrSetsFor({}).map((x) => [x.clusterCIDR, x.nodeMaskSize]), [['10.244.0.0/16', 24]]);
  assert.deepEqual(cidrSetsFor({ clusterCIDR: '10.42.0.0/16,fd00:42::/56' }).map((x) => [x.clusterCIDR, x.nodeMaskSize]), [['10.42.0.0/16', 24], ['fd00:42::/56', 64]]);
  assert.throws(() => cidrSetsFor({ clusterCIDR: '10.42.0.0/16,10.43.0.0/16' }), /one IPv4 and one IPv6/);
});

test('nodes get distinct subnets, kept across a restart, released on delete; exhaustion is an event', async () => {
  let c = await start();
  await mkNode('n1');
  await mkNode('n2');
  const [a1, a2] = [await cidrOf('n1'), await cidrOf('n2')];
  assert.notEqual(a1, a2);
  for (const [n, cidr] of [['n1', a1], ['n2', a2]] as const) {
    assert.match(cidr, /^10\.250\.[0-3]\.0\/24$/);
    assert.deepEqual((await cp.client.get<Node>(NODES, n)).spec!.podCIDRs, [cidr]);
  }
  await c.stop();
  await mkNode('n3'); // created while no allocator runs
  c = await start(); // the new allocator marks n1 and n2 used before allocating
  assert.equal(c.ctl.allocator.sets[0]!.allocatedCount >= 2, true);
  const a3 = await cidrOf('n3');
  await mkNode('n4');
  const a4 = await cidrOf('n4');
  assert.equal(new Set([a1, a2, a3, a4]).size, 4);
  await mkNode('n5');
  const ev = await eventually('CIDRNotAvailable event', async () =>
    (await cp.client.list<Event>({ ...EVENTS, namespace: 'default' })).items.find((e) => e.involvedObject.name === 'n5' && e.reason === 'CIDRNotAvailable'));
  assert.equal(ev.message, 'Node n5 status is now: CIDRNotAvailable');
  assert.equal(ev.involvedObject.kind, 'Node');
  assert.equal((await cp.client.get<Node>(NODES, 'n5')).spec?.podCIDR, undefined);
  await cp.client.delete(NODES, 'n1');
  assert.equal(await cidrOf('n5'), a1); // n1's subnet was released and handed to the waiting node
  await c.stop();
  assert.deepEqual(errors, []);
});
