/**
 * The /scale subresource: an autoscaling/v1 Scale view of a workload's replicas.
 */
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { badRequest, conflict, fieldErrors, invalid, unsupportedMediaType } from '../../apimachinery/errors.js';
import { bodyTypeOf } from '../http/negotiation.js';
import { decodeBody, decodeRequestObject } from '../http/body.js';
import { qr, type ObjectStore } from '../registry/store.js';
import { applyPatch, formatSelector } from './adapters.js';

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Builds the Scale of an object. */
export function scaleOf(def: ResourceDef, obj: KubeObject): Record<string, unknown> {
  const s = def.subresources!.scale!;
  const m = obj.metadata;
  let selector: string | undefined;
  if (s.labelSelectorPath) {
    const sel = getPath(obj, s.labelSelectorPath);
    if (typeof sel === 'string') selector = sel;
    else if (sel && typeof sel === 'object') {
      // A LabelSelector (apps kinds) or a plain label map (ReplicationController).
      const isLabelSelector = 'matchLabels' in sel || 'matchExpressions' in sel || Object.keys(sel).length === 0;
      selector = formatSelector(isLabelSelector ? (sel as Record<string, unknown>) : { matchLabels: sel });
    }
  }
  const status: Record<string, unknown> = { replicas: Number(getPath(obj, s.statusReplicasPath) ?? 0) };
  if (selector !== undefined) status['selector'] = selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(getPath(obj, s.specReplicasPath) ?? 0) },
    status,
  };
}

/** GET .../scale. */
export async function getScale(store: ObjectStore, def: ResourceDef, namespace: string, name: string): Promise<Record<string, unknown>> {
  return scaleOf(def, await store.get(def, namespace, name));
}

/** PUT or PATCH .../scale: writes spec.replicas of the parent, honouring a resourceVersion precondition. */
export async function updateScale(
  store: ObjectStore,
  def: ResourceDef,
  namespace: string,
  name: string,
  verb: string,
  contentType: string | undefined,
  body: Buffer,
  dryRun: boolean,
): Promise<Record<string, unknown>> {
  const bt = bodyTypeOf(contentType);
  const specPath = def.subresources!.scale!.specReplicasPath;
  const { object } = await store.guaranteedUpdate(
    def,
    namespace,
    name,
    async (current) => {
      if (!current) throw new Error('unreachable');
      const scale = scaleOf(def, current);
      let next: Record<string, unknown>;
      if (verb === 'update') {
        if (bt !== 'json' && bt !== 'yaml' && bt !== 'protobuf') throw unsupportedMediaType(String(contentType));
        next = decodeRequestObject(body, bt);
        if (!next || typeof next !== 'object') throw badRequest('Scale body must be an object');
        const rv = (next['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) throw conflict(qr(def), name);
      } else {
        if (!bt || bt === 'json' || bt === 'yaml' || bt === 'protobuf' || bt === 'apply-patch') throw unsupportedMediaType(String(contentType));
        next = applyPatch(bt, scaleDef, scale as KubeObject, decodeBody(body, false));
      }
      const replicas = (next['spec'] as { replicas?: unknown } | undefined)?.replicas;
      if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0))
        throw invalid('Scale', 'autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      const updated = structuredClone(current);
      setPath(updated, specPath, replicas ?? 0);
      return { update: updated };
    },
    { dryRun },
  );
  return scaleOf(def, object);
}

const scaleDef: ResourceDef = { group: 'autoscaling', version: 'v1', kind: 'Scale', plural: 'scale', singular: 'scale', namespaced: true };
