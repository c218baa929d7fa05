/**
 * ConfigMap and Secret: key rules, the 1 MiB size limit, `immutable` (data frozen once set),
 * Secret type defaults/immutability, stringData merged into base64 data, type-specific
 * required keys, and their tables.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, isConfigMapKey, validateImmutable } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { isObj, keyCount, obj, str } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';

/** Upstream MaxSecretSize (also the ConfigMap limit): 1 MiB. */
export const MAX_SECRET_SIZE = 1024 * 1024;

function validateKeys(data: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(obj(data))) for (const m of isConfigMapKey(k)) errs.push(fieldErrors.invalid(`${path}[${k}]`, k, m));
  return errs;
}

/** Upstream immutable rules shared by ConfigMap and Secret. */
function validateImmutableData(o: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!deepEqual(o[f] ?? {}, old[f] ?? {})) errs.push(fieldErrors.forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

function validateConfigMap(cm: KubeObject): FieldError[] {
  const errs = [...validateKeys(cm.data, 'data'), ...validateKeys(cm.binaryData, 'binaryData')];
  let size = 0;
  for (const [k, v] of Object.entries(obj(cm.data))) {
    if (typeof v !== 'string') errs.push(fieldErrors.typeInvalid(`data[${k}]`, v, 'must be a string'));
    size += Buffer.byteLength(str(v));
  }
  const data = obj(cm.data);
  for (const [k, v] of Object.entries(obj(cm.binaryData))) {
    if (k in data) errs.push(fieldErrors.invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    if (!isBase64(v)) errs.push(fieldErrors.invalid(`binaryData[${k}]`, '<binary data>', 'illegal base64 data'));
    size += Buffer.from(str(v), 'base64').length;
  }
  if (size > MAX_SECRET_SIZE) errs.push({ type: 'FieldValueTooLong', field: '', message: `Too long: must have at most ${MAX_SECRET_SIZE} bytes` });
  return errs;
}

/** The configmaps ResourceDef. */
export const configMapResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  openapiName: 'io.k8s.api.core.v1.ConfigMap',
  strategy: {
    generationFields: [],
    validate: validateConfigMap,
    validateUpdate: (cm, old) => validateImmutableData(cm, old, ['data', 'binaryData']),
  },
  table: {
    columns: [nameColumn, column('Data', 'string', 'Data contains the configuration data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.'), ageColumn],
    cells: (cm, now) => [cm.metadata.name, keyCount(cm.data) + keyCount(cm.binaryData), ageCell(cm, now)],
  },
};

/** True for standard (padded) base64 text. */
export function isBase64(v: unknown): boolean {
  return typeof v === 'string' && v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
}

/** Secret defaults: type Opaque; stringData merged (base64-encoded) into data and dropped, as v1 conversion does. */
export function defaultSecret(secret: KubeObject): void {
  if (!secret.type) secret.type = 'Opaque';
  if (isObj(secret.stringData)) {
    const data = isObj(secret.data) ? secret.data : {};
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(str(v)).toString('base64');
    secret.data = data;
  }
  delete secret.stringData;
}

const requiredKeysByType: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

function validateSecret(secret: KubeObject): FieldError[] {
  const errs = validateKeys(secret.data, 'data');
  const data = obj(secret.data);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (!isBase64(v)) errs.push(fieldErrors.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    else size += Buffer.from(str(v), 'base64').length;
  }
  if (size > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('data', '', MAX_SECRET_SIZE));
  const type = str(secret.type);
  for (const k of requiredKeysByType[type] ?? []) if (!(k in data)) errs.push(fieldErrors.required(`data[${k}]`));
  for (const k of ['.dockercfg', '.dockerconfigjson']) {
    if ((type === 'kubernetes.io/dockercfg' && k === '.dockercfg') || (type === 'kubernetes.io/dockerconfigjson' && k === '.dockerconfigjson')) {
      if (k in data && isBase64(data[k])) {
        try {
          JSON.parse(Buffer.from(str(data[k]), 'base64').toString());
        } catch (e) {
          errs.push(fieldErrors.invalid(`data[${k}]`, '<secret contents redacted>', (e as Error).message));
        }
      }
    }
  }
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data))
    errs.push(fieldErrors.required('data[username]'), fieldErrors.required('data[password]'));
  if (type === 'kubernetes.io/service-account-token' && !str(secret.metadata.annotations?.['kubernetes.io/service-account.name']))
    errs.push(fieldErrors.required('metadata.annotations[kubernetes.io/service-account.name]'));
  return errs;
}

/** The secrets ResourceDef. */
export const secretResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  openapiName: 'io.k8s.api.core.v1.Secret',
  strategy: {
    generationFields: [],
    default: defaultSecret,
    validate: validateSecret,
    validateUpdate: (s, old) => [...validateImmutable(s.type, old.type, 'type'), ...validateImmutableData(s, old, ['data'])],
  },
  table: {
    columns: [
      nameColumn,
      column('Type', 'string', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
      column('Data', 'string', 'Data contains the secret data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4'),
      ageColumn,
    ],
    cells: (s, now) => [s.metadata.name, str(s.type), keyCount(s.data), ageCell(s, now)],
  },
  fieldSelectors: {
    type: (s) => str(s.type),
  },
};
