/**
 * PersistentVolumeClaim: defaults (Filesystem, phase Pending), spec validation (access modes,
 * storage request), the upstream update rule (spec immutable except storage requests of bound
 * claims and a once-only volumeName), and `kubectl get pvc`.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, isDNS1123Subdomain, validateEnum, validateLabelSelector, validateWith } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { ensureObj, isObj, obj, str } from './fields.js';
import { accessModesString, storageClassOf, validateAccessModes } from './persistentvolume.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';
import { canonicalizeResourceList, compareQuantities, validateNonnegativeQuantity, validatePositiveQuantity } from './quantity.js';

/** Upstream ValidatePersistentVolumeClaimSpec at `path` (also used for volumeClaimTemplates). */
export function validatePersistentVolumeClaimSpec(spec: unknown, path: string): FieldError[] {
  const s = obj(spec);
  const errs = validateAccessModes(s.accessModes, `${path}.accessModes`, 'at least 1 access mode is required');
  errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const res = obj(s.resources);
  const req = obj(res.requests);
  if (req.storage === undefined) errs.push(fieldErrors.required(`${path}.resources[storage]`));
  else errs.push(...validatePositiveQuantity(req.storage, `${path}.resources[storage]`));
  for (const f of ['requests', 'limits'])
    for (const [k, v] of Object.entries(obj(res[f]))) if (!(f === 'requests' && k === 'storage')) errs.push(...validateNonnegativeQuantity(v, `${path}.resources.${f}[${k}]`));
  if (str(s.storageClassName)) errs.push(...validateWith(isDNS1123Subdomain, s.storageClassName, `${path}.storageClassName`));
  errs.push(...validateEnum(s.volumeMode, ['Block', 'Filesystem'], `${path}.volumeMode`));
  return errs;
}

/** Defaults a PVC spec in place (volumeMode Filesystem, canonical quantities). */
export function defaultPersistentVolumeClaimSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
  const res = obj(spec.resources);
  canonicalizeResourceList(res.requests);
  canonicalizeResourceList(res.limits);
}

function validatePVCUpdate(pvc: KubeObject, old: KubeObject): FieldError[] {
  const n = structuredClone(obj(pvc.spec));
  const o = structuredClone(obj(old.spec));
  const errs: FieldError[] = [];
  if (!str(o.volumeName)) o.volumeName = n.volumeName; // volumeName may be set once
  if (o.volumeName === undefined) delete o.volumeName;
  const bound = obj(pvc.status).phase === 'Bound';
  if (bound) {
    // Shrinking is allowed (recovery from a failed expansion) only while staying above the capacity.
    const newStorage = obj(obj(n.resources).requests).storage;
    const oldStorage = obj(obj(o.resources).requests).storage;
    const capacity = obj(obj(old.status).capacity).storage;
    if (newStorage !== undefined && oldStorage !== undefined && compareQuantities(newStorage, oldStorage) < 0 && (capacity === undefined || compareQuantities(newStorage, capacity) <= 0))
      errs.push(fieldErrors.forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
    if (isObj(n.resources) && isObj(n.resources.requests)) {
      const oldReq = obj(obj(o.resources).requests);
      if (oldReq.storage === undefined) delete n.resources.requests.storage;
      else n.resources.requests.storage = oldReq.storage;
    }
    if (o.volumeAttributesClassName !== undefined) n.volumeAttributesClassName = o.volumeAttributesClassName;
    else delete n.volumeAttributesClassName;
  }
  if (!deepEqual(n, o))
    errs.push(fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  return errs;
}

/** The persistentvolumeclaims ResourceDef. */
export const persistentVolumeClaimResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: { status: true },
  openapiName: 'io.k8s.api.core.v1.PersistentVolumeClaim',
  strategy: {
    generationFields: [],
    default: (pvc) => defaultPersistentVolumeClaimSpec(ensureObj(pvc, 'spec')),
    prepareForCreate(pvc) {
      pvc.status = { phase: 'Pending' };
    },
    validate: (pvc) => validatePersistentVolumeClaimSpec(pvc.spec, 'spec'),
    validateUpdate: validatePVCUpdate,
    validateStatusUpdate: (pvc) => validateEnum(obj(pvc.status).phase, ['Pending', 'Bound', 'Lost'], 'status.phase'),
  },
  table: {
    columns: [
      nameColumn,
      column('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
      column('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      column('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
      column('Access Modes', 'string', 'accessModes contains the desired access modes the volume should have. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1'),
      column('StorageClass', 'string', 'storageClassName is the name of the StorageClass required by the claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#class-1'),
      column('VolumeAttributesClass', 'string', 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.'),
      ageColumn,
      column('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', true),
    ],
    cells(pvc, now) {
      const spec = obj(pvc.spec);
      const status = obj(pvc.status);
      const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : str(status.phase);
      let capacity = '';
      let modes = '';
      if (str(spec.volumeName)) {
        modes = accessModesString(status.accessModes);
        capacity = str(obj(status.capacity).storage) || '0';
      }
      return [
        pvc.metadata.name,
        phase,
        str(spec.volumeName),
        capacity,
        modes,
        storageClassOf(pvc),
        str(spec.volumeAttributesClassName) || '<unset>',
        ageCell(pvc, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
};
