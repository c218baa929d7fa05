/**
 * The certificate controllers of kube-controller-manager: the CSR signer (./signer.ts,
 * "csrsigning") and the CSR approver (./approver.ts, "csrapproving"), with the per-signer
 * request checks they share (./validation.ts) and the X.509 helpers (./x509.ts).
 */
export * from './signer.js';
export * from './approver.js';
export * from './validation.js';
export { parseCSR, issueForCSR, loadCA, validityWindow, keyUsages, type ParsedCSR, type SigningCA, type LoadedCA } from './x509.js';
