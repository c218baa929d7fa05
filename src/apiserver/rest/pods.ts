/**
 * Subresources with their own semantics: pods/binding, pods/eviction (PodDisruptionBudget
 * checks as upstream: 429 when the budget allows no disruption, the disruption recorded in
 * the budget's status.disruptedPods before the delete), the node-streaming routes (log, exec,
 * attach, portforward, proxy) and namespaces/finalize.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { ApiError, badRequest, conflict, forbidden, invalid, isConflict, methodNotAllowed, notFound, serviceUnavailable, type Status } from '../../apimachinery/errors.js';
import type { RequestInfo } from '../http/requestinfo.js';
import type { Representation } from '../http/negotiation.js';
import { decodeObjectBody, readBody } from '../http/body.js';
import { writeObject } from '../http/respond.js';
import { qr, type DeleteOptions, type ObjectStore } from '../registry/store.js';
import { podDisruptionBudgetResource } from '../../api/kinds/policy.js';
import { selectorFromLabelSelector } from '../../apimachinery/labels.js';
import { applyPodBinding, validatePodBinding } from '../../api/kinds/core/pod.js';
import type { RestHandler } from './handler.js';
import { parseProxyName } from '../nodeproxy.js';

type Sub = (req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation) => Promise<void>;

/** Streaming to a node: answered by the node agent once one serves this pod's node. */
export interface NodeStreamer {
  /** Serves log/exec/attach/portforward/proxy for a pod; undefined if no agent serves its node. */
  serve?(sub: string, pod: KubeObject, req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/** Registers the pod and namespace subresource handlers on `rest`. */
export function registerPodSubresources(rest: RestHandler, store: ObjectStore, now: () => Date, streamer: NodeStreamer = {}): void {
  const binding: Sub = async (req, res, info, def, rep) => {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const body = decodeObjectBody(await readBody(req), false);
    const errs = validatePodBinding(body as KubeObject);
    if (errs.length) throw invalid('Binding', '', info.name, errs);
    const uid = (body['metadata'] as { uid?: string } | undefined)?.uid;
    await store.guaranteedUpdate(def, info.namespace, info.name, async (pod) => {
      if (!pod) throw notFound(qr(def), info.name);
      if (uid && pod.metadata.uid !== uid) throw conflict(qr(def), info.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
      applyPodBinding(pod, body as KubeObject, now());
      return { update: pod };
    }, { subresource: 'binding' });
    writeObject(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, rep.format);
  };

  const eviction: Sub = async (req, res, info, def, rep) => {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const body = decodeObjectBody(await readBody(req), false);
    const bodyName = (body['metadata'] as { name?: string } | undefined)?.name;
    if (bodyName && bodyName !== info.name) throw badRequest('name in URL does not match name in Eviction object');
    const opts = { ...((body['deleteOptions'] ?? {}) as EvictionDeleteOptions) };
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    if (query.getAll('dryRun').includes('All')) opts.dryRun = ['All'];
    const refused = await evictPod(store, def, info.namespace, info.name, opts, now);
    if (refused) return writeObject(res, refused.code, refused, rep.format);
    writeObject(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, rep.format);
  };

  const nodeStream = (sub: string): Sub => async (req, res, info, def) => {
    const pod = await store.get(def, info.namespace, sub === 'proxy' ? parseProxyName(info.name).name : info.name);
    const nodeName = (pod['spec'] as { nodeName?: string }).nodeName;
    if (!nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
    if (streamer.serve && (await streamer.serve(sub, pod, req, res))) return;
    throw serviceUnavailable(`no node agent serves node "${nodeName}": ${sub} is answered by the k8ts node agent, which is not running for this node`);
  };

  for (const sub of ['log', 'exec', 'attach', 'portforward', 'proxy']) rest.subresourceHandlers.set(`/pods/${sub}`, nodeStream(sub));
  rest.subresourceHandlers.set('/pods/binding', binding);
  rest.subresourceHandlers.set('/pods/eviction', eviction);

  rest.subresourceHandlers.set('/namespaces/finalize', async (req, res, info, def, rep) => {
    if (info.verb !== 'update') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const body = decodeObjectBody(await readBody(req), false) as KubeObject;
    const { object } = await store.guaranteedUpdate(def, '', info.name, async (ns) => {
      if (!ns) throw new ApiError(404, 'NotFound', `namespaces "${info.name}" not found`, { name: info.name, kind: 'namespaces' });
      const rv = body.metadata?.resourceVersion;
      if (rv && rv !== ns.metadata.resourceVersion) throw conflict(qr(def), info.name);
      const finalizers = (body['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? [];
      ns['spec'] = { ...((ns['spec'] as object) ?? {}), finalizers };
      return { update: ns };
    }, { subresource: 'finalize' });
    // With no finalizers left a terminating namespace is removed.
    if ((object['spec'] as { finalizers?: string[] }).finalizers?.length === 0 && object.metadata.deletionTimestamp && !object.metadata.finalizers?.length) {
      await store.delete(def, '', info.name).catch(() => undefined);
    }
    writeObject(res, 200, object, rep.format);
  });
}

/** meta/v1 DeleteOptions as an Eviction carries them. */
interface EvictionDeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: DeleteOptions['propagationPolicy'];
  dryRun?: string[];
}

/** Upstream's retries of conflicting eviction steps (retry.DefaultRetry's step count). */
const EVICTION_RETRIES = 5;
/** Upstream MaxDisruptedPodSize. */
const MAX_DISRUPTED_POD_SIZE = 2000;
const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

interface PodLike extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }> };
}
interface PdbLike extends KubeObject {
  spec?: { selector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | null; unhealthyPodEvictionPolicy?: string };
  status?: { observedGeneration?: number; disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; disruptedPods?: Record<string, string>; conditions?: Array<Record<string, unknown>> };
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const isReady = (p: PodLike) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
/** Pods already disrupted (terminal, pending, or being deleted) are evicted without budget checks. */
const canIgnorePDB = (p: PodLike) => ['Succeeded', 'Failed', 'Pending'].includes(p.status?.phase ?? '') || !!p.metadata.deletionTimestamp;

/** 429 for an eviction the budget refuses; `cause` is the DisruptionBudget cause's message. */
function budgetRefusal(cause: string, retryAfterSeconds = 0): ApiError {
  return new ApiError(429, 'TooManyRequests', EVICTION_REFUSED, { retryAfterSeconds: retryAfterSeconds || undefined, causes: [{ reason: 'DisruptionBudget', message: cause }] });
}
const stillProcessing = (name: string) => budgetRefusal(`The disruption budget ${name} is still being processed by the server.`, 10);

/**
 * The pods/eviction create (upstream EvictionREST.Create): deletes the pod when no
 * PodDisruptionBudget forbids it, after taking one disruption from the budget and recording
 * the pod in status.disruptedPods. Throws 429 when the budget allows no disruption; answers
 * the 500 Status to write when more than one budget selects the pod, else undefined.
 */
export async function evictPod(store: ObjectStore, def: ResourceDef, ns: string, name: string, opts: EvictionDeleteOptions, now: () => Date): Promise<Status | undefined> {
  const dryRun = opts.dryRun?.includes('All') ?? false;
  const rvPinned = !!opts.preconditions?.resourceVersion;
  const withRV = (rv: string | undefined): EvictionDeleteOptions => ({ ...opts, preconditions: { ...opts.preconditions, resourceVersion: rv } });
  let pod: PodLike;
  // Pods that are already disrupted are deleted directly (conflicts retried unless the caller pinned a version).
  for (let attempt = 0; ; attempt++) {
    pod = (await store.get(def, ns, name)) as PodLike;
    if (!canIgnorePDB(pod)) break;
    try {
      await markAndDeletePod(store, def, ns, name, rvPinned ? opts : withRV(pod.metadata.resourceVersion), dryRun, now);
      return undefined;
    } catch (e) {
      if (!isConflict(e) || rvPinned || attempt >= EVICTION_RETRIES) throw e;
    }
  }
  const pdbDef = podDisruptionBudgetResource;
  const labels = pod.metadata.labels ?? {};
  const pdbs = ((await store.list(pdbDef, { namespace: ns })).items as PdbLike[]).filter((b) => {
    try {
      return selectorFromLabelSelector(b.spec?.selector as never).matches(labels);
    } catch {
      return false; // an invalid selector matches nothing
    }
  });
  if (pdbs.length > 1) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 };
  }
  let unhealthyOK = false;
  const pdb = pdbs[0];
  if (pdb) {
    if (!isReady(pod)) {
      const st = pdb.status ?? {};
      // An unready pod is not counted as healthy: deleting it takes no disruption when allowed.
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') unhealthyOK = true;
      else if ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0) unhealthyOK = true;
    }
    if (!unhealthyOK) await checkAndDecrement(store, pdb, name, dryRun, now);
  }
  try {
    await markAndDeletePod(store, def, ns, name, unhealthyOK && !rvPinned ? withRV(pod.metadata.resourceVersion) : opts, dryRun, now);
  } catch (e) {
    // The unready pod changed since the budget was read: the client retries.
    if (isConflict(e) && unhealthyOK && !rvPinned) throw stillProcessing(pdb!.metadata.name!);
    throw e;
  }
  return undefined;
}

/** Takes one disruption from `pdb` for pod `podName` (upstream checkAndDecrement), re-reading the budget on conflicts. */
async function checkAndDecrement(store: ObjectStore, first: PdbLike, podName: string, dryRun: boolean, now: () => Date): Promise<void> {
  const pdbDef = podDisruptionBudgetResource;
  const ns = first.metadata.namespace!, name = first.metadata.name!;
  let pdb = first;
  for (let attempt = 0; ; attempt++) {
    const st = structuredClone(pdb.status ?? {});
    if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
    const allowed = st.disruptionsAllowed ?? 0;
    if (allowed < 0) throw forbidden(`poddisruptionbudgets.policy "${name}" is forbidden: pdb disruptions allowed is negative`, { name, group: 'policy', kind: 'poddisruptionbudgets' });
    if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw forbidden(`poddisruptionbudgets.policy "${name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name, group: 'policy', kind: 'poddisruptionbudgets' });
    }
    if (allowed === 0) throw budgetRefusal(`The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`);
    st.disruptionsAllowed = allowed - 1;
    if (st.disruptionsAllowed === 0) {
      const conds = st.conditions ?? [];
      const i = conds.findIndex((c) => c['type'] === 'DisruptionAllowed');
      const c = { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: st.observedGeneration ?? 0, lastTransitionTime: rfc3339(now()) };
      if (i < 0) conds.push(c);
      else conds[i] = { ...c, lastTransitionTime: conds[i]!['status'] === 'False' ? conds[i]!['lastTransitionTime'] : c.lastTransitionTime };
      st.conditions = conds;
    }
    if (dryRun) return;
    st.disruptedPods = { ...(st.disruptedPods ?? {}), [podName]: rfc3339(now()) };
    try {
      await store.update(pdbDef, ns, name, { ...pdb, status: st } as KubeObject, { subresource: 'status' });
      return;
    } catch (e) {
      if (!isConflict(e)) throw e;
      if (attempt >= EVICTION_RETRIES) throw new ApiError(504, 'Timeout', `couldn't update PodDisruptionBudget "${name}" due to conflicts`, { retryAfterSeconds: 10 });
      pdb = (await store.get(pdbDef, ns, name)) as PdbLike;
    }
  }
}

/**
 * Upstream addConditionAndDeletePod: marks the pod DisruptionTarget=True (EvictionByEvictionAPI)
 * through its status, honouring the preconditions, then deletes it with `opts`.
 */
async function markAndDeletePod(store: ObjectStore, def: ResourceDef, ns: string, name: string, opts: EvictionDeleteOptions, dryRun: boolean, now: () => Date): Promise<void> {
  let pre = opts.preconditions;
  if (!dryRun) {
    const { object } = await store.guaranteedUpdate(def, ns, name, async (cur) => {
      if (!cur) throw notFound(qr(def), name);
      if (pre?.uid && pre.uid !== cur.metadata.uid) throw conflict(qr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
        throw conflict(qr(def), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
      }
      const pod = cur as PodLike;
      const status = (pod.status ??= {});
      const conds = (status.conditions ??= []);
      const c = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: rfc3339(now()) };
      const i = conds.findIndex((x) => x.type === 'DisruptionTarget');
      if (i < 0) conds.push(c);
      else conds[i] = { ...conds[i], ...c, lastTransitionTime: conds[i]!.status === 'True' ? conds[i]!.lastTransitionTime : c.lastTransitionTime };
      return { update: cur };
    }, { subresource: 'status' });
    if (pre?.resourceVersion) pre = { ...pre, resourceVersion: object.metadata.resourceVersion };
  }
  await store.delete(def, ns, name, { gracePeriodSeconds: opts.gracePeriodSeconds, propagationPolicy: opts.propagationPolicy, preconditions: pre, dryRun });
}
