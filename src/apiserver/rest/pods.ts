/**
 * Subresources with their own semantics: pods/binding, pods/eviction, the node-streaming
 * routes (log, exec, attach, portforward, proxy) and namespaces/finalize.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { ApiError, badRequest, conflict, invalid, methodNotAllowed, notFound, serviceUnavailable } from '../../apimachinery/errors.js';
import type { RequestInfo } from '../http/requestinfo.js';
import type { Representation } from '../http/negotiation.js';
import { decodeObjectBody, readBody } from '../http/body.js';
import { writeObject } from '../http/respond.js';
import { qr, type ObjectStore } from '../registry/store.js';
import { applyPodBinding, validatePodBinding } from '../../api/kinds/core/pod.js';
import type { RestHandler } from './handler.js';

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
    const opts = (body['deleteOptions'] ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } };
    // PodDisruptionBudgets are enforced by the disruption controller's status (later issue).
    await store.delete(def, info.namespace, info.name, { gracePeriodSeconds: opts.gracePeriodSeconds, preconditions: opts.preconditions });
    writeObject(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, rep.format);
  };

  const nodeStream = (sub: string): Sub => async (req, res, info, def) => {
    const pod = await store.get(def, info.namespace, info.name);
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
