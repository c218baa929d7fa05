/**
 * storage.k8s.io/v1 CSIDriver and CSINode: what a CSI driver needs from the cluster, and
 * which drivers each node runs. Tables: CSIDriver NAME ATTACHREQUIRED PODINFOONMOUNT
 * STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE; CSINode NAME DRIVERS AGE.
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, isDNS1123Subdomain, isQualifiedName, validateEnum, validateImmutable, validateNonnegative, validateWith } from '../../../apimachinery/validation.js';
import { arr, ensureObj, isObj, num, obj, objs, setDefault, str } from '../core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from '../core/printers.js';

const CSI_NAME_MAX = 63;
const NODE_ID_MAX = 192;
const MIN_TOKEN_SECONDS = 600;
const MAX_TOKEN_SECONDS = 2 ** 32;

/** Upstream ValidateCSIDriverName: required, at most 63 characters, a DNS subdomain once lower-cased. */
export function validateCSIDriverName(name: unknown, path: string): FieldError[] {
  const s = str(name);
  if (s === '') return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  if (s.length > CSI_NAME_MAX) errs.push(fieldErrors.tooLong(path, s, CSI_NAME_MAX));
  errs.push(...isDNS1123Subdomain(s.toLowerCase()).map((m) => fieldErrors.invalid(path, name, m)));
  return errs;
}

/** Fills CSIDriver defaults (attachRequired true, the other switches false, Persistent mode). */
export function defaultCSIDriver(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefault(spec, 'attachRequired', true);
  setDefault(spec, 'podInfoOnMount', false);
  setDefault(spec, 'storageCapacity', false);
  setDefault(spec, 'fsGroupPolicy', 'ReadWriteOnceWithFSType');
  setDefault(spec, 'requiresRepublish', false);
  setDefault(spec, 'seLinuxMount', false);
  if (arr(spec.volumeLifecycleModes).length === 0) spec.volumeLifecycleModes = ['Persistent'];
}

/** Validates a CSIDriver. */
export function validateCSIDriver(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const name = o.metadata.name ?? '';
  if (name.length > CSI_NAME_MAX) errs.push(fieldErrors.tooLong('metadata.name', name, CSI_NAME_MAX));
  for (const f of ['attachRequired', 'podInfoOnMount', 'storageCapacity', 'requiresRepublish']) {
    if (spec[f] == null) errs.push(fieldErrors.required(`spec.${f}`));
  }
  errs.push(...validateEnum(spec.fsGroupPolicy ?? undefined, ['File', 'None', 'ReadWriteOnceWithFSType'], 'spec.fsGroupPolicy'));
  arr(spec.volumeLifecycleModes).forEach((m, i) => errs.push(...validateEnum(m, ['Ephemeral', 'Persistent'], `spec.volumeLifecycleModes[${i}]`)));
  const audiences = new Set<string>();
  arr(spec.tokenRequests).forEach((t, i) => {
    const tr = obj(t);
    const p = `spec.tokenRequests[${i}]`;
    const audience = str(tr.audience);
    if (audiences.has(audience)) errs.push(fieldErrors.duplicate(`${p}.audience`, audience));
    audiences.add(audience);
    const secs = num(tr.expirationSeconds);
    if (secs !== undefined && secs < MIN_TOKEN_SECONDS) errs.push(fieldErrors.invalid(`${p}.expirationSeconds`, secs, 'may not specify a duration less than 10 minutes'));
    if (secs !== undefined && secs > MAX_TOKEN_SECONDS) errs.push(fieldErrors.invalid(`${p}.expirationSeconds`, secs, 'may not specify a duration larger than 2^32 seconds'));
  });
  return errs;
}

/** CSIDriver update rules: attachRequired and volumeLifecycleModes are immutable. */
export function validateCSIDriverUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const oldSpec = obj(old.spec);
  return [
    ...validateImmutable(spec.attachRequired, oldSpec.attachRequired, 'spec.attachRequired'),
    ...validateImmutable(spec.volumeLifecycleModes, oldSpec.volumeLifecycleModes, 'spec.volumeLifecycleModes'),
  ];
}

function boolOr(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** csidrivers.storage.k8s.io/v1. */
export const csiDriverResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  singular: 'csidriver',
  namespaced: false,
  strategy: { default: (o) => defaultCSIDriver(o), validate: validateCSIDriver, validateUpdate: validateCSIDriverUpdate },
  openapiName: 'io.k8s.api.storage.v1.CSIDriver',
  table: {
    columns: [
      nameColumn,
      column('AttachRequired', 'boolean', 'Whether volumes need an attach operation.'),
      column('PodInfoOnMount', 'boolean', 'Whether pod details are passed at mount time.'),
      column('StorageCapacity', 'boolean', 'Whether the scheduler considers reported capacity.'),
      column('TokenRequests', 'string', 'Audiences of service account tokens passed to the driver.'),
      column('RequiresRepublish', 'boolean', 'Whether volumes are periodically re-published.'),
      column('Modes', 'string', 'Volume lifecycle modes the driver supports.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      const modes = arr(spec.volumeLifecycleModes).map(String).join(',');
      const tokens = Array.isArray(spec.tokenRequests) ? objs(spec.tokenRequests).map((t) => str(t.audience)).join(',') : '<unset>';
      return [
        o.metadata.name,
        boolOr(spec.attachRequired, true),
        boolOr(spec.podInfoOnMount, false),
        boolOr(spec.storageCapacity, false),
        tokens,
        boolOr(spec.requiresRepublish, false),
        modes || '<none>',
        ageCell(o, now),
      ];
    },
  },
};

/** Validates a CSINode: unique driver names, node IDs, topology keys, allocatable count. */
export function validateCSINode(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const spec = obj(o.spec);
  if (!Array.isArray(spec.drivers)) errs.push(fieldErrors.required('spec.drivers'));
  objs(spec.drivers).forEach((d, i) => {
    const p = `spec.drivers[${i}]`;
    const name = str(d.name);
    errs.push(...validateCSIDriverName(d.name, `${p}.name`));
    if (names.has(name)) errs.push(fieldErrors.duplicate(`${p}.name`, name));
    names.add(name);
    const nodeID = str(d.nodeID);
    if (nodeID === '') errs.push(fieldErrors.required(`${p}.nodeID`));
    else if (nodeID.length > NODE_ID_MAX) errs.push(fieldErrors.invalid(`${p}.nodeID`, nodeID, `must be ${NODE_ID_MAX} characters or less`));
    const keys = new Set<string>();
    arr(d.topologyKeys).forEach((k, j) => {
      const kp = `${p}.topologyKeys[${j}]`;
      if (k === '') errs.push(fieldErrors.required(kp));
      else errs.push(...validateWith(isQualifiedName, k, kp));
      if (keys.has(str(k))) errs.push(fieldErrors.duplicate(kp, k));
      keys.add(str(k));
    });
    if (isObj(d.allocatable)) errs.push(...validateNonnegative(d.allocatable.count, `${p}.allocatable.count`));
  });
  return errs;
}

/** CSINode update rule: an existing driver entry may be removed but not changed. */
export function validateCSINodeUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const oldDriver of objs(obj(old.spec).drivers)) {
    for (const driver of objs(obj(o.spec).drivers)) {
      if (driver.name === oldDriver.name && !deepEqual(driver, oldDriver)) errs.push(fieldErrors.invalid('CSINodeDriver', driver, 'field is immutable'));
    }
  }
  return errs;
}

/** csinodes.storage.k8s.io/v1 (named after its Node). */
export const csiNodeResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSINode',
  plural: 'csinodes',
  singular: 'csinode',
  namespaced: false,
  strategy: { validate: validateCSINode, validateUpdate: validateCSINodeUpdate },
  openapiName: 'io.k8s.api.storage.v1.CSINode',
  table: {
    columns: [nameColumn, column('Drivers', 'integer', 'Number of CSI drivers registered on the node.'), ageColumn],
    cells: (o, now) => [o.metadata.name, arr(obj(o.spec).drivers).length, ageCell(o, now)],
  },
};
