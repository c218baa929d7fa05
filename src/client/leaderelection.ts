/**
 * Leader election on a coordination.k8s.io/v1 Lease. A candidate takes the lease when it is
 * absent, released (no holder) or expired, then renews it every retry period; every write is an
 * update carrying the observed resourceVersion, so of two racing candidates only one succeeds.
 * Expiry is judged on the local clock from when this candidate last saw the record change (as
 * upstream does), so clock skew between candidates does not matter.
 */
import { isConflict, isNotFound, isAlreadyExists } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import type { ResourceRef, RestClient } from './rest.js';
import { realClock, type Clock } from './workqueue/index.js';

/** The spec of a coordination.k8s.io/v1 Lease as used for leader election. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

/** A Lease object. */
export type Lease = KubeObject & { spec?: LeaseSpec };

/** Options of a {@link LeaderElector}. */
export interface LeaderElectorOptions {
  client: RestClient;
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** Unique identity of this candidate (e.g. hostname + random suffix). */
  identity: string;
  /** How long a lease stays valid without renewal (default 15000 ms). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up (default 10000 ms). */
  renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts (default 2000 ms). */
  retryPeriodMs?: number;
  /** Clear the holder when `run`'s signal aborts while leading (default false). */
  releaseOnCancel?: boolean;
  clock?: Clock;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once leadership ended (lost, or `run` aborted). */
  onStoppedLeading(): void;
  /** Called whenever the observed holder changes (including to this identity). */
  onNewLeader?(identity: string): void;
}

const LEASES = (namespace: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace });

/** Formats milliseconds since the epoch as a Kubernetes MicroTime (`2006-01-02T15:04:05.000000Z`). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Elects one leader among candidates sharing a Lease; see the module comment. */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectorOptions, 'onNewLeader'>> & Pick<LeaderElectorOptions, 'onNewLeader'>;
  readonly #ref: ResourceRef;
  #observed: Lease | undefined;
  #observedKey = '';
  #observedAt = 0;
  #leading = false;
  #reportedLeader = '';

  /** Validates the timings (leaseDuration > renewDeadline > retryPeriod > 0) and creates a stopped elector. */
  constructor(opts: LeaderElectorOptions) {
    this.#o = {
      ...opts,
      leaseDurationMs: opts.leaseDurationMs ?? 15000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10000,
      retryPeriodMs: opts.retryPeriodMs ?? 2000,
      releaseOnCancel: opts.releaseOnCancel ?? false,
      clock: opts.clock ?? realClock,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.#o;
    if (!(leaseDurationMs > renewDeadlineMs)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) throw new Error('renewDeadline must be greater than retryPeriod > 0');
    this.#ref = LEASES(opts.namespace);
  }

  /** True while this candidate holds the lease (as of its last successful write). */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder identity last observed on the lease ('' if none). */
  getLeader(): string {
    return this.#observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns until leading, leads until renewal fails for longer than renewDeadline or `signal`
   * aborts, then resolves (it does not campaign again). Errors are logged, never thrown.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await this.#sleep(this.#o.retryPeriodMs, signal);
    if (signal.aborted) return;
    const leader = new AbortController();
    void Promise.resolve()
      .then(() => this.#o.onStartedLeading(leader.signal))
      .catch((err) => console.error(`leader election ${this.#o.name}: onStartedLeading failed:`, err));
    let lastRenew = this.#o.clock.now();
    for (;;) {
      await this.#sleep(this.#o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.#o.clock.now();
      } else if (this.#o.clock.now() - lastRenew >= this.#o.renewDeadlineMs) {
        break;
      }
    }
    this.#leading = false;
    if (signal.aborted && this.#o.releaseOnCancel) await this.release();
    leader.abort();
    try {
      this.#o.onStoppedLeading();
    } catch (err) {
      console.error(`leader election ${this.#o.name}: onStoppedLeading failed:`, err);
    }
  }

  /**
   * One attempt: create the lease if absent, take it if released or expired, renew it if held by
   * us. Returns whether we hold it afterwards. Conflicts and API errors count as failure.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, name, identity, clock } = this.#o;
    const now = clock.now();
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let current: Lease;
      try {
        current = await client.get<Lease>(this.#ref, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const created = await client.create<Lease>(this.#ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: this.#o.namespace },
          spec: desired,
        });
        this.#observe(created);
        this.#leading = true;
        return true;
      }
      this.#observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== identity && this.#observedAt + durationMs > now) {
        this.#leading = false;
        return false;
      }
      if (holder === identity) {
        desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
        desired.leaseTransitions = spec.leaseTransitions ?? 0;
      } else {
        desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
      }
      const updated = await client.update<Lease>(this.#ref, { ...current, spec: { ...spec, ...desired } });
      this.#observe(updated);
      this.#leading = true;
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) console.error(`leader election ${name}: ${identity}:`, err);
      this.#leading = false;
      return false;
    }
  }

  /** Clears the holder if we hold the lease, so another candidate can take over at once. */
  async release(): Promise<boolean> {
    const { client, name, identity, clock } = this.#o;
    try {
      const current = await client.get<Lease>(this.#ref, name);
      if (current.spec?.holderIdentity !== identity) return false;
      const now = microTime(clock.now());
      const updated = await client.update<Lease>(this.#ref, {
        ...current,
        spec: { ...current.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      });
      this.#observe(updated);
      this.#leading = false;
      return true;
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) console.error(`leader election ${name}: release failed:`, err);
      return false;
    }
  }

  #observe(lease: Lease): void {
    const s = lease.spec ?? {};
    const key = `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${s.acquireTime ?? ''}|${s.leaseTransitions ?? 0}`;
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#o.clock.now();
    }
    this.#observed = lease;
    const holder = s.holderIdentity ?? '';
    if (holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      if (holder !== '') {
        try {
          this.#o.onNewLeader?.(holder);
        } catch (err) {
          console.error(`leader election ${this.#o.name}: onNewLeader failed:`, err);
        }
      }
    }
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.#o.clock.after(ms, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
