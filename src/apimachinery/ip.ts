/**
 * IP address and CIDR arithmetic shared by validation (ServiceCIDR, EndpointSlice,
 * NetworkPolicy ipBlock) and the service IP allocator. Addresses are validated with
 * isIPv4/isIPv6 from validation.ts, so "300.1.1.1" or "1.2.3" are not addresses.
 */
import { isIPv4, isIPv6 } from './validation.js';

/** An IP address as a number with its width (32 or 128 bits); undefined when not an IP. */
export function ipToBigInt(ip: string): { bits: 32 | 128; value: bigint } | undefined {
  if (isIPv4(ip)) return { bits: 32, value: ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  if (!isIPv6(ip)) return undefined;
  let s = ip;
  const tail = s.slice(s.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = ipToBigInt(tail)!.value;
    s = `${s.slice(0, s.lastIndexOf(':') + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  return { bits: 128, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** Parses "addr/len" into the network base and prefix length; undefined when malformed. */
export function parseCIDR(cidr: string): { bits: 32 | 128; base: bigint; prefix: number } | undefined {
  const [ip, len, extra] = cidr.split('/');
  if (extra !== undefined || ip === undefined || len === undefined || !/^[0-9]{1,3}$/.test(len)) return undefined;
  const addr = ipToBigInt(ip);
  const prefix = Number(len);
  if (!addr || prefix > addr.bits) return undefined;
  const hostBits = BigInt(addr.bits - prefix);
  return { bits: addr.bits, base: (addr.value >> hostBits) << hostBits, prefix };
}

/** A dotted IPv4 address as a 32-bit unsigned number; undefined when not an IPv4 address. */
export function ipv4ToNumber(ip: string): number | undefined {
  const a = ipToBigInt(ip);
  return a?.bits === 32 ? Number(a.value) : undefined;
}

/** Formats a 32-bit unsigned number as a dotted IPv4 address. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv4 CIDR as its first address (a number) and its size; throws Error when not an IPv4 CIDR. */
export function ipv4Range(cidr: string): { base: number; size: number } {
  const c = parseCIDR(cidr);
  if (!c || c.bits !== 32) throw new Error(`invalid IPv4 CIDR ${cidr}`);
  return { base: Number(c.base), size: 2 ** (32 - c.prefix) };
}
