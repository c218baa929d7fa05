/**
 * PersistentVolume: defaults (Retain, Filesystem, phase Pending), capacity/access mode/source
 * validation, immutable volume source, and `kubectl get pv`. Also the access-mode helpers
 * PersistentVolumeClaim shares.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { rfc3339 } from '../../../apimachinery/time.js';
import { isDNS1123Subdomain, validateEnum, validateImmutable, validateWith } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { arr, ensureObj, obj, str, type Obj } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';
import { canonicalizeResourceList, validateNonnegativeQuantity } from './quantity.js';

/** The access modes, in upstream printing order. */
export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

/** Upstream GetAccessModesAsString: "RWO,ROX,RWX,RWOP" order, duplicates removed. */
export function accessModesString(modes: unknown): string {
  const m = arr(modes);
  return ACCESS_MODES.filter((a) => m.includes(a)).map((a) => SHORT[a]).join(',');
}

/** Validates access modes: required (with `requiredDetail`), known values, ReadWriteOncePod exclusive. */
export function validateAccessModes(modes: unknown, path: string, requiredDetail = ''): FieldError[] {
  const m = arr(modes);
  if (m.length === 0) return [fieldErrors.required(path, requiredDetail)];
  const errs: FieldError[] = [];
  for (const a of m) if (!ACCESS_MODES.includes(str(a))) errs.push(fieldErrors.notSupported(path, a, ACCESS_MODES));
  if (m.includes('ReadWriteOncePod') && m.length > 1) errs.push(fieldErrors.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** The storage class of a PV or PVC: the beta annotation, else spec.storageClassName. */
export function storageClassOf(o: KubeObject): string {
  const ann = o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  return ann ?? str(obj(o.spec).storageClassName);
}

const PV_SOURCES = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc',
  'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
  'scaleIO', 'local', 'storageos', 'csi',
];

/** The volume source part of a PV spec (the fields that may not change after creation). */
function pvSource(spec: Obj): Obj {
  const out: Obj = {};
  for (const s of PV_SOURCES) if (spec[s] !== undefined) out[s] = spec[s];
  return out;
}

function validatePV(pv: KubeObject): FieldError[] {
  const spec = obj(pv.spec);
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const cap = obj(spec.capacity);
  if (Object.keys(cap).length === 0) errs.push(fieldErrors.required('spec.capacity'));
  else if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(fieldErrors.notSupported('spec.capacity', cap, ['storage']));
  for (const [k, v] of Object.entries(cap)) errs.push(...validateNonnegativeQuantity(v, `spec.capacity[${k}]`));
  const set = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (set.length === 0) errs.push(fieldErrors.required('spec', 'must specify a volume type'));
  for (const s of set.slice(1)) errs.push(fieldErrors.forbidden(`spec.${s}`, 'may not specify more than 1 volume type'));
  const src = set[0];
  if (src === 'hostPath' && !str(obj(spec.hostPath).path)) errs.push(fieldErrors.required('spec.hostPath.path'));
  if (src === 'local') {
    if (!str(obj(spec.local).path)) errs.push(fieldErrors.required('spec.local.path'));
    if (!spec.nodeAffinity) errs.push(fieldErrors.required('spec.nodeAffinity', 'Local volumes require node affinity'));
  }
  if (src === 'nfs') {
    if (!str(obj(spec.nfs).server)) errs.push(fieldErrors.required('spec.nfs.server'));
    if (!str(obj(spec.nfs).path)) errs.push(fieldErrors.required('spec.nfs.path'));
  }
  if (src === 'csi') {
    if (!str(obj(spec.csi).driver)) errs.push(fieldErrors.required('spec.csi.driver'));
    if (!str(obj(spec.csi).volumeHandle)) errs.push(fieldErrors.required('spec.csi.volumeHandle'));
  }
  errs.push(...validateEnum(spec.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain'], 'spec.persistentVolumeReclaimPolicy'));
  errs.push(...validateEnum(spec.volumeMode, ['Block', 'Filesystem'], 'spec.volumeMode'));
  if (str(spec.storageClassName)) errs.push(...validateWith(isDNS1123Subdomain, spec.storageClassName, 'spec.storageClassName'));
  return errs;
}

function validatePVUpdate(pv: KubeObject, old: KubeObject): FieldError[] {
  const s = obj(pv.spec);
  const o = obj(old.spec);
  const errs: FieldError[] = [];
  if (JSON.stringify(pvSource(s)) !== JSON.stringify(pvSource(o)))
    errs.push(fieldErrors.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  errs.push(...validateImmutable(s.volumeMode, o.volumeMode, 'spec.volumeMode'));
  if (o.nodeAffinity !== undefined) errs.push(...validateImmutable(s.nodeAffinity, o.nodeAffinity, 'spec.nodeAffinity'));
  return errs;
}

/** The persistentvolumes ResourceDef (cluster-scoped). */
export const persistentVolumeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  subresources: { status: true },
  openapiName: 'io.k8s.api.core.v1.PersistentVolume',
  strategy: {
    generationFields: [],
    default(pv) {
      const spec = ensureObj(pv, 'spec');
      if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
      if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
      canonicalizeResourceList(spec.capacity);
      if (spec.hostPath && typeof spec.hostPath === 'object' && obj(spec.hostPath).type === undefined) obj(spec.hostPath).type = '';
    },
    prepareForCreate(pv, ctx) {
      pv.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339(ctx.now()) };
    },
    validate: validatePV,
    validateUpdate: validatePVUpdate,
    validateStatusUpdate: (pv) => validateEnum(obj(pv.status).phase, ['Pending', 'Available', 'Bound', 'Released', 'Failed'], 'status.phase'),
  },
  table: {
    columns: [
      nameColumn,
      column('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity'),
      column('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
      column('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming'),
      column('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
      column('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding'),
      column('StorageClass', 'string', 'storageClassName is the name of StorageClass to which this persistent volume belongs. Empty value means that this volume does not belong to any StorageClass.'),
      column('VolumeAttributesClass', 'string', 'Name of VolumeAttributesClass to which this persistent volume belongs. Empty value is not allowed. When this field is not set, it indicates that this volume does not belong to any VolumeAttributesClass. This field is mutable and can be changed by the CSI driver after a volume has been updated successfully to a new class. For an unbound PersistentVolume, the volumeAttributesClassName will be matched with unbound PersistentVolumeClaims during the binding process.'),
      column('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      ageColumn,
      column('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.', true),
    ],
    cells(pv, now) {
      const spec = obj(pv.spec);
      const status = obj(pv.status);
      const ref = obj(spec.claimRef);
      const claim = spec.claimRef ? `${str(ref.namespace)}/${str(ref.name)}` : '';
      const phase = pv.metadata.deletionTimestamp ? 'Terminating' : str(status.phase);
      return [
        pv.metadata.name,
        str(obj(spec.capacity).storage) || '0',
        accessModesString(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy),
        phase,
        claim,
        storageClassOf(pv),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(status.reason),
        ageCell(pv, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
};
