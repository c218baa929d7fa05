import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import { CompiledNodeSelector, CompiledPreferredTerms, RequiredNodeAffinity } from './nodeselector.js';
import { makeNode, makePod } from './testing.js';

const node = makeNode('node-1', { labels: { zone: 'a', gpu: 'true', cores: '8', 'constructor': 'x' } });
const expr = (key: string, operator: string, values?: string[]): NodeSelectorRequirement => ({ key, operator, ...(values ? { values } : {}) });

test('matchExpressions operators', () => {
  const cases: { name: string; e: NodeSelectorRequirement; want: boolean }[] = [
    { name: 'In match', e: expr('zone', 'In', ['b', 'a']), want: true },
    { name: 'In single', e: expr('zone', 'In', ['a']), want: true },
    { name: 'In miss', e: expr('zone', 'In', ['b']), want: false },
    { name: 'In absent key', e: expr('region', 'In', ['a']), want: false },
    { name: 'NotIn match', e: expr('zone', 'NotIn', ['b']), want: true },
    { name: 'NotIn miss', e: expr('zone', 'NotIn', ['a', 'b']), want: false },
    { name: 'NotIn absent key matches', e: expr('region', 'NotIn', ['a']), want: true },
    { name: 'Exists', e: expr('gpu', 'Exists'), want: true },
    { name: 'Exists absent', e: expr('region', 'Exists'), want: false },
    { name: 'DoesNotExist absent', e: expr('region', 'DoesNotExist'), want: true },
    { name: 'DoesNotExist present', e: expr('gpu', 'DoesNotExist'), want: false },
    { name: 'Gt true', e: expr('cores', 'Gt', ['4']), want: true },
    { name: 'Gt equal is false', e: expr('cores', 'Gt', ['8']), want: false },
    { name: 'Lt true', e: expr('cores', 'Lt', ['10']), want: true },
    { name: 'Lt false', e: expr('cores', 'Lt', ['8']), want: false },
    { name: 'Gt on non-integer label', e: expr('zone', 'Gt', ['1']), want: false },
    { name: 'Gt on absent label', e: expr('region', 'Gt', ['1']), want: false },
    { name: 'Gt with two values is invalid', e: expr('cores', 'Gt', ['1', '2']), want: false },
    { name: 'Gt with non-integer value is invalid', e: expr('cores', 'Gt', ['x']), want: false },
    { name: 'Gt with negative value is not a valid label value', e: expr('cores', 'Gt', ['-5']), want: false },
    { name: 'In with invalid label value', e: expr('zone', 'In', ['a', '-bad-']), want: false },
    { name: 'In with no values is invalid', e: expr('zone', 'In', []), want: false },
    { name: 'Exists with values is invalid', e: expr('zone', 'Exists', ['a']), want: false },
    { name: 'unknown operator', e: expr('zone', 'Equals', ['a']), want: false },
    { name: 'prototype key name is a label', e: expr('constructor', 'In', ['x']), want: true },
    { name: 'prototype key absent', e: expr('toString', 'Exists'), want: false },
  ];
  for (const c of cases) {
    const sel = new CompiledNodeSelector({ nodeSelectorTerms: [{ matchExpressions: [c.e] }] });
    assert.equal(sel.matches(node), c.want, c.name);
  }
});

test('terms are ORed, requirements ANDed, empty and invalid terms match nothing', () => {
  const cases: { name: string; terms: NodeSelectorTerm[]; want: boolean; errors?: number }[] = [
    { name: 'no terms', terms: [], want: false },
    { name: 'empty term', terms: [{}], want: false },
    { name: 'empty term OR matching term', terms: [{}, { matchExpressions: [expr('zone', 'In', ['a'])] }], want: true },
    { name: 'AND fails', terms: [{ matchExpressions: [expr('zone', 'In', ['a']), expr('gpu', 'In', ['false'])] }], want: false },
    {
      name: 'invalid term skipped, valid term matches',
      terms: [{ matchExpressions: [expr('zone', 'Bad')] }, { matchExpressions: [expr('gpu', 'Exists')] }],
      want: true,
      errors: 1,
    },
    { name: 'matchFields name In', terms: [{ matchFields: [expr('metadata.name', 'In', ['node-1'])] }], want: true },
    { name: 'matchFields name In other', terms: [{ matchFields: [expr('metadata.name', 'In', ['node-2'])] }], want: false },
    { name: 'matchFields name NotIn', terms: [{ matchFields: [expr('metadata.name', 'NotIn', ['node-2'])] }], want: true },
    { name: 'matchFields two values invalid', terms: [{ matchFields: [expr('metadata.name', 'In', ['node-1', 'node-2'])] }], want: false, errors: 1 },
    { name: 'matchFields other key invalid', terms: [{ matchFields: [expr('metadata.uid', 'In', ['x'])] }], want: false, errors: 1 },
    { name: 'matchFields Exists invalid', terms: [{ matchFields: [expr('metadata.name', 'Exists')] }], want: false, errors: 1 },
    {
      name: 'fields AND labels',
      terms: [{ matchFields: [expr('metadata.name', 'In', ['node-1'])], matchExpressions: [expr('zone', 'In', ['b'])] }],
      want: false,
    },
  ];
  for (const c of cases) {
    const sel = new CompiledNodeSelector({ nodeSelectorTerms: c.terms });
    assert.equal(sel.matches(node), c.want, c.name);
    assert.equal(sel.errors.length, c.errors ?? 0, `${c.name}: ${sel.errors.join('; ')}`);
  }
});

test('error paths name the term', () => {
  const sel = new CompiledNodeSelector({ nodeSelectorTerms: [{}, { matchExpressions: [expr('zone', 'Bad')] }] }, 'addedAffinity.required');
  assert.match(sel.errors[0]!, /^addedAffinity\.required\.nodeSelectorTerms\[1\]\.matchExpressions\[0\]\.operator: Invalid value: "Bad"/);
});

test('preferred terms sum matching weights; weight 0 ignored', () => {
  const pref = new CompiledPreferredTerms([
    { weight: 5, preference: { matchExpressions: [expr('zone', 'In', ['a'])] } },
    { weight: 3, preference: { matchExpressions: [expr('gpu', 'Exists')] } },
    { weight: 0, preference: { matchExpressions: [expr('gpu', 'Exists')] } },
    { weight: 7, preference: { matchExpressions: [expr('zone', 'In', ['b'])] } },
    { weight: 9, preference: {} },
  ]);
  assert.equal(pref.score(node), 8);
  assert.deepEqual(pref.errors, []);
});

test('required node affinity: nodeSelector AND required terms', () => {
  const cases: { name: string; pod: Parameters<typeof makePod>[0]; want: boolean }[] = [
    { name: 'nothing', pod: {}, want: true },
    { name: 'nodeSelector match', pod: { nodeSelector: { zone: 'a' } }, want: true },
    { name: 'nodeSelector miss', pod: { nodeSelector: { zone: 'a', gpu: 'false' } }, want: false },
    { name: 'empty nodeSelector', pod: { nodeSelector: {} }, want: true },
    {
      name: 'nodeSelector match, affinity miss',
      pod: {
        nodeSelector: { zone: 'a' },
        spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr('gpu', 'DoesNotExist')] }] } } } },
      },
      want: false,
    },
    {
      name: 'required with no terms matches nothing',
      pod: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } } },
      want: false,
    },
  ];
  for (const c of cases) assert.equal(new RequiredNodeAffinity(makePod(c.pod)).match(node), c.want, c.name);
  const bare = makeNode('bare');
  delete bare.metadata!.labels;
  assert.equal(new RequiredNodeAffinity(makePod({ nodeSelector: { zone: 'a' } })).match(bare), false, 'node without labels');
  assert.equal(new RequiredNodeAffinity(makePod({})).match(bare), true, 'no constraints, node without labels');
});
