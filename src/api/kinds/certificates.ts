/**
 * certificates.k8s.io/v1 CertificateSigningRequest: a PEM PKCS#10 request for a signer.
 * The spec is fixed once created (main-resource updates keep it); status and approval
 * subresources carry the conditions and the issued certificate. Table: NAME AGE
 * SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION; field selector spec.signerName.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { DNS1123LabelMaxLength, DNS1123SubdomainMaxLength, isDNS1123Label, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import { arr, num, obj, objs, str } from './core/fields.js';
import { ageCell, ageColumn, column, humanDuration, nameColumn } from './core/printers.js';

/** Key usages a request may ask for. */
export const KEY_USAGES = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];

const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
const MIN_EXPIRATION_SECONDS = 600;

/** The PEM blocks of `text` as [type, DER bytes]. */
export function pemBlocks(text: string): [string, Buffer][] {
  const blocks: [string, Buffer][] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) blocks.push([m[1]!, Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')]);
  return blocks;
}

/** Reads a DER tag/length header at `at`; undefined when truncated. */
function derHeader(der: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return start + len <= der.length ? { tag, start, end: start + len } : undefined;
}

/**
 * Upstream's request check, structurally: one CERTIFICATE REQUEST PEM block holding a
 * PKCS#10 SEQUENCE { SEQUENCE { INTEGER version, ... }, algorithm, signature }.
 * Returns the error message, or undefined when well-formed. Signatures are not verified.
 */
export function checkCertificateRequest(request: unknown): string | undefined {
  const text = Buffer.from(str(request), 'base64').toString('latin1');
  const block = pemBlocks(text)[0];
  if (!block || block[0] !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  const der = block[1];
  const outer = derHeader(der, 0);
  const info = outer && outer.tag === 0x30 && outer.end === der.length ? derHeader(der, outer.start) : undefined;
  const version = info && info.tag === 0x30 ? derHeader(der, info.start) : undefined;
  if (!version || version.tag !== 0x02) return 'x509: malformed certificate request';
  return undefined;
}

/** Upstream ValidateSignerName: "<domain>/<path>" with DNS labels in the domain and subdomains in the path. */
export function validateSignerName(signerName: unknown, path = 'spec.signerName'): FieldError[] {
  const s = str(signerName);
  if (s === '') return [fieldErrors.required(path)];
  const segments = s.split('/');
  if (segments.length !== 2) return [fieldErrors.invalid(path, s, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, rest] = segments as [string, string];
  const errs: FieldError[] = [];
  if (domain.length > DNS1123SubdomainMaxLength) errs.push(fieldErrors.tooLong(path, domain, DNS1123SubdomainMaxLength));
  const labels = domain.split('.');
  for (const l of labels) {
    const msgs = isDNS1123Label(l);
    if (msgs.length) {
      errs.push(...msgs.map((m) => fieldErrors.invalid(path, domain, `validating label ${JSON.stringify(l)}: ${m}`)));
      break;
    }
  }
  if (labels.length < 2) errs.push(fieldErrors.invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const c of rest.split('.')) {
    const msgs = isDNS1123Subdomain(c);
    if (msgs.length) {
      errs.push(...msgs.map((m) => fieldErrors.invalid(path, rest, `validating component ${JSON.stringify(c)}: ${m}`)));
      break;
    }
  }
  const maxPath = DNS1123SubdomainMaxLength + DNS1123LabelMaxLength + 1;
  if (rest.length > maxPath) errs.push(fieldErrors.tooLong(path, rest, maxPath));
  return errs;
}

/** Conditions: type and status required, Approved/Denied only True and never both, no duplicate types. */
export function validateCSRConditions(o: KubeObject): FieldError[] {
  const p = 'status.conditions';
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  const conditions = arr(obj(o.status).conditions);
  conditions.forEach((x, i) => {
    const c = obj(x);
    const type = str(c.type);
    if (!type) errs.push(fieldErrors.required(`${p}[${i}].type`));
    if (!c.status) errs.push(fieldErrors.required(`${p}[${i}].status`));
    else if (!['True', 'False', 'Unknown'].includes(c.status as string)) errs.push(fieldErrors.notSupported(`${p}[${i}].status`, c.status, ['False', 'True', 'Unknown']));
    if (type === 'Approved' || type === 'Denied') {
      if (type === 'Approved') approved = true;
      else denied = true;
      if (c.status !== 'True') errs.push(fieldErrors.invalid(`${p}[${i}].status`, c.status ?? '', `${type} condition may only be set to True`));
    }
    if (type && seen.has(type)) errs.push(fieldErrors.duplicate(`${p}[${i}].type`, type));
    seen.add(type);
  });
  if (approved && denied) errs.push(fieldErrors.invalid(p, conditions, 'Approved and Denied conditions are mutually exclusive'));
  return errs;
}

/** Validates a new CertificateSigningRequest. */
export function validateCSR(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const requestError = checkCertificateRequest(spec.request);
  if (requestError) errs.push(fieldErrors.invalid('spec.request', spec.request ?? '', requestError));
  const usages = arr(spec.usages);
  if (usages.length === 0) errs.push(fieldErrors.required('spec.usages'));
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u as string)) errs.push(fieldErrors.notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    if (seen.has(u)) errs.push(fieldErrors.duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  if (spec.signerName === LEGACY_UNKNOWN_SIGNER) errs.push(fieldErrors.invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  else errs.push(...validateSignerName(spec.signerName));
  const exp = num(spec.expirationSeconds);
  if (exp !== undefined && exp < MIN_EXPIRATION_SECONDS) {
    errs.push(fieldErrors.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  return [...errs, ...validateCSRConditions(o)];
}

/** Status and approval writes: valid conditions; an issued certificate is PEM CERTIFICATE blocks and never replaced. */
export function validateCSRStatusUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateCSRConditions(o);
  const cert = str(obj(o.status).certificate);
  const oldCert = str(obj(old.status).certificate);
  if (oldCert && cert !== oldCert) errs.push(fieldErrors.invalid('status.certificate', '', 'updates may not modify existing certificate content'));
  if (cert && !oldCert) {
    const blocks = pemBlocks(Buffer.from(cert, 'base64').toString('latin1'));
    if (blocks.length === 0 || blocks.some(([t]) => t !== 'CERTIFICATE')) {
      errs.push(fieldErrors.invalid('status.certificate', '<certificate data>', 'must contain at least one CERTIFICATE PEM block'));
    }
  }
  return errs;
}

/** CONDITION cell: Denied/Approved/Pending, then ",Failed" and ",Issued" when they apply. */
export function csrCondition(o: KubeObject): string {
  const status = obj(o.status);
  const types = new Set(objs(status.conditions).map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (str(status.certificate)) s += ',Issued';
  return s;
}

/** certificatesigningrequests.certificates.k8s.io/v1 (cluster-scoped). */
export const certificateSigningRequestResource: ResourceDef = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  namespaced: false,
  shortNames: ['csr'],
  subresources: { status: true, other: ['approval'] },
  strategy: {
    prepareForUpdate(o, old) {
      // The request is fixed once submitted: main-resource updates change metadata only.
      if (old.spec === undefined) delete o.spec;
      else o.spec = structuredClone(old.spec);
    },
    validate: validateCSR,
    validateStatusUpdate: validateCSRStatusUpdate,
  },
  fieldSelectors: { 'spec.signerName': (o) => str(obj(o.spec).signerName) },
  openapiName: 'io.k8s.api.certificates.v1.CertificateSigningRequest',
  table: {
    columns: [
      nameColumn,
      ageColumn,
      column('SignerName', 'string', 'Signer asked to sign the request.'),
      column('Requestor', 'string', 'User who submitted the request.'),
      column('RequestedDuration', 'string', 'Validity period requested for the certificate.'),
      column('Condition', 'string', 'Approval and issuance state.'),
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      const exp = num(spec.expirationSeconds);
      return [
        o.metadata.name,
        ageCell(o, now),
        str(spec.signerName) || '<none>',
        str(spec.username),
        exp === undefined ? '<none>' : humanDuration(exp * 1000),
        csrCondition(o),
      ];
    },
  },
};

/** CertificateSigningRequest (certificates.k8s.io/v1). */
export function certificatesResources(): ResourceDef[] {
  return [certificateSigningRequestResource];
}
