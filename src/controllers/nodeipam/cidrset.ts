/**
 * A set of equal-sized node subnets carved from one cluster CIDR (upstream's cidrset): a
 * bitmap of the 2^(nodeMask - clusterMask) subnets, allocated round-robin from the one after
 * the last allocated (so a released subnet is not handed out again at once), occupied when
 * existing nodes already hold them, released when nodes go. IPv4 and IPv6. Light to import
 * (no client code): `k8ts server` can check --cluster-cidr with {@link cidrSetsFor} up front.
 */
import { parseCIDR } from '../../apimachinery/ip.js';

/** Upstream's limit on the subnet count: at most 2^16 subnets per cluster CIDR. */
export const MAX_SUBNET_BITS = 16;
/** Upstream ErrCIDRRangeNoCIDRsRemaining. */
export const NO_CIDRS_REMAINING = 'CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range';

/** Formats an address of `bits` width (32: dotted quad; 128: compressed IPv6). */
export function formatIP(value: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // Longest run (at least two) of zero groups becomes "::" (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** The node subnets of one cluster CIDR. */
export class CidrSet {
  readonly bits: 32 | 128;
  readonly clusterCIDR: string;
  readonly nodeMaskSize: number;
  private readonly base: bigint;
  private readonly clusterPrefix: number;
  private readonly used: Uint8Array;
  private nextCandidate = 0;
  private allocated = 0;

  /** Throws when `clusterCIDR` is not a CIDR, the node mask is shorter than the cluster's, or more than 2^16 subnets would result. */
  constructor(clusterCIDR: string, nodeMaskSize: number) {
    const c = parseCIDR(clusterCIDR);
    if (!c) throw new Error(`invalid cluster CIDR ${JSON.stringify(clusterCIDR)}`);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < c.prefix || nodeMaskSize > c.bits)
      throw new Error(`node CIDR mask size ${nodeMaskSize} does not fit the cluster CIDR ${clusterCIDR}`);
    if (nodeMaskSize - c.prefix > MAX_SUBNET_BITS) throw new Error(`CIDRSet: subnet mask size too big: /${nodeMaskSize} in ${clusterCIDR} gives more than 2^${MAX_SUBNET_BITS} subnets`);
    this.bits = c.bits;
    this.base = c.base;
    this.clusterPrefix = c.prefix;
    this.clusterCIDR = `${formatIP(c.base, c.bits)}/${c.prefix}`;
    this.nodeMaskSize = nodeMaskSize;
    this.used = new Uint8Array(2 ** (nodeMaskSize - c.prefix));
  }

  /** How many subnets there are, and how many are taken. */
  get size(): number {
    return this.used.length;
  }
  get allocatedCount(): number {
    return this.allocated;
  }

  private cidrAt(i: number): string {
    return `${formatIP(this.base + (BigInt(i) << BigInt(this.bits - this.nodeMaskSize)), this.bits)}/${this.nodeMaskSize}`;
  }

  /** Allocates the next free subnet; throws {@link NO_CIDRS_REMAINING} when all are taken. */
  allocateNext(): string {
    const n = this.used.length;
    for (let k = 0; k < n; k++) {
      const i = (this.nextCandidate + k) % n;
      if (!this.used[i]) {
        this.used[i] = 1;
        this.allocated++;
        this.nextCandidate = (i + 1) % n;
        return this.cidrAt(i);
      }
    }
    throw new Error(NO_CIDRS_REMAINING);
  }

  /** The subnet indexes `cidr` covers; throws when it is malformed, of the other family or outside the cluster CIDR. */
  private indexes(cidr: string): [number, number] {
    const c = parseCIDR(cidr);
    if (!c || c.bits !== this.bits) throw new Error(`invalid CIDR ${JSON.stringify(cidr)} for cluster CIDR ${this.clusterCIDR}`);
    const hostBits = BigInt(this.bits - this.clusterPrefix);
    if (c.prefix < this.clusterPrefix || c.base >> hostBits !== this.base >> hostBits) throw new Error(`cidr ${cidr} is out the range of cluster cidr ${this.clusterCIDR}`);
    const shift = BigInt(this.bits - this.nodeMaskSize);
    const first = Number((c.base - this.base) >> shift);
    const count = c.prefix >= this.nodeMaskSize ? 1 : 2 ** (this.nodeMaskSize - c.prefix);
    return [first, first + count - 1];
  }

  /** Marks `cidr` (and every subnet it covers) as taken; throws when outside the cluster CIDR. */
  occupy(cidr: string): void {
    const [a, b] = this.indexes(cidr);
    for (let i = a; i <= b; i++) {
      if (!this.used[i]) this.allocated++;
      this.used[i] = 1;
    }
  }

  /** Frees `cidr` (and every subnet it covers); throws when outside the cluster CIDR. */
  release(cidr: string): void {
    const [a, b] = this.indexes(cidr);
    for (let i = a; i <= b; i++) {
      if (this.used[i]) this.allocated--;
      this.used[i] = 0;
    }
  }

  /** True when `cidr` lies in this set's cluster CIDR and family. */
  contains(cidr: string): boolean {
    try {
      this.indexes(cidr);
      return true;
    } catch {
      return false;
    }
  }
}

/** The default --cluster-cidr (flannel's usual pod network; k3s uses 10.42.0.0/16). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
/** Upstream --node-cidr-mask-size defaults: /24 for IPv4, /64 for IPv6. */
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV4 = 24;
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 = 64;

/** The range options (--cluster-cidr, --node-cidr-mask-size*). */
export interface CidrSetOptions {
  /** --cluster-cidr: one CIDR, or an IPv4,IPv6 pair (default 10.244.0.0/16). */
  clusterCIDR?: string;
  /** --node-cidr-mask-size (single stack; default 24 for IPv4, 64 for IPv6). */
  nodeCIDRMaskSize?: number;
  /** --node-cidr-mask-size-ipv4 / -ipv6 (dual stack; defaults 24 and 64). */
  nodeCIDRMaskSizeIPv4?: number;
  nodeCIDRMaskSizeIPv6?: number;
}

/** Builds the cidr sets of the options (upstream's checks: at most one CIDR per family, two at most). */
export function cidrSetsFor(o: CidrSetOptions): CidrSet[] {
  const cidrs = (o.clusterCIDR ?? DEFAULT_CLUSTER_CIDR).split(',').map((s) => s.trim()).filter(Boolean);
  if (cidrs.length === 0 || cidrs.length > 2) throw new Error(`--cluster-cidr takes one CIDR or an IPv4,IPv6 pair, not ${JSON.stringify(o.clusterCIDR)}`);
  const single = cidrs.length === 1;
  const sets = cidrs.map((c) => {
    const v6 = c.includes(':');
    const mask = single && o.nodeCIDRMaskSize !== undefined ? o.nodeCIDRMaskSize : v6 ? o.nodeCIDRMaskSizeIPv6 ?? DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 : o.nodeCIDRMaskSizeIPv4 ?? DEFAULT_NODE_CIDR_MASK_SIZE_IPV4;
    return new CidrSet(c, mask);
  });
  if (sets.length === 2 && sets[0]!.bits === sets[1]!.bits) throw new Error('--cluster-cidr: a dual-stack pair needs one IPv4 and one IPv6 CIDR');
  return sets;
}

