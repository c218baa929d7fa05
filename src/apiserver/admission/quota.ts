/**
 * ResourceQuota admission (upstream plugin/pkg/admission/resourcequota): a create (or an
 * update of a service or PVC) in a namespace with quotas is checked against every matching
 * quota's status.hard; on success the charged usage is written to each quota's status.used
 * at once with an optimistic update (a conflict re-reads the quota and checks again), so two
 * quick creates cannot both pass. Quotas are looked up in an index fed by the resourcequotas
 * watch cache: a namespace without quotas costs one map lookup.
 */
import type { KubeObject, ResourceDef, ResourceRegistry } from '../../api/resource.js';
import { ApiError, forbidden } from '../../apimachinery/errors.js';
import type { ObjectStore } from '../registry/store.js';
import type { CacheWatcher, WatchCache } from '../registry/watchcache.js';
import { evaluatorFor, quotaMatches, type Evaluator } from '../../controllers/resourcequota/evaluators.js';
import { add, lessThanOrEqual, mask, negativeNames, parseList, prettyPrint, removeZeros, subtractNonNegative, toJSONList } from '../../controllers/resourcequota/resources.js';
import type { AdmissionAttributes } from './index.js';

/** Quota status writes tried before giving up on conflicts. */
const MAX_ATTEMPTS = 10;

/** Options of {@link QuotaAdmission}. */
export interface QuotaAdmissionOptions {
  registry: ResourceRegistry;
  /** Reads fresh quotas and writes their status. */
  store: ObjectStore;
  /** The watch cache of a kind (the resourcequotas one feeds the index); without it storage is read. */
  cacheFor?: (def: ResourceDef) => WatchCache;
  /** Wall time (pod deletion grace); default `new Date()`. */
  now?: () => Date;
}

/** The quota admission plugin; `admit` is the store hook. */
export class QuotaAdmission {
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  /** Status this plugin wrote, newer than the index until the watch delivers it. */
  private readonly written = new Map<string, KubeObject>();
  private watcher: CacheWatcher | undefined;
  private readonly locks = new Map<string, Promise<void>>();
  private readonly now: () => Date;

  constructor(private readonly o: QuotaAdmissionOptions) {
    this.now = o.now ?? (() => new Date());
  }

  private get quotaDef(): ResourceDef {
    return this.o.registry.byResource('', 'resourcequotas')!;
  }

  /** Checks and charges one write; throws 403 Forbidden with upstream's messages when refused. */
  admit = async (a: AdmissionAttributes): Promise<void> => {
    if (a.subresource || !a.def.namespaced) return;
    const ns = a.obj.metadata.namespace;
    if (!ns) return;
    let quotas: KubeObject[];
    if (this.indexLive()) {
      const m = this.byNamespace.get(ns);
      if (!m) return;
      quotas = [...m.values()];
    } else {
      quotas = (await this.o.store.list(this.quotaDef, { namespace: ns })).items;
      if (!quotas.length) return;
    }
    const ev = evaluatorFor(a.def.group, a.def.plural);
    if (!ev.handles(a.operation)) return;
    await this.locked(ns, () => this.check(a, ev, quotas.map((q) => this.fresher(q))));
  };

  /** Stops following the watch cache. */
  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  /** True when the index follows the ready watch cache (registers on first success). */
  private indexLive(): boolean {
    if (this.watcher) return true;
    const cache = this.o.cacheFor?.(this.quotaDef);
    if (!cache) return false;
    if (!cache.isReady) {
      void cache.ready().catch(() => undefined);
      return false;
    }
    this.byNamespace.clear();
    let closed = false;
    const w = cache.watch(undefined, {
      send: (ev) => {
        const ns = ev.object.metadata.namespace ?? '';
        const name = ev.object.metadata.name ?? '';
        if (ev.type === 'DELETED') {
          const m = this.byNamespace.get(ns);
          m?.delete(name);
          if (m && m.size === 0) this.byNamespace.delete(ns);
          this.written.delete(`${ns}/${name}`);
        } else {
          let m = this.byNamespace.get(ns);
          if (!m) this.byNamespace.set(ns, (m = new Map()));
          m.set(name, ev.object);
          const mine = this.written.get(`${ns}/${name}`);
          if (mine && rv(mine) <= rv(ev.object)) this.written.delete(`${ns}/${name}`);
        }
        return true;
      },
      close: () => {
        closed = true;
        this.watcher = undefined;
      },
    });
    if (w && !closed) this.watcher = w;
    return this.watcher !== undefined;
  }

  /** The newer of the index's copy and the one this plugin last wrote. */
  private fresher(q: KubeObject): KubeObject {
    const mine = this.written.get(`${q.metadata.namespace}/${q.metadata.name}`);
    return mine && rv(mine) > rv(q) ? mine : q;
  }

  /** Runs `fn` after the namespace's earlier checks (fewer conflicts within one server). */
  private async locked(ns: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.locks.get(ns) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.locks.set(ns, tail);
    await prev;
    try {
      await fn();
    } finally {
      release();
      if (this.locks.get(ns) === tail) this.locks.delete(ns);
    }
  }

  private async check(a: AdmissionAttributes, ev: Evaluator, quotas: KubeObject[]): Promise<void> {
    let pending = quotas;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const updates = evaluate(a, ev, pending, this.now());
      if (!updates.length || a.dryRun) return;
      const retry: string[] = [];
      for (const q of updates) {
        const ns = q.metadata.namespace!, name = q.metadata.name!;
        try {
          const { object } = await this.o.store.update(this.quotaDef, ns, name, q, { subresource: 'status' });
          this.written.set(`${ns}/${name}`, object);
        } catch (e) {
          if (e instanceof ApiError && e.code === 409) retry.push(name);
          else if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      if (!retry.length) return;
      const ns = a.obj.metadata.namespace!;
      pending = (await Promise.all(retry.map((n) => this.o.store.tryGet(this.quotaDef, ns, n)))).filter((q): q is KubeObject => q !== undefined);
    }
    throw new ApiError(500, 'InternalError', 'Internal error occurred: resource quota evaluation timed out');
  }
}

function rv(o: KubeObject): number {
  return Number(o.metadata.resourceVersion ?? 0);
}

/** 403 as upstream admission.NewForbidden: `<resource> "<name>" is forbidden: <reason>`. */
export function quotaForbidden(def: ResourceDef, name: string, reason: string): ApiError {
  const resource = def.group ? `${def.plural}.${def.group}` : def.plural;
  return forbidden(`${resource} "${name}" is forbidden: ${reason}`, { name, group: def.group || undefined, kind: def.plural });
}

/**
 * Upstream checkRequest for one write against the namespace's quotas: refuses (throws 403)
 * on a constraint violation, a quota without usage status, negative usage or exceeded hard
 * limits; otherwise returns the quotas to write with their increased status.used.
 */
export function evaluate(a: AdmissionAttributes, ev: Evaluator, quotas: KubeObject[], now: Date): KubeObject[] {
  const input = a.obj;
  const name = input.metadata.name ?? input.metadata.generateName ?? '';
  const interesting: KubeObject[] = [];
  for (const q of quotas) {
    if (!quotaMatches(ev, q, input)) continue;
    const status = (q['status'] ?? {}) as { hard?: unknown; used?: unknown };
    const restricted = ev.matchingResources(parseList(status.hard).keys());
    const violation = ev.constraints(restricted, input);
    if (violation) throw quotaForbidden(a.def, name, `failed quota: ${q.metadata.name}: ${violation}`);
    const used = parseList(status.used);
    if (restricted.some((r) => !used.has(r)))
      throw quotaForbidden(a.def, name, `status unknown for quota: ${q.metadata.name}, resources: ${[...restricted].sort().join(',')}`);
    interesting.push(q);
  }
  if (!interesting.length) return [];
  let delta = ev.usage(input, now);
  const negative = negativeNames(delta);
  if (negative.length) throw quotaForbidden(a.def, name, `quota usage is negative for resource(s): ${negative.join(',')}`);
  if (a.operation === 'UPDATE' && a.old?.metadata.resourceVersion) delta = subtractNonNegative(delta, ev.usage(a.old, now));
  delta = removeZeros(delta);
  if (delta.size === 0) return [];
  const out: KubeObject[] = [];
  for (const q of interesting) {
    const status = (q['status'] ?? {}) as { hard?: unknown; used?: unknown };
    const hard = parseList(status.hard);
    const used = parseList(status.used);
    const requested = mask(delta, hard.keys());
    if (requested.size === 0) continue;
    const newUsage = add(used, requested);
    const { ok, exceeded } = lessThanOrEqual(mask(newUsage, requested.keys()), hard);
    if (!ok) {
      throw quotaForbidden(
        a.def,
        name,
        `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
      );
    }
    out.push({ ...q, metadata: { ...q.metadata }, status: { ...(q['status'] as object), used: toJSONList(newUsage) } });
  }
  return out;
}
