/**
 * Storage keys and object (de)serialization. Keys follow kube-apiserver's layout with the
 * group always present: `/registry/<group|core>/<resource>/<namespace>/<name>`, or without
 * the namespace for cluster-scoped kinds. Stored values are the object's JSON without
 * `metadata.resourceVersion`, which is the storage revision and is filled in on read.
 */
import type { KeyValue } from '../../storage/backend.js';
import type { KubeObject, ResourceDef } from '../../api/resource.js';

/** The storage prefix of a resource, optionally narrowed to one namespace. Ends with '/'. */
export function resourcePrefix(def: Pick<ResourceDef, 'group' | 'plural' | 'namespaced'>, namespace?: string): string {
  const base = `/registry/${def.group || 'core'}/${def.plural}/`;
  return def.namespaced && namespace ? `${base}${namespace}/` : base;
}

/** The storage key of one object. */
export function objectKey(def: Pick<ResourceDef, 'group' | 'plural' | 'namespaced'>, namespace: string, name: string): string {
  return def.namespaced ? `${resourcePrefix(def)}${namespace}/${name}` : `${resourcePrefix(def)}${name}`;
}

/** Serializes an object for storage (drops resourceVersion; never mutates `obj`). */
export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

/** Parses a stored value and sets metadata.resourceVersion from the key's modRevision. */
export function decodeObject(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata = obj.metadata ?? {};
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/** Continue token contents, as upstream: the list revision and the next key (relative). */
export interface ContinueToken {
  rv: number;
  start: string;
}

/** Encodes a continue token (base64 JSON, like upstream's). */
export function encodeContinue(rv: number, startKey: string, prefix: string): string {
  const start = startKey.startsWith(prefix) ? startKey.slice(prefix.length) : startKey;
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

/** Decodes a continue token; undefined when malformed. */
export function decodeContinue(token: string, prefix: string): { rv: number; startKey: string } | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (raw.v !== 'meta.k8s.io/v1' || typeof raw.rv !== 'number' || typeof raw.start !== 'string') return undefined;
    if (raw.start.includes('..') || raw.start.startsWith('/')) return undefined;
    return { rv: raw.rv, startKey: prefix + raw.start };
  } catch {
    return undefined;
  }
}
