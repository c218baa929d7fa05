/**
 * storage.k8s.io/v1 VolumeAttachment: a request to attach a volume to a node, handled by
 * the CSI attacher. Spec immutable; status subresource. Table: NAME ATTACHER PV NODE
 * ATTACHED AGE.
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, isDNS1123Subdomain, validateWith } from '../../../apimachinery/validation.js';
import { isObj, obj, str } from '../core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from '../core/printers.js';
import { validateCSIDriverName } from './csi.js';

const MAX_ERROR_MESSAGE = 1024;
const MAX_METADATA_SIZE = 256 * 1024;

/** Validates a VolumeAttachment spec: attacher, exactly one source, node name. */
export function validateVolumeAttachment(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs = validateCSIDriverName(spec.attacher, 'spec.attacher');
  const source = obj(spec.source);
  const hasPV = typeof source.persistentVolumeName === 'string';
  const hasInline = isObj(source.inlineVolumeSpec);
  if (hasPV === hasInline) errs.push(fieldErrors.required('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'));
  if (hasPV) {
    if (source.persistentVolumeName === '') errs.push(fieldErrors.required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
    else errs.push(...validateWith(isDNS1123Subdomain, source.persistentVolumeName, 'spec.source.persistentVolumeName'));
  }
  if (!spec.nodeName) errs.push(fieldErrors.required('spec.nodeName'));
  else errs.push(...validateWith(isDNS1123Subdomain, spec.nodeName, 'spec.nodeName'));
  return errs;
}

/** The spec never changes after creation. */
export function validateVolumeAttachmentUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  return deepEqual(o.spec, old.spec) ? [] : [fieldErrors.invalid('spec', o.spec, 'field is immutable')];
}

/** Status writes: bounded error messages and attachment metadata. */
export function validateVolumeAttachmentStatus(o: KubeObject): FieldError[] {
  const status = obj(o.status);
  const errs: FieldError[] = [];
  for (const f of ['attachError', 'detachError']) {
    const message = str(obj(status[f]).message);
    if (message.length > MAX_ERROR_MESSAGE) errs.push(fieldErrors.tooLong(`status.${f}.message`, message, MAX_ERROR_MESSAGE));
  }
  let size = 0;
  for (const [k, v] of Object.entries(obj(status.attachmentMetadata))) size += k.length + str(v).length;
  if (size > MAX_METADATA_SIZE) errs.push(fieldErrors.tooLong('status.attachmentMetadata', '', MAX_METADATA_SIZE));
  return errs;
}

/** volumeattachments.storage.k8s.io/v1. */
export const volumeAttachmentResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  singular: 'volumeattachment',
  namespaced: false,
  subresources: { status: true },
  strategy: {
    validate: validateVolumeAttachment,
    validateUpdate: validateVolumeAttachmentUpdate,
    validateStatusUpdate: validateVolumeAttachmentStatus,
  },
  openapiName: 'io.k8s.api.storage.v1.VolumeAttachment',
  table: {
    columns: [
      nameColumn,
      column('Attacher', 'string', 'CSI driver that attaches the volume.'),
      column('PV', 'string', 'PersistentVolume being attached.'),
      column('Node', 'string', 'Node the volume is attached to.'),
      column('Attached', 'boolean', 'Whether the attach operation succeeded.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      return [o.metadata.name, str(spec.attacher), str(obj(spec.source).persistentVolumeName), str(spec.nodeName), obj(o.status).attached === true, ageCell(o, now)];
    },
  },
};
