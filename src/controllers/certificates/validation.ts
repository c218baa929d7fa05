/**
 * The per-signer request checks of the built-in Kubernetes signers (upstream
 * ValidateKubeletClientCSR / ValidateKubeletServingCSR and the kube-apiserver-client usage
 * check), shared by the signer (a failing request gets a Failed condition) and the approver
 * (it only approves requests that pass). Each returns an error message, or undefined.
 */
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { ParsedCSR } from './x509.js';

/** The built-in signers this project signs for. */
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** The CN prefix of node identities. */
export const NODE_USER_PREFIX = 'system:node:';
/** The group of node identities. */
export const NODES_GROUP = 'system:nodes';

const sameSet = (a: readonly string[], b: readonly string[]) => new Set(a).size === b.length && b.every((x) => a.includes(x)) && a.every((x) => b.includes(x));
const CLIENT_KUBELET_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const CLIENT_KUBELET_USAGES_NO_RSA = ['digital signature', 'client auth'];
const SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

function nodesOrg(req: ParsedCSR): string | undefined {
  return req.organizations.length === 1 && req.organizations[0] === NODES_GROUP ? undefined : 'subject organization is not system:nodes';
}

/** Upstream ValidateKubeletClientCSR: O=[system:nodes], CN system:node:*, no SANs, client usages exactly. */
export function validateKubeletClientCSR(req: ParsedCSR, usages: readonly string[]): string | undefined {
  const org = nodesOrg(req);
  if (org) return org;
  if (req.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, CLIENT_KUBELET_USAGES) && !sameSet(usages, CLIENT_KUBELET_USAGES_NO_RSA))
    return `usages did not match [${[...CLIENT_KUBELET_USAGES].sort().join(' ')}]`;
  return undefined;
}

/** Upstream ValidateKubeletServingCSR: O=[system:nodes], DNS or IP SANs only, serving usages, CN system:node:*. */
export function validateKubeletServingCSR(req: ParsedCSR, usages: readonly string[]): string | undefined {
  const org = nodesOrg(req);
  if (org) return org;
  if (!req.dnsNames.length && !req.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, SERVING_USAGES) && !sameSet(usages, SERVING_USAGES_NO_RSA)) return `usages did not match [${[...SERVING_USAGES].sort().join(' ')}]`;
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** Upstream validAPIServerClientUsages: client auth required; digital signature and key encipherment optional. */
export function validateAPIServerClientUsages(usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') clientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

/** The check of `signerName`'s signer; undefined when `signerName` is not one of the three built-in ones. */
export function signerCheck(signerName: string): ((req: ParsedCSR, usages: readonly string[]) => string | undefined) | undefined {
  switch (signerName) {
    case KUBE_APISERVER_CLIENT_SIGNER:
      return (_req, usages) => validateAPIServerClientUsages(usages);
    case KUBE_APISERVER_CLIENT_KUBELET_SIGNER:
      return validateKubeletClientCSR;
    case KUBELET_SERVING_SIGNER:
      return validateKubeletServingCSR;
  }
  return undefined;
}

/** True when a condition of `type` is True on the request. */
export function hasCondition(csr: CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}
