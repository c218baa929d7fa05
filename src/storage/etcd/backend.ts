/**
 * The etcd {@link Backend}: every write is one etcd transaction whose compare is the
 * optimistic-concurrency check (create_revision == 0 for create, mod_revision for update
 * and delete); reads are ranges, optionally at a revision; watches are native etcd
 * watches (watch.ts). Keys live under an optional prefix; revisions are etcd's own.
 */
import type { Etcd3, ICompare, IRangeRequest, IRangeResponse } from 'etcd3';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  StorageError,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Watch,
  type WatchHandlers,
  type WatchOptions,
} from '../backend.js';
import { prefixEndBytes, rangeStart } from '../keys.js';
import type { AutoCompactor } from '../retention.js';
import { KeySpace } from './convert.js';
import { isCompactedError, isFutureRevisionError } from './errors.js';
import { ProgressPacer } from './progress.js';
import { startEtcdWatch } from './watch.js';

/** etcd implementation of {@link Backend}; build one with `openEtcdBackend`. */
export class EtcdBackend implements Backend {
  private readonly keys: KeySpace;
  private readonly watches = new Set<Watch>();
  private readonly pacer = new ProgressPacer();
  /** A revision known to be at or below etcd's compacted revision. */
  private knownFloor = 0;
  private compactor: AutoCompactor | undefined;
  private closed = false;

  constructor(private readonly client: Etcd3, prefix = '') {
    this.keys = new KeySpace(prefix);
  }

  /** Attaches the auto-compactor this backend stops on close (used by the factory). */
  attachCompactor(compactor: AutoCompactor): void {
    this.compactor = compactor;
    compactor.start();
  }

  /** The auto-compactor, if retention is enabled. */
  get autoCompactor(): AutoCompactor | undefined {
    return this.compactor;
  }

  async create(key: string, value: string): Promise<number> {
    const k = this.key(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
    });
    if (!res.succeeded) throw new KeyExistsError(key);
    return Number(res.header.revision);
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    const k = this.key(key);
    const res = await this.client.kv.txn({
      compare: [...this.exists(k), { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (res.succeeded) return Number(res.header.revision);
    throw this.writeFailure(key, res.responses[0]?.response_range);
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    const k = this.key(key);
    const compare = this.exists(k);
    if (expectedRevision !== undefined) compare.push({ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision });
    const res = await this.client.kv.txn({
      compare,
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.writeFailure(key, res.responses[0]?.response_range);
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new KeyNotFoundError(key);
    return { revision: Number(res.header.revision), prev: this.keys.kv(prev) };
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const res = await this.range({ key: this.key(key), revision: revision || 0 });
    const kv = res.kvs[0];
    return kv ? this.keys.kv(kv) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const start = this.keys.toEtcd(rangeStart(prefix, opts.startKey));
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const res = await this.range({
      key: start.length > 0 ? start : Buffer.from([0]),
      range_end: prefixEndBytes(this.keys.toEtcd(prefix)),
      revision: opts.revision || 0,
      limit,
    });
    const items = res.kvs.map((kv) => this.keys.kv(kv));
    const more = Boolean(res.more);
    const result: ListResult = { items, revision: opts.revision || Number(res.header.revision), more };
    if (more) result.remaining = Number(res.count) - items.length;
    return result;
  }

  async count(prefix: string): Promise<number> {
    const start = this.keys.toEtcd(prefix);
    const res = await this.range({
      key: start.length > 0 ? start : Buffer.from([0]),
      range_end: prefixEndBytes(start),
      count_only: true,
    });
    return Number(res.count);
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
    this.open();
    const w = startEtcdWatch(
      {
        client: this.client,
        keys: this.keys,
        pacer: this.pacer,
        classify: (err, after) => this.classifyWatchError(err, after),
        done: (h) => this.watches.delete(h),
      },
      prefix,
      opts,
      handlers,
    );
    this.watches.add(w);
    return w;
  }

  async compact(revision: number): Promise<void> {
    this.open();
    try {
      await this.client.kv.compact({ revision, physical: true });
      this.knownFloor = Math.max(this.knownFloor, revision);
    } catch (err) {
      if (isCompactedError(err)) return;
      if (isFutureRevisionError(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw err;
    }
  }

  async currentRevision(): Promise<number> {
    this.open();
    const res = await this.client.kv.range({ key: this.key('/'), count_only: true });
    return Number(res.header.revision);
  }

  /**
   * etcd does not report its compacted revision, so it is found by probing reads at
   * revisions (binary search above the last known floor); 0 when nothing is compacted.
   */
  async compactedRevision(): Promise<number> {
    const head = await this.currentRevision();
    let lo = Math.max(this.knownFloor, 1);
    if (await this.readableAt(lo)) return this.knownFloor;
    let hi = head; // always readable
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readableAt(mid)) hi = mid;
      else lo = mid;
    }
    this.knownFloor = Math.max(this.knownFloor, hi);
    return hi;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor?.stop();
    for (const w of [...this.watches]) w.cancel();
    this.pacer.stop();
    this.client.close();
  }

  private async readableAt(revision: number): Promise<boolean> {
    try {
      await this.client.kv.range({ key: this.key('/'), revision, count_only: true, serializable: true });
      return true;
    } catch (err) {
      if (isCompactedError(err)) return false;
      throw err;
    }
  }

  /** A range with etcd's revision errors mapped to the contract's. */
  private async range(req: IRangeRequest): Promise<IRangeResponse> {
    this.open();
    try {
      return await this.client.kv.range(req);
    } catch (err) {
      const rev = Number(req.revision ?? 0);
      if (isCompactedError(err)) throw new CompactedError(rev, await this.compactedRevision());
      if (isFutureRevisionError(err)) throw new FutureRevisionError(rev, await this.currentRevision());
      throw err;
    }
  }

  private async classifyWatchError(err: Error, after: number): Promise<Error> {
    if (this.closed) return new StorageError('storage closed');
    const floor = await this.compactedRevision();
    return after + 1 < floor ? new CompactedError(after + 1, floor) : err;
  }

  /** Why a guarded write failed: the key is absent, or it changed. */
  private writeFailure(key: string, current: IRangeResponse | undefined): Error {
    const kv = current?.kvs[0];
    return kv ? new ConflictError(key, this.keys.kv(kv)) : new KeyNotFoundError(key);
  }

  /** Compare: the key exists. */
  private exists(k: Buffer): ICompare[] {
    return [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }];
  }

  private key(key: string): Buffer {
    this.open();
    if (typeof key !== 'string' || key === '') throw new StorageError('key must be a non-empty string');
    return this.keys.toEtcd(key);
  }

  private open(): void {
    if (this.closed) throw new StorageError('storage closed');
  }
}
