import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as PB from 'protobufjs';
import { decodeMessage, encodeMessage, loadTypes } from './wire.js';
import { protoSchema } from './schema.js';
import { formatGoDuration, formatMicroTime, formatTime, parseGoDuration, parseTime } from './wellknown.js';

const require = createRequire(import.meta.url);
const SCHEMA_JSON = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../src/api/proto/k8s.json', import.meta.url)), 'utf8')) as { nested: Record<string, unknown> };

/** protobufjs over the same schema: an independent codec to check ours against. */
function pbRoot(): PB.Root {
  const pb = require('protobufjs') as typeof PB;
  const root = pb.Root.fromJSON({ nested: SCHEMA_JSON.nested as PB.INamespace['nested'] });
  root.resolveAll();
  return root;
}

const POD = {
  metadata: { name: 'p', labels: { a: 'b' }, generation: 9007199254740991, deletionGracePeriodSeconds: -30, creationTimestamp: { seconds: 1704067200, nanos: 5 } },
  spec: {
    containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: 0 }], resources: { limits: { cpu: { string: '1' } } } }],
    securityContext: { runAsUser: -1, supplementalGroups: [1, 2, 4294967296] },
    priority: -2147483648,
    enableServiceLinks: false,
  },
};

test('wire codec agrees with protobufjs both ways', () => {
  const root = pbRoot();
  const PodT = root.lookupType('k8s.io.api.core.v1.Pod');
  const ours = protoSchema().types.get('k8s.io.api.core.v1.Pod')!;
  const toPlain = (m: PB.Message): unknown => PodT.toObject(m, { longs: Number, bytes: Buffer });
  // ours -> protobufjs
  const mine = encodeMessage(ours, POD);
  assert.deepEqual(toPlain(PodT.decode(mine)), POD);
  // protobufjs -> ours
  const theirs = Buffer.from(PodT.encode(PodT.fromObject(POD)).finish());
  assert.deepEqual(decodeMessage(ours, theirs), POD);
  assert.deepEqual(theirs, mine);
});

test('packed repeated scalars are accepted; unknown fields are skipped', () => {
  const types = loadTypes({
    nested: { t: { fields: { xs: { type: 'int64', id: 1, rule: 'repeated', options: { packed: false } }, s: { type: 'string', id: 2 } } }, u: { fields: { xs: { type: 'int64', id: 1, rule: 'repeated' } } } },
  });
  const t = types.get('t')!;
  // field 1 packed [1, 300], unknown field 7 (varint), unknown field 8 (fixed64), field 2 "hi"
  const buf = Buffer.from([0x0a, 0x03, 0x01, 0xac, 0x02, 0x38, 0x05, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x02, 0x68, 0x69]);
  assert.deepEqual(decodeMessage(t, buf), { xs: [1, 300], s: 'hi' });
  // packed: false (what the generator writes for proto2 fields) -> unpacked; JSON default -> packed
  assert.deepEqual(encodeMessage(t, { xs: [1, 300] }), Buffer.from([0x08, 0x01, 0x08, 0xac, 0x02]));
  assert.deepEqual(encodeMessage(types.get('u')!, { xs: [1, 300] }), Buffer.from([0x0a, 0x03, 0x01, 0xac, 0x02]));
});

test('malformed input throws', () => {
  const t = protoSchema().types.get('k8s.io.api.core.v1.ConfigMap')!;
  for (const bad of [[0x0a, 0x05, 0x01], [0x08], [0x0b], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x0a, 0x01, 0x08]]) {
    assert.throws(() => decodeMessage(t, Buffer.from(bad)), RangeError, JSON.stringify(bad));
  }
});

test('unresolvable type references fail at load', () => {
  assert.throws(() => loadTypes({ nested: { a: { fields: { x: { type: 'Nope', id: 1 } } } } }), /unknown type Nope/);
});

test('Time and MicroTime', () => {
  assert.equal(formatTime(1704067200), '2024-01-01T00:00:00Z');
  assert.equal(formatMicroTime(1704067200, 123456789), '2024-01-01T00:00:00.123456Z');
  assert.equal(formatMicroTime(0, 1000), '1970-01-01T00:00:00.000001Z');
  assert.deepEqual(parseTime('2024-01-01T00:00:00Z'), { seconds: 1704067200, nanos: 0 });
  assert.deepEqual(parseTime('2024-01-01T01:00:00.5+01:00'), { seconds: 1704067200, nanos: 500000000 });
  assert.throws(() => parseTime('yesterday'), RangeError);
});

test('Go durations', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [1500n, '1.5µs'],
    [1_000_000n, '1ms'],
    [1_500_000_000n, '1.5s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [259_200_500_000_000n, '72h0m0.5s'],
    [-2_000_000n, '-2ms'],
  ];
  for (const [n, s] of cases) {
    assert.equal(formatGoDuration(n), s);
    assert.equal(parseGoDuration(s), n);
  }
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('2us'), 2000n);
  assert.throws(() => parseGoDuration('5'), RangeError);
});
