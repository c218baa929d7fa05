/**
 * The Kubernetes protobuf schema (src/api/proto/k8s.json, generated from a kubectl binary by
 * scripts/gen-proto-schema.mjs), loaded on first use so that servers that never see a protobuf
 * body never pay for it.
 */
import { join } from 'node:path';
import { packageRoot } from '../../packageroot.js';
import { existsSync, readFileSync } from 'node:fs';
import { loadTypes, type MsgType } from './wire.js';

/** Per-message Go JSON facts: field name -> flags (see the generator), or '[]' for slice types. */
export type GoTable = Record<string, Record<string, string> | '[]'>;

/** The loaded schema: message types by full name, and the Go table. */
export interface ProtoSchema {
  types: Map<string, MsgType>;
  go: GoTable;
}

/** Proto package of meta/v1, home of Time, ObjectMeta and the option kinds. */
export const META_PKG = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** meta/v1 kinds that clients send as bodies under any group version (registered in every one). */
const META_KINDS = new Set(['DeleteOptions']);

let loaded: ProtoSchema | undefined;

/** Where k8s.json is: src/api/proto/ of the package (the same from tsc output and the bundle). */
function schemaPath(): string {
  const p = join(packageRoot(), 'src', 'api', 'proto', 'k8s.json');
  if (existsSync(p)) return p;
  throw new Error('k8s.json (the protobuf schema) was not found');
}

/** Whether the schema has been loaded in this process (it is loaded on first use only). */
export function isProtoSchemaLoaded(): boolean {
  return loaded !== undefined;
}

/** Loads (once) and returns the schema; throws if the schema file is missing. */
export function protoSchema(): ProtoSchema {
  if (loaded) return loaded;
  const json = JSON.parse(readFileSync(schemaPath(), 'utf8')) as Parameters<typeof loadTypes>[0] & { go: GoTable };
  loaded = { types: loadTypes(json), go: json.go };
  return loaded;
}

/** Splits "apps/v1" into group and version ("v1" is the core group). */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The proto package of a group version: k8s.io.api.<first label of the group>.<version>. */
export function protoPackage(apiVersion: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  if (group === 'meta.k8s.io') return `${META_PKG.slice(0, -3)}.${version}`;
  return `k8s.io.api.${group === '' ? 'core' : group.split('.')[0]}.${version}`;
}

/**
 * The message type of a top-level kind (one with ObjectMeta metadata, or a meta/v1 option kind),
 * or undefined when the schema has none.
 */
export function kindType(s: ProtoSchema, apiVersion: string, kind: string): MsgType | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind) || !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return undefined;
  const t = s.types.get(`${protoPackage(apiVersion)}.${kind}`);
  if (t?.fields.some((f) => f.name === 'metadata' && f.msg?.name === `${META_PKG}.ObjectMeta`)) return t;
  if (META_KINDS.has(kind)) return s.types.get(`${META_PKG}.${kind}`);
  return undefined;
}
