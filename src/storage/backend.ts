/**
 * The storage contract every datastore implements (SQLite, etcd).
 *
 * Revisions are positive integers, global and strictly increasing across all keys, as in
 * etcd: every create, update and delete produces exactly one new revision. Revisions are
 * numbers only inside storage; the API server turns them into opaque resourceVersion
 * strings. Values are opaque strings (the API server stores JSON).
 */

/** One key at one revision. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which this key was (last) created. */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
}

/** A change seen by a watcher. `kv.modRevision` is the event's revision. */
export interface StorageEvent {
  type: 'create' | 'update' | 'delete';
  /** For delete: the key's last value, with modRevision set to the delete's revision. */
  kv: KeyValue;
  /** The value before this event (update and delete), when the backend knows it. */
  prevKv?: KeyValue;
}

/** Options of {@link Backend.list}. */
export interface ListOptions {
  /** Read as of this revision (0 or absent: current). Throws CompactedError if compacted. */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start at this key (inclusive); must be under the prefix. Used for continue tokens. */
  startKey?: string;
}

/** Result of {@link Backend.list}: items in key order. */
export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more items exist after the last one returned. */
  more: boolean;
  /** Number of items remaining after this page (only when `more`), if cheap to know. */
  remaining?: number;
}

/** Options of {@link Backend.watch}. */
export interface WatchOptions {
  /** Deliver events with revision strictly greater than this. */
  afterRevision: number;
  /** Include prevKv on update/delete events. */
  prevKv?: boolean;
}

/** A running watch; `cancel` is idempotent. */
export interface Watch {
  cancel(): void;
  /**
   * Optional: asks for an `onProgress` as soon as every event up to the store's current
   * revision has been delivered to this watch (etcd's RequestProgress). Backends that
   * cannot do it leave it undefined.
   */
  requestProgress?(): void;
}

/** Callbacks of a watch. Events arrive in revision order, without gaps for the prefix. */
export interface WatchHandlers {
  /** A batch of events, in revision order. */
  onEvents(events: StorageEvent[]): void;
  /** The watch ended with an error (CompactedError when afterRevision is compacted). */
  onError(err: Error): void;
  /** Optional: the backend has seen everything up to `revision` (progress notify). */
  onProgress?(revision: number): void;
}

/** Revisioned key-value store with etcd semantics. */
export interface Backend {
  /** Creates key; throws KeyExistsError if it exists. Returns the new revision. */
  create(key: string, value: string): Promise<number>;
  /**
   * Gets key (at `revision` if given and non-zero); undefined if absent. CompactedError
   * below compactedRevision(), FutureRevisionError above currentRevision().
   */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  /**
   * Replaces key's value if its modRevision equals `expectedRevision`.
   * Throws NotFoundError if absent, ConflictError (carrying the current KeyValue) on mismatch.
   */
  update(key: string, value: string, expectedRevision: number): Promise<number>;
  /**
   * Deletes key; if `expectedRevision` is given it must equal the key's modRevision
   * (ConflictError otherwise). Throws NotFoundError if absent. Returns the delete's revision
   * and the deleted value.
   */
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: KeyValue }>;
  /** Lists keys with `prefix` in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Counts live keys under prefix. */
  count(prefix: string): Promise<number>;
  /**
   * Watches keys under `prefix`. Errors are reported through `onError` (thrown only by a
   * closed backend):
   * CompactedError when an event after `afterRevision` is no longer retained, i.e. when
   * afterRevision + 1 < compactedRevision() (etcd's rule). A future afterRevision waits.
   */
  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch;
  /**
   * Discards history older than `revision` (the state at `revision` stays readable).
   * No-op when `revision` <= compactedRevision(); FutureRevisionError above the current one.
   */
  compact(revision: number): Promise<void>;
  /** The newest revision. */
  currentRevision(): Promise<number>;
  /** The oldest revision still readable (history below it was compacted); 0 if never compacted. */
  compactedRevision(): Promise<number>;
  /** Releases resources; pending writes finish, running watches end with a StorageError. */
  close(): Promise<void>;
}

/** Base class of storage errors. */
export class StorageError extends Error {}

/** The key already exists (create). */
export class KeyExistsError extends StorageError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}

/** The key does not exist (update, delete). */
export class KeyNotFoundError extends StorageError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

/** The key's modRevision differs from the expected one; `current` is its current state. */
export class ConflictError extends StorageError {
  constructor(readonly key: string, readonly current: KeyValue) {
    super(`conflict on ${key}: current revision ${current.modRevision}`);
  }
}

/** The requested revision has been compacted (maps to 410 Expired / Gone). */
export class CompactedError extends StorageError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`required revision ${requested} has been compacted (oldest available ${compacted})`);
  }
}

/** The requested revision is newer than the store's (future revision). */
export class FutureRevisionError extends StorageError {
  constructor(readonly requested: number, readonly current: number) {
    super(`required revision ${requested} is a future revision (current ${current})`);
  }
}

/** Retention policy of automatic compaction. */
export interface RetentionOptions {
  /** Keep at least this much history, ms (default 5 minutes). */
  minAgeMs?: number;
  /** Keep at least this many revisions (default 1000). */
  minRevisions?: number;
  /** How often the compactor runs, ms (default 30 s). */
  intervalMs?: number;
}
