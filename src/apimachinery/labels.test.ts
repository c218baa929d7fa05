import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import {
  everything,
  formatLabelSelector,
  looseLabelSelector,
  printLabelSelector,
  nothing,
  parseSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  type LabelSelector,
} from './labels.js';

test('parse: canonical string form', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['   ', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    [' a = b , c in ( z,y, y ) , !d ', 'a=b,c in (y,z),!d'],
    ['b,a', 'a,b'],
    ['x notin (a)', 'x notin (a)'],
    ['x in (a,b),x notin (c)', 'x in (a,b),x notin (c)'],
    ['example.com/app=web', 'example.com/app=web'],
    ['a=', 'a='],
    ['a in ()', 'a in ()'],
    ['a in (,b)', 'a in (,b)'],
    ['a>1,b<2', 'a>1,b<2'],
    ['in=notin', 'in=notin'],
    ['env in (prod),tier', 'env in (prod),tier'],
    ['a=b,\ta!=c', 'a=b,a!=c'],
  ];
  for (const [input, want] of cases) assert.equal(parseSelector(input).toString(), want, input);
});

test('parse: matching', () => {
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', undefined, true],
    ['a=b', { a: 'b' }, true],
    ['a=b', { a: 'c' }, false],
    ['a=b', {}, false],
    ['a==b', { a: 'b' }, true],
    ['a!=b', {}, true],
    ['a!=b', { a: 'b' }, false],
    ['a!=b', { a: 'c' }, true],
    ['a in (b,c)', { a: 'c' }, true],
    ['a in (b,c)', { a: 'd' }, false],
    ['a in (b,c)', {}, false],
    ['a notin (b,c)', {}, true],
    ['a notin (b,c)', { a: 'b' }, false],
    ['a notin (b,c)', { a: 'x' }, true],
    ['a', { a: '' }, true],
    ['a', { b: 'x' }, false],
    ['!a', { b: 'x' }, true],
    ['!a', { a: 'x' }, false],
    ['a=', { a: '' }, true],
    ['a=', {}, false],
    ['a in ()', { a: '' }, true],
    ['a>5', { a: '6' }, true],
    ['a>5', { a: '5' }, false],
    ['a>5', { a: 'x' }, false],
    ['a>5', {}, false],
    ['a<5', { a: '-7' }, true],
    ['a=b,c', { a: 'b', c: '' }, true],
    ['a=b,c', { a: 'b' }, false],
    ['a=b,!c', { a: 'b' }, true],
    ['toString', {}, false],
    ['constructor', { constructor: 'x' }, true],
  ];
  for (const [sel, labels, want] of cases) {
    assert.equal(parseSelector(sel).matches(labels), want, `${sel} vs ${JSON.stringify(labels)}`);
  }
});

test('parse: errors are 400 BadRequest with upstream wording', () => {
  const NAME_RE =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const cases: [string, string][] = [
    [',', "found ',', expected: !, identifier, or 'end of string'"],
    ['a=b,', "found '', expected: identifier after ','"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['-a=b', `unable to parse requirement: <nil>: Invalid value: "-a": ${NAME_RE}`],
    ['a/b/c', 'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name ' +
      NAME_RE.slice('name part '.length) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"],
    [
      'a=-b',
      'unable to parse requirement: values[0][a]: Invalid value: "-b": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\', or \'my_value\', or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')',
    ],
    ['a<-2', 'unable to parse requirement: values[0][a]: Invalid value: "-2": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\', or \'my_value\', or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')'],
    ['a>b', 'unable to parse requirement: values[0]: Invalid value: "b": for \'Gt\', \'Lt\' operators, the value must be an integer'],
    ['Upper/x=y', 'unable to parse requirement: <nil>: Invalid value: "Upper/x": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')'],
    [`${'k'.repeat(64)}=v`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseSelector(input),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === message,
      `${input}: want ${message}`,
    );
  }
});

test('requiresExactMatch and requirements', () => {
  const s = parseSelector('app=web,tier in (fe),x!=y');
  assert.equal(s.requiresExactMatch('app'), 'web');
  assert.equal(s.requiresExactMatch('tier'), 'fe');
  assert.equal(s.requiresExactMatch('x'), undefined);
  assert.deepEqual(s.requirements(), {
    selectable: true,
    requirements: [
      { key: 'app', operator: '=', values: ['web'] },
      { key: 'tier', operator: 'in', values: ['fe'] },
      { key: 'x', operator: '!=', values: ['y'] },
    ],
  });
});

test('everything, nothing and selectorFromSet', () => {
  assert.ok(everything().empty());
  assert.ok(everything().matches(undefined));
  assert.ok(!nothing().empty());
  assert.ok(!nothing().matches({}));
  assert.equal(nothing().requirements().selectable, false);
  const s = selectorFromSet({ b: '2', a: '1' });
  assert.equal(s.toString(), 'a=1,b=2');
  assert.ok(s.matches({ a: '1', b: '2', c: '3' }));
  assert.ok(!s.matches({ a: '1' }));
  assert.ok(selectorFromSet(undefined).empty());
});

test('selectorFromLabelSelector: upstream LabelSelectorAsSelector semantics', () => {
  const cases: [LabelSelector | null | undefined, string, Record<string, string>, boolean][] = [
    [null, '', {}, false],
    [undefined, '', { a: 'b' }, false],
    [{}, '', { a: 'b' }, true],
    [{ matchLabels: {}, matchExpressions: [] }, '', {}, true],
    [{ matchLabels: { b: '1', a: '2' } }, 'a=2,b=1', { a: '2', b: '1' }, true],
    [
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['fe', 'be'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'track', operator: 'Exists' },
          { key: 'canary', operator: 'DoesNotExist', values: [] },
        ],
      },
      'app=web,!canary,env notin (dev),tier in (be,fe),track',
      { app: 'web', tier: 'be', track: 'x' },
      true,
    ],
  ];
  for (const [ls, str, labels, want] of cases) {
    const s = selectorFromLabelSelector(ls);
    assert.equal(s.toString(), str, JSON.stringify(ls));
    assert.equal(s.matches(labels), want, JSON.stringify(ls));
    assert.equal(formatLabelSelector(ls), str);
  }
  assert.ok(selectorFromLabelSelector({}).empty());
  assert.ok(!selectorFromLabelSelector(null).empty());
});

test('selectorFromLabelSelector: errors', () => {
  const cases: [LabelSelector, string][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Foo' }] }, '"Foo" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'toString' }] }, '"toString" is not a valid label selector operator'],
    [
      { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    ],
    [{ matchLabels: { 'a b': 'c' } }, 'key: Invalid value: "a b": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\', or \'my.name\', or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')'],
  ];
  for (const [ls, message] of cases) {
    assert.throws(
      () => selectorFromLabelSelector(ls),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === message,
      message,
    );
  }
});

test('looseLabelSelector prints requirements sorted by key like upstream', () => {
  const sel = {
    matchLabels: { tier: 'web', app: 'shop' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zz', operator: 'DoesNotExist' },
      { key: 'canary', operator: 'Exists' },
    ],
  };
  assert.equal(looseLabelSelector(sel).toString(), 'app=shop,canary,env in (dev,prod),tier=web,!zz');
  assert.equal(looseLabelSelector({}).toString(), '');
  assert.equal(printLabelSelector(undefined), '<none>');
});

test('looseLabelSelector matching: nil matches nothing, empty matches everything', () => {
  assert.equal(looseLabelSelector(undefined).matches({ a: '1' }), false);
  assert.equal(looseLabelSelector({}).matches({ a: '1' }), true);
  const sel = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x'] }] };
  assert.equal(looseLabelSelector(sel).matches({ a: '1' }), true);
  assert.equal(looseLabelSelector(sel).matches({ a: '1', b: 'x' }), false);
  assert.equal(looseLabelSelector(sel).matches({ a: '2' }), false);
  assert.equal(looseLabelSelector({ matchExpressions: [{ key: 'b', operator: 'In', values: ['x'] }] }).matches({}), false);
});

test('looseLabelSelector never throws: an unknown operator matches nothing, bad keys pass', () => {
  const bad = { matchLabels: { 'bad key!': 'v' }, matchExpressions: [{ key: 'a', operator: 'Foo' }] };
  assert.equal(looseLabelSelector(bad).matches({ 'bad key!': 'v', a: 'x' }), false);
  assert.equal(looseLabelSelector(bad).toString(), 'bad key!=v');
  assert.equal(printLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['y', 'x', 'y'] }] }), 'a in (x,y)');
  assert.equal(printLabelSelector({}), '<none>');
  assert.equal(looseLabelSelector('nope').matches({}), false);
});
