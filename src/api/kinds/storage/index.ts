/** The storage.k8s.io/v1 kinds. */
import type { ResourceDef } from '../../resource.js';
import { csiDriverResource, csiNodeResource } from './csi.js';
import { storageClassResource } from './storageclass.js';
import { volumeAttachmentResource } from './volumeattachment.js';

export { csiDriverResource, csiNodeResource, storageClassResource, volumeAttachmentResource };

/** StorageClass, CSIDriver, CSINode and VolumeAttachment (storage.k8s.io/v1). */
export function storageResources(): ResourceDef[] {
  return [storageClassResource, csiDriverResource, csiNodeResource, volumeAttachmentResource];
}
