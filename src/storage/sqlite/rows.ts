/** Conversions from `kv` rows to the contract's KeyValue and StorageEvent. */
import type { KeyValue, StorageEvent } from '../backend.js';
import type { Row } from './db.js';

/** The key-value a (non-tombstone) row stores. */
export function rowToKv(row: Pick<Row, 'id' | 'name' | 'create_revision' | 'value'>): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

/** The event a row records; `prev` is the row it superseded, when still stored. */
export function rowToEvent(row: Row, prev: Row | undefined): StorageEvent {
  const kv = rowToKv(row);
  if (row.created) return { type: 'create', kv };
  if (row.deleted) {
    // Tombstones keep the deleted value, so prevKv needs no second read.
    return { type: 'delete', kv, prevKv: { ...kv, modRevision: row.prev_revision } };
  }
  return prev && !prev.deleted ? { type: 'update', kv, prevKv: rowToKv(prev) } : { type: 'update', kv };
}
