import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/status.js';
import { CycleState } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { ERR_REASON, NAME, NodeName, factory } from './index.js';

test('NodeName.filter', () => {
  const pl = factory(undefined, fakeHandle()) as NodeName;
  assert.equal(NAME, 'NodeName');
  const cases = [
    { name: 'no node name', nodeName: undefined, node: 'foo', fits: true },
    { name: 'same node', nodeName: 'foo', node: 'foo', fits: true },
    { name: 'other node', nodeName: 'bar', node: 'foo', fits: false },
  ];
  for (const c of cases) {
    const s = pl.filter(new CycleState(), podInfo(makePod({ nodeName: c.nodeName })), makeNodeInfo(makeNode(c.node)));
    if (c.fits) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, [ERR_REASON], c.name);
    }
  }
});

test('NodeName.preFilter narrows to the named node', () => {
  const pl = new NodeName();
  assert.equal(pl.preFilter(new CycleState(), podInfo(makePod())).status?.code, Code.Skip);
  const r = pl.preFilter(new CycleState(), podInfo(makePod({ nodeName: 'foo' })));
  assert.equal(r.status, undefined);
  assert.deepEqual([...r.result!.nodeNames!], ['foo']);
});

test('NodeName hint: only the named node being added', () => {
  const [ev] = new NodeName().eventsToRegister();
  assert.equal(ev!.hint!(makePod({ nodeName: 'foo' }), undefined, makeNode('foo')), 'Queue');
  assert.equal(ev!.hint!(makePod({ nodeName: 'foo' }), undefined, makeNode('bar')), 'QueueSkip');
  assert.equal(ev!.hint!(makePod(), undefined, makeNode('bar')), 'Queue');
});
