/**
 * The CSR signing controller (kube-controller-manager's
 * certificatesigningrequest-signing-controller, "csrsigning"): signs approved
 * CertificateSigningRequests of the built-in signers kubernetes.io/kube-apiserver-client,
 * kubernetes.io/kube-apiserver-client-kubelet and kubernetes.io/kubelet-serving with the
 * cluster CA. A request failing its signer's checks gets a `Failed` condition (reason
 * SignerValidationFailure) instead of a certificate; the certificate (PEM) is written to
 * status.certificate through the status subresource. Validity: spec.expirationSeconds
 * (at least 10 minutes) capped at --cluster-signing-duration (default 1 year).
 */
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { Controller, metaTime, realClock, type Clock, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { hasCondition, signerCheck } from './validation.js';
import { issueForCSR, loadCA, parseCSR, type LoadedCA, type SigningCA } from './x509.js';

/** Upstream --cluster-signing-duration default (one year). */
export const DEFAULT_CLUSTER_SIGNING_DURATION_MS = 365 * 24 * 3_600_000;
/** The shortest validity a request may ask for (upstream: 10 minutes). */
export const MIN_DURATION_MS = 600_000;

/** The certificatesigningrequests resource. */
export const CSRS = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

/** Options of {@link startCSRSigningController}. */
export interface CSRSigningOptions extends ControllerStartOptions {
  /** The cluster CA (--cluster-signing-cert-file / --cluster-signing-key-file), PEM. */
  ca: SigningCA;
  /** --cluster-signing-duration in ms (default 1 year): the longest validity issued. */
  signingDurationMs?: number;
}

/** Upstream duration(): the requested expirationSeconds (at least 10 minutes) capped at the signer's TTL. */
export function certificateTTL(signingDurationMs: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined || expirationSeconds === null) return signingDurationMs;
  const want = Math.max(expirationSeconds * 1000, MIN_DURATION_MS);
  return Math.min(want, signingDurationMs);
}

/** What one signing reconcile needs. */
export interface SignContext {
  client: RestClient;
  clock: Clock;
  csrs: Indexer<KubeObject>;
  ca: LoadedCA;
  signingDurationMs: number;
}

/** True when the signer should act on the request: approved, not failed, not issued, one of its signers. */
export function needsSigning(csr: CertificateSigningRequest): boolean {
  if (!hasCondition(csr, 'Approved') || hasCondition(csr, 'Failed') || csr.status?.certificate) return false;
  return signerCheck(csr.spec?.signerName ?? '') !== undefined;
}

/**
 * Upstream signer.handle for one cached request: a failing check adds the Failed condition;
 * otherwise the certificate is issued and written with the status subresource. A request that
 * cannot be parsed or whose signature does not verify is an error (retried), as upstream.
 */
export async function syncCSRSigning(ctx: SignContext, key: string): Promise<ReconcileResult> {
  const csr = ctx.csrs.get(key) as CertificateSigningRequest | undefined;
  if (!csr || !needsSigning(csr)) return;
  const check = signerCheck(csr.spec.signerName)!;
  const parsed = parseCSR(csr.spec.request);
  const usages = (csr.spec.usages ?? []) as string[];
  const problem = check(parsed, usages);
  const updated = structuredClone(csr) as CertificateSigningRequest & KubeObject;
  updated.status ??= {};
  if (problem) {
    const now = metaTime(ctx.clock.now());
    updated.status.conditions = [
      ...(updated.status.conditions ?? []),
      { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: now, lastTransitionTime: now },
    ];
  } else {
    const ttl = certificateTTL(ctx.signingDurationMs, csr.spec.expirationSeconds);
    const pem = await issueForCSR(ctx.ca, parsed, usages, ttl, ctx.clock.now());
    updated.status.certificate = Buffer.from(pem).toString('base64');
  }
  try {
    await ctx.client.update(CSRS, updated, 'status');
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}

/**
 * Loads the CA, registers on the factory's CSR informer (approved requests of the built-in
 * signers are queued), starts the factory, waits for sync and runs the workers (default 5);
 * `done` resolves after `signal` aborts.
 */
export async function startCSRSigningController(opts: CSRSigningOptions): Promise<RunningController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const ca = await loadCA(opts.ca);
  const inf = factory.informerFor(CSRS);
  const ctx: SignContext = { client, clock, csrs: inf.store, ca, signingDurationMs: opts.signingDurationMs ?? DEFAULT_CLUSTER_SIGNING_DURATION_MS };
  const controller = new Controller({
    name: 'certificatesigningrequest-signing-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncCSRSigning(ctx, key),
  });
  const consider = (o: KubeObject) => {
    if (needsSigning(o as unknown as CertificateSigningRequest)) controller.enqueue(o.metadata.name!);
  };
  inf.addEventHandler({ onAdd: consider, onUpdate: (_old, o) => consider(o) });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
