import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { RestClient } from './rest.js';
import { LeaderElector, microTime, type Lease } from './leaderelection.js';

let cp: TestControlPlane;
let client: RestClient;
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'default' };

// One in-process control plane (k8ts/testing) for the tests of this file.
before(async () => {
  cp = await startTestControlPlane();
  client = cp.client;
});

after(async () => {
  await cp.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Candidate {
  el: LeaderElector;
  ac: AbortController;
  run: Promise<void>;
  leading: boolean;
  started: number;
  stopped: number;
}

function candidate(name: string, identity: string, releaseOnCancel = false, leaseDurationMs = 600): Candidate {
  const c = { ac: new AbortController(), leading: false, started: 0, stopped: 0 } as Candidate;
  c.el = new LeaderElector({
    client,
    namespace: 'default',
    name,
    identity,
    leaseDurationMs,
    renewDeadlineMs: 400,
    retryPeriodMs: 100,
    releaseOnCancel,
    onStartedLeading: () => {
      c.leading = true;
      c.started++;
    },
    onStoppedLeading: () => {
      c.leading = false;
      c.stopped++;
    },
  });
  c.run = c.el.run(c.ac.signal);
  return c;
}

test('microTime has microsecond precision', () => {
  assert.equal(microTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
});

test('two electors on one lease: exactly one leads, the other takes over when it stops renewing', async () => {
  const a = candidate('le1', 'a');
  const b = candidate('le1', 'b');
  await waitFor(() => a.leading || b.leading, 'a leader');
  // Let several retry periods pass: the follower must stay a follower while the leader renews.
  let both = false;
  for (let i = 0; i < 30; i++) {
    if (a.leading && b.leading) both = true;
    await sleep(20);
  }
  assert.equal(both, false, 'never two leaders');
  const [leader, follower] = a.leading ? [a, b] : [b, a];
  assert.equal(follower.leading, false);
  let lease = await client.get<Lease>(LEASES, 'le1');
  assert.equal(lease.spec?.holderIdentity, leader.el === a.el ? 'a' : 'b');
  assert.equal(lease.spec?.leaseDurationSeconds, 1);
  assert.match(lease.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.match(lease.spec?.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const transitions = lease.spec?.leaseTransitions ?? 0;
  // The leader stops renewing (no release): the follower waits out the lease, then takes over.
  leader.ac.abort();
  await leader.run;
  assert.equal(leader.stopped, 1);
  await waitFor(() => follower.leading, 'takeover');
  lease = await client.get<Lease>(LEASES, 'le1');
  assert.equal(lease.spec?.holderIdentity, follower.el === a.el ? 'a' : 'b');
  assert.equal(lease.spec?.leaseTransitions, transitions + 1);
  follower.ac.abort();
  await follower.run;
  assert.equal(follower.started, 1);
  assert.equal(follower.stopped, 1);
});

test('a leader whose renewals fail past renewDeadline gives up leadership', async () => {
  const a = candidate('le2', 'a');
  await waitFor(() => a.leading, 'a leads');
  // Someone else takes the lease by force; a's renewals now fail.
  const lease = await client.get<Lease>(LEASES, 'le2');
  await client.update(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 30, renewTime: microTime(Date.now()) } });
  await waitFor(() => !a.leading, 'a gives up', 3000);
  await a.run;
  assert.equal(a.stopped, 1);
  assert.equal(a.el.isLeader(), false);
  assert.equal(a.el.getLeader(), 'intruder');
});

test('release on cancel clears the holder so another candidate takes over at once', async () => {
  const a = candidate('le3', 'a', true, 5000);
  await waitFor(() => a.leading, 'a leads');
  const b = candidate('le3', 'b', false, 5000);
  await sleep(150);
  assert.equal(b.leading, false);
  const t0 = Date.now();
  a.ac.abort();
  await a.run;
  const released = await client.get<Lease>(LEASES, 'le3');
  assert.ok(!released.spec?.holderIdentity, 'holder cleared');
  await waitFor(() => b.leading, 'b takes over');
  assert.ok(Date.now() - t0 < 2500, 'takeover did not wait for the 5s lease to expire');
  const lease = await client.get<Lease>(LEASES, 'le3');
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.equal(lease.spec?.leaseTransitions, 1);
  b.ac.abort();
  await b.run;
});
