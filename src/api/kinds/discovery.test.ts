import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from './harness.js';
import { endpointSliceResource as def, validateNonSpecialIP } from './discovery.js';

function slice(extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web-abc12', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' },
      { addresses: ['10.244.2.7'], conditions: { ready: true } },
    ],
    ports: [{ name: 'http', port: 80 }],
    ...extra,
  };
}

test('EndpointSlice defaults ports and validates', async () => {
  const { obj, errs } = await runCreate(def, slice());
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.ports, [{ name: 'http', port: 80, protocol: 'TCP' }]);
  const bad = await runCreate(def, slice({
    addressType: undefined,
    endpoints: [{ addresses: [] }],
    ports: [{ name: 'a', protocol: 'HTTP' }, { name: 'a', protocol: 'TCP' }],
  }));
  assert.deepEqual(fields(bad.errs), ['addressType', 'endpoints[0].addresses', 'ports[0].protocol', 'ports[1].name']);
  const ips = await runCreate(def, slice({ endpoints: [{ addresses: ['127.0.0.1', '300.1.1.1'] }] }));
  assert.deepEqual(fields(ips.errs), ['endpoints[0].addresses[0]', 'endpoints[0].addresses[1]']);
  assert.match(ips.errs[0]!.message, /loopback/);
  assert.match(ips.errs[1]!.message, /must be a valid IPv4 address/);
  const many = await runCreate(def, slice({ endpoints: Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] })) }));
  assert.deepEqual(many.errs.map((e) => [e.type, e.field]), [['FieldValueTooMany', 'endpoints']]);
  const fqdn = await runCreate(def, slice({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] }));
  assert.deepEqual(fields(fqdn.errs), ['endpoints[0].addresses[0]']);
  const { obj: old } = await runCreate(def, slice());
  assert.deepEqual(fields((await runUpdate(def, old, { ...old, addressType: 'IPv6', endpoints: [] })).errs), ['addressType']);
});

test('special IPv6 ranges are rejected', () => {
  assert.equal(validateNonSpecialIP('::1', 'x').length, 1);
  assert.equal(validateNonSpecialIP('fe80::1', 'x').length, 1);
  assert.equal(validateNonSpecialIP('ff02::1', 'x').length, 1);
  assert.equal(validateNonSpecialIP('::', 'x').length, 1);
  assert.equal(validateNonSpecialIP('::ffff:127.0.0.1', 'x').length, 1);
  assert.deepEqual(validateNonSpecialIP('2001:db8::1', 'x'), []);
});

test('EndpointSlice table', async () => {
  const { obj } = await runCreate(def, slice());
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:01:00Z')), ['web-abc12', 'IPv4', '80', '10.244.1.5,10.244.2.7', '60s']);
  const many = { ...obj, endpoints: [{ addresses: ['1.1.1.1', '1.1.1.2'] }, { addresses: ['1.1.1.3', '1.1.1.4', '1.1.1.5'] }], ports: [{ name: 'x' }, {}] };
  assert.deepEqual(def.table!.cells(many, new Date('2024-05-01T12:01:00Z')).slice(2, 4), ['x,*', '1.1.1.1,1.1.1.2,1.1.1.3 + 2 more...']);
  assert.deepEqual(def.table!.cells({ ...obj, endpoints: [], ports: [] }, new Date()).slice(2, 4), ['<unset>', '<unset>']);
  assert.deepEqual(def.strategy?.generationFields, ['addressType', 'endpoints', 'ports']);
});
