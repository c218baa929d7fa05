/** Recognizing etcd's error answers (the etcd3 client surfaces them as gRPC errors). */

/** etcd answered "mvcc: required revision has been compacted". */
export function isCompactedError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision has been compacted');
}

/** etcd answered "mvcc: required revision is a future revision". */
export function isFutureRevisionError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision is a future revision');
}
