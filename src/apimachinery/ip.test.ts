import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv4, ipToBigInt, ipv4Range, ipv4ToNumber, parseCIDR } from './ip.js';

test('IP and CIDR arithmetic', () => {
  assert.deepEqual(ipToBigInt('10.0.0.1'), { bits: 32, value: 0x0a000001n });
  assert.equal(ipToBigInt('::ffff:1.2.3.4')?.value, 0xffff01020304n);
  assert.equal(ipToBigInt('fe80::1')?.value, (0xfe80n << 112n) | 1n);
  assert.deepEqual(parseCIDR('10.1.2.3/16'), { bits: 32, base: 0x0a010000n, prefix: 16 });
  assert.equal(parseCIDR('10.0.0.0/33'), undefined);
  assert.equal(parseCIDR('nope'), undefined);
});

test('IPv4 helpers for the service IP allocator', () => {
  assert.deepEqual(ipv4Range('10.43.7.9/16'), { base: 0x0a2b0000, size: 65536 });
  assert.deepEqual(ipv4Range('255.255.255.255/32'), { base: 0xffffffff, size: 1 });
  assert.throws(() => ipv4Range('fd00::/64'), /invalid IPv4 CIDR/);
  assert.throws(() => ipv4Range('10.0.0.0'), /invalid IPv4 CIDR/);
  assert.equal(ipv4ToNumber('10.43.0.1'), 0x0a2b0001);
  assert.equal(ipv4ToNumber('::1'), undefined);
  assert.equal(formatIPv4(0x0a2b0001), '10.43.0.1');
  assert.equal(formatIPv4(ipv4ToNumber('255.0.128.1')!), '255.0.128.1');
});
