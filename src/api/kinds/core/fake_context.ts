/**
 * An in-memory StrategyContext for unit tests of strategies: objects keyed by
 * group/resource/namespace/name, sequential cluster IPs from 10.96.0.1 and node ports from
 * 30000, with allocation bookkeeping visible to assertions; and small helpers the core kind
 * tests share (test objects, the create-time strategy steps, compact error lists).
 */
import { ApiError } from '../../../apimachinery/errors.js';
import type { KubeObject, ResourceDef, StrategyContext } from '../../resource.js';

/** The fake context plus its state. */
export interface FakeContext extends StrategyContext {
  objects: Map<string, KubeObject>;
  ips: Set<string>;
  ports: Set<number>;
  put(group: string, resource: string, namespace: string | undefined, obj: KubeObject): void;
}

/** Creates a fake context whose clock reads `now`. */
export function fakeContext(now = new Date('2024-05-01T12:00:00Z')): FakeContext {
  const objects = new Map<string, KubeObject>();
  const ips = new Set<string>();
  const ports = new Set<number>();
  const key = (g: string, r: string, ns: string | undefined, n: string) => `${g}/${r}/${ns ?? ''}/${n}`;
  return {
    objects,
    ips,
    ports,
    now: () => now,
    put(g, r, ns, o) {
      objects.set(key(g, r, ns, o.metadata.name ?? ''), o);
    },
    async get(g, r, ns, n) {
      return objects.get(key(g, r, ns, n));
    },
    async list(g, r, ns) {
      const prefix = ns === undefined ? `${g}/${r}/` : `${g}/${r}/${ns}/`;
      return [...objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
    },
    async allocateClusterIP(want) {
      if (want) {
        if (ips.has(want)) throw new ApiError(422, 'Invalid', `provided IP is already allocated`);
        ips.add(want);
        return want;
      }
      for (let i = 1; ; i++) {
        const ip = `10.96.0.${i}`;
        if (!ips.has(ip)) {
          ips.add(ip);
          return ip;
        }
      }
    },
    async releaseClusterIP(ip) {
      ips.delete(ip);
    },
    async allocateNodePort(want) {
      if (want) {
        if (ports.has(want)) throw new ApiError(422, 'Invalid', `provided port is already allocated`);
        ports.add(want);
        return want;
      }
      for (let p = 30000; ; p++) {
        if (!ports.has(p)) {
          ports.add(p);
          return p;
        }
      }
    },
    async releaseNodePort(p) {
      ports.delete(p);
    },
  };
}

/** An object whose metadata is `meta` over a creationTimestamp of `created`, plus the top-level fields in `rest`. */
export function testObject(created: string, meta: Record<string, unknown>, rest: Record<string, unknown> = {}): KubeObject {
  return { metadata: { creationTimestamp: created, ...meta }, ...rest } as KubeObject;
}

/** Runs `def`'s default and prepareForCreate on `obj` in place (as a create does) and returns it. */
export async function prepareObject(def: ResourceDef, obj: KubeObject, ctx: StrategyContext): Promise<KubeObject> {
  await def.strategy?.default?.(obj, ctx);
  await def.strategy?.prepareForCreate?.(obj, ctx);
  return obj;
}

/** [type, field] of each error, for compact assertions. */
export function typesAndFields(errs: { type: string; field: string }[]): Array<[string, string]> {
  return errs.map((e) => [e.type, e.field]);
}
