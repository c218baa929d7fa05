/** Conversions between etcd's key-values and the contract's, under a key prefix. */
import type { IEvent, IKeyValue } from 'etcd3';
import type { KeyValue, StorageEvent } from '../backend.js';

/** Maps contract keys to etcd keys under `prefix` and back. */
export class KeySpace {
  private readonly prefixBytes: Buffer;

  constructor(readonly prefix: string) {
    this.prefixBytes = Buffer.from(prefix);
  }

  /** The etcd key of `key`. */
  toEtcd(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** The contract key of an etcd key (which must lie under the prefix). */
  fromEtcd(key: Buffer): string {
    return key.subarray(this.prefixBytes.length).toString();
  }

  /** An etcd key-value as a KeyValue. */
  kv(kv: IKeyValue): KeyValue {
    return {
      key: this.fromEtcd(kv.key),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /**
   * A watch event as a StorageEvent. A delete carries the last value (from prev_kv, which
   * the watch always requests); prevKv is kept only when `withPrev`.
   */
  event(ev: IEvent, withPrev: boolean): StorageEvent {
    const prev = ev.prev_kv ? this.kv(ev.prev_kv) : undefined;
    if (ev.type === 'Delete') {
      const kv: KeyValue = {
        key: this.fromEtcd(ev.kv.key),
        value: prev?.value ?? '',
        createRevision: prev?.createRevision ?? 0,
        modRevision: Number(ev.kv.mod_revision),
      };
      return withPrev && prev ? { type: 'delete', kv, prevKv: prev } : { type: 'delete', kv };
    }
    const kv = this.kv(ev.kv);
    const type = kv.createRevision === kv.modRevision ? 'create' : 'update';
    return withPrev && prev && type === 'update' ? { type, kv, prevKv: prev } : { type, kv };
  }
}
