/**
 * The CSR approving controller (kube-controller-manager's
 * certificatesigningrequest-approving-controller, "csrapproving"): auto-approves kubelet
 * client certificate requests (signer kubernetes.io/kube-apiserver-client-kubelet, passing
 * upstream's kubelet-client checks) from a new node's bootstrap identity (group
 * system:bootstrappers) or from `system:node:<name>` renewing its own certificate. Upstream
 * asks a SubjectAccessReview for certificatesigningrequests/nodeclient and /selfnodeclient;
 * here the requester's identity decides directly (the permissions the default bindings give).
 * Like k3s, kubelet serving requests (kubernetes.io/kubelet-serving) are approved too when
 * `system:node:<name>` asks for its own name; upstream leaves those to an external approver.
 * Approval is the `Approved` condition (reason AutoApproved) written with the approval subresource.
 */
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { Controller, metaTime, realClock, type Clock, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { CSRS } from './signer.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER, hasCondition, validateKubeletClientCSR, validateKubeletServingCSR } from './validation.js';
import { parseCSR } from './x509.js';

/** The group of bootstrap-token identities. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** Upstream's message for a new node's client certificate. */
export const NODE_CLIENT_MESSAGE = 'Auto approving kubelet client certificate after SubjectAccessReview.';
/** Upstream's message for a node renewing its own client certificate. */
export const SELF_NODE_CLIENT_MESSAGE = 'Auto approving self kubelet client certificate after SubjectAccessReview.';
/** The message for a node's own serving certificate (k3s-style approval). */
export const SELF_NODE_SERVING_MESSAGE = 'Auto approving kubelet serving certificate requested by the node itself.';

/**
 * The approval message for `csr`, or undefined when it is not auto-approved: already decided
 * or issued, another signer, failing the signer's checks, or a requester without the right.
 */
export function autoApprovalMessage(csr: CertificateSigningRequest): string | undefined {
  if (csr.status?.certificate || hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied')) return undefined;
  const signer = csr.spec?.signerName;
  if (signer !== KUBE_APISERVER_CLIENT_KUBELET_SIGNER && signer !== KUBELET_SERVING_SIGNER) return undefined;
  let req;
  try {
    req = parseCSR(csr.spec.request);
  } catch {
    return undefined;
  }
  const usages = (csr.spec.usages ?? []) as string[];
  const user = csr.spec.username ?? '';
  const groups = csr.spec.groups ?? [];
  if (signer === KUBE_APISERVER_CLIENT_KUBELET_SIGNER) {
    if (validateKubeletClientCSR(req, usages)) return undefined;
    if (user === req.commonName) return SELF_NODE_CLIENT_MESSAGE;
    if (groups.includes(BOOTSTRAPPERS_GROUP)) return NODE_CLIENT_MESSAGE;
    return undefined;
  }
  if (validateKubeletServingCSR(req, usages)) return undefined;
  return user === req.commonName ? SELF_NODE_SERVING_MESSAGE : undefined;
}

/** What one approving reconcile needs. */
export interface ApproveContext {
  client: RestClient;
  clock: Clock;
  csrs: Indexer<KubeObject>;
}

/** Approves one request (the cached object, or `csr` when given) if {@link autoApprovalMessage} allows it. */
export async function approveCSR(ctx: ApproveContext, csr: CertificateSigningRequest): Promise<boolean> {
  const message = autoApprovalMessage(csr);
  if (!message) return false;
  const updated = structuredClone(csr) as CertificateSigningRequest & KubeObject;
  updated.status ??= {};
  const now = metaTime(ctx.clock.now());
  updated.status.conditions = [
    ...(updated.status.conditions ?? []),
    { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: now, lastTransitionTime: now },
  ];
  try {
    await ctx.client.update(CSRS, updated, 'approval');
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  return true;
}

/** Reconciles the cached request `key` (its name). */
export async function syncCSRApproving(ctx: ApproveContext, key: string): Promise<ReconcileResult> {
  const csr = ctx.csrs.get(key) as CertificateSigningRequest | undefined;
  if (csr) await approveCSR(ctx, csr);
}

/**
 * Registers on the factory's CSR informer (undecided requests are queued), starts the
 * factory, waits for sync and runs the workers (default 5); `done` resolves after `signal` aborts.
 */
export async function startCSRApprovingController(opts: ControllerStartOptions): Promise<RunningController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const inf = factory.informerFor(CSRS);
  const ctx: ApproveContext = { client, clock, csrs: inf.store };
  const controller = new Controller({
    name: 'certificatesigningrequest-approving-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncCSRApproving(ctx, key),
  });
  const consider = (o: KubeObject) => {
    const c = o as unknown as CertificateSigningRequest;
    if (!c.status?.certificate && !hasCondition(c, 'Approved') && !hasCondition(c, 'Denied')) controller.enqueue(o.metadata.name!);
  };
  inf.addEventHandler({ onAdd: consider, onUpdate: (_old, o) => consider(o) });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
