import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/status.js';
import { ActionType } from '../../framework/types.js';
import { fakeHandle, makePod } from '../helpers/testing.js';
import { NAME, SchedulingGates, factory } from './index.js';

test('SchedulingGates.preEnqueue', () => {
  const pl = factory(undefined, fakeHandle()) as SchedulingGates;
  assert.equal(pl.name, NAME);
  assert.equal(NAME, 'SchedulingGates');
  const cases = [
    { name: 'no gates', gates: undefined, want: undefined },
    { name: 'empty gates', gates: [], want: undefined },
    { name: 'one gate', gates: ['foo'], want: 'waiting for scheduling gates: [foo]' },
    { name: 'two gates', gates: ['foo', 'example.com/bar'], want: 'waiting for scheduling gates: [foo example.com/bar]' },
  ];
  for (const c of cases) {
    const pod = makePod({ spec: c.gates ? { schedulingGates: c.gates.map((name) => ({ name })) } : {} });
    const s = pl.preEnqueue(pod);
    if (c.want === undefined) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.Pending, c.name);
      assert.deepEqual(s?.reasons, [c.want], c.name);
    }
  }
});

test('SchedulingGates events: only the pod itself losing its gates', () => {
  const pl = new SchedulingGates();
  const [ev] = pl.eventsToRegister();
  assert.equal(ev!.event.actionType, ActionType.UpdatePodSchedulingGatesEliminated);
  const pod = makePod({ name: 'a' });
  assert.equal(ev!.hint!(pod, pod, makePod({ name: 'a' })), 'Queue');
  assert.equal(ev!.hint!(pod, undefined, makePod({ name: 'b' })), 'QueueSkip');
});
