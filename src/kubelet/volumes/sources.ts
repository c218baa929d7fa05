/**
 * Payloads of the kubelet's API-backed volumes (configMap, secret, downwardAPI, projected), built
 * with upstream semantics: `items` map keys to paths, per-item `mode` else `defaultMode` (0644),
 * `optional` sources that are missing give no files, secrets and binaryData are base64-decoded.
 * Error messages are the kubelet's (`configmap "x" not found`,
 * `configmap references non-existent config key: k`, ...).
 */
import type {
  ConfigMap, ConfigMapVolumeSource, DownwardAPIVolumeFile, KeyToPath, Pod, ProjectedVolumeSource, Secret, SecretVolumeSource,
} from 'kubernetes-types/core/v1.js';
import type { RestClient } from '../../client/rest.js';
import { ApiError } from '../../apimachinery/errors.js';
import { fieldRefValue, resourceFieldValue, type PodRuntimeInfo } from '../podconfig.js';
import type { FileProjection, Payload } from './atomicwriter.js';

type Maybe<T> = T | undefined | Promise<T | undefined>;

/** Where volume contents come from; configMap/secret give undefined when the object does not exist. */
export interface VolumeSources {
  configMap(ns: string, name: string): Maybe<ConfigMap>;
  /** The Secret as stored (data values base64-encoded). */
  secret(ns: string, name: string): Maybe<Secret>;
  /**
   * A token for the pod's service account (TokenRequest bound to the pod). Absent: the API server
   * has no serviceaccounts/token subresource and serviceAccountToken projections fail.
   */
  serviceAccountToken?(pod: Pod, req: { audience?: string; expirationSeconds: number }): Promise<string>;
}

/** Node facts the downward API needs for unset limits (limits.cpu / limits.memory default to allocatable). */
export interface DownwardNodeInfo {
  nodeMilliCPU?: number;
  nodeMemoryBytes?: number;
}

/** Default file mode of configMap, secret, downwardAPI and projected volumes (0644). */
export const DEFAULT_MODE = 0o644;

/** Sources that read configMaps and secrets through `client` (404 -> undefined, other errors thrown). */
export function restVolumeSources(client: RestClient): VolumeSources {
  const get = async <T>(resource: string, ns: string, name: string): Promise<T | undefined> => {
    try {
      return await client.get<T>({ group: '', version: 'v1', resource, namespace: ns }, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };
  return {
    configMap: (ns, name) => get<ConfigMap>('configmaps', ns, name),
    secret: (ns, name) => get<Secret>('secrets', ns, name),
  };
}

/** Upstream MakePayload: all keys (key -> key) or the listed items; a missing key fails unless optional. */
function makePayload(
  data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number, optional: boolean, missingKey: (k: string) => string,
): Payload {
  const out: Payload = new Map();
  if (!items?.length) {
    for (const [k, v] of data) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new Error(missingKey(it.key));
    }
    out.set(it.path, { data: v, mode: it.mode ?? defaultMode });
  }
  return out;
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

/** The data of a configMap (data as UTF-8, binaryData decoded); undefined when missing and optional. */
async function configMapData(pod: Pod, name: string, optional: boolean, sources: VolumeSources): Promise<Map<string, Buffer> | undefined> {
  const cm = await sources.configMap(pod.metadata?.namespace ?? 'default', name);
  if (!cm) {
    if (optional) return undefined;
    throw new Error(`configmap "${name}" not found`);
  }
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) data.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) data.set(k, b64(v));
  return data;
}

async function secretData(pod: Pod, name: string, optional: boolean, sources: VolumeSources): Promise<Map<string, Buffer> | undefined> {
  const s = await sources.secret(pod.metadata?.namespace ?? 'default', name);
  if (!s) {
    if (optional) return undefined;
    throw new Error(`secret "${name}" not found`);
  }
  return new Map(Object.entries(s.data ?? {}).map(([k, v]) => [k, b64(v)]));
}

const cmKeyError = (k: string): string => `configmap references non-existent config key: ${k}`;
const secretKeyError = (k: string): string => `references non-existent secret key: ${k}`;

/** Files of a configMap volume (or projection with `defaultMode` from the projected volume). */
export async function configMapPayload(pod: Pod, src: ConfigMapVolumeSource, sources: VolumeSources, defaultMode = src.defaultMode ?? DEFAULT_MODE): Promise<Payload> {
  const optional = src.optional ?? false;
  const data = await configMapData(pod, src.name ?? '', optional, sources);
  return data ? makePayload(data, src.items, defaultMode, optional, cmKeyError) : new Map();
}

/** Files of a secret volume; the source's name is `secretName` (projections use `name`). */
export async function secretPayload(pod: Pod, src: SecretVolumeSource & { name?: string }, sources: VolumeSources, defaultMode = src.defaultMode ?? DEFAULT_MODE): Promise<Payload> {
  const optional = src.optional ?? false;
  const data = await secretData(pod, src.secretName ?? src.name ?? '', optional, sources);
  return data ? makePayload(data, src.items, defaultMode, optional, secretKeyError) : new Map();
}

/** Files of a downwardAPI volume: fieldRef (metadata.*) and resourceFieldRef (containerName required) items. */
export function downwardAPIPayload(pod: Pod, items: DownwardAPIVolumeFile[] | undefined, defaultMode: number, node: DownwardNodeInfo = {}): Payload {
  const info: PodRuntimeInfo = { hostIP: '', nodeName: pod.spec?.nodeName ?? '', nodeMilliCPU: node.nodeMilliCPU, nodeMemoryBytes: node.nodeMemoryBytes };
  const out: Payload = new Map();
  for (const it of items ?? []) {
    let value: string;
    if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, info);
    else if (it.resourceFieldRef) {
      const rf = it.resourceFieldRef;
      const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
      const c = all.find((x) => x.name === rf.containerName);
      if (!c) throw new Error(`container ${rf.containerName ?? ''} not found`);
      value = resourceFieldValue(c, rf.resource, rf.divisor, info);
    } else continue;
    out.set(it.path, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
  }
  return out;
}

/** Files of a projected volume: each source in order, later paths overriding earlier ones; all errors joined. */
export async function projectedPayload(pod: Pod, src: ProjectedVolumeSource, sources: VolumeSources, node: DownwardNodeInfo = {}): Promise<Payload> {
  const mode = src.defaultMode ?? DEFAULT_MODE;
  const out: Payload = new Map();
  const errors: string[] = [];
  const add = (p: Payload): void => {
    for (const [k, v] of p) out.set(k, v);
  };
  for (const s of src.sources ?? []) {
    try {
      if (s.configMap) add(await configMapPayload(pod, s.configMap, sources, mode));
      else if (s.secret) add(await secretPayload(pod, s.secret, sources, mode));
      else if (s.downwardAPI) add(downwardAPIPayload(pod, s.downwardAPI.items, mode, node));
      else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        if (!sources.serviceAccountToken) {
          throw new Error('serviceAccountToken projection is not supported: the API server has no serviceaccounts/token (TokenRequest) subresource');
        }
        const token = await sources.serviceAccountToken(pod, { audience: t.audience || undefined, expirationSeconds: t.expirationSeconds ?? 3600 });
        add(new Map<string, FileProjection>([[t.path, { data: Buffer.from(token, 'utf8'), mode }]]));
      } else if (s.clusterTrustBundle) throw new Error('clusterTrustBundle projection is not supported');
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length) throw new Error(`[${errors.join(', ')}]`);
  return out;
}
