/**
 * The core/v1 kinds ("" group). `coreResources()` returns the (shared) ResourceDefs for the API
 * server's registry; the per-kind modules also export their defaulting/validation helpers
 * (pod specs, quantities, printers) for other groups.
 */
import type { ResourceDef } from '../../resource.js';
import { configMapResource, secretResource } from './configmap.js';
import { eventResource } from './event.js';
import { limitRangeResource, resourceQuotaResource } from './limitrange.js';
import { namespaceResource } from './namespace.js';
import { nodeResource } from './node.js';
import { persistentVolumeResource } from './persistentvolume.js';
import { persistentVolumeClaimResource } from './persistentvolumeclaim.js';
import { podResource } from './pod.js';
import { podTemplateResource, replicationControllerResource } from './replicationcontroller.js';
import { endpointsResource, serviceAccountResource } from './serviceaccount.js';
import { serviceResource } from './service.js';

/** All core/v1 ResourceDefs, in discovery order (alphabetical by plural, as upstream lists them). */
export function coreResources(): ResourceDef[] {
  return [
    configMapResource,
    endpointsResource,
    eventResource,
    limitRangeResource,
    namespaceResource,
    nodeResource,
    persistentVolumeClaimResource,
    persistentVolumeResource,
    podResource,
    podTemplateResource,
    replicationControllerResource,
    resourceQuotaResource,
    secretResource,
    serviceAccountResource,
    serviceResource,
  ];
}

export { defaultPodSpec, defaultPodTemplateSpec, defaultContainer, imageTag } from './pod_defaults.js';
export { validatePodSpec, validatePodTemplateSpec, validateTolerations, validateVolumes } from './pod_validation.js';
export { validateResourceRequirements, validatePortNumOrName } from './container_validation.js';
export { podQOSClass, podGracePeriod, mountServiceAccountToken } from './pod.js';
export { podSummary } from './pod_table.js';
export { humanDuration, timestampSince, ageCell, formatLabels, nameColumn, ageColumn, column } from './printers.js';
export { validateTaints } from './node.js';
export { validatePersistentVolumeClaimSpec, defaultPersistentVolumeClaimSpec } from './persistentvolumeclaim.js';
