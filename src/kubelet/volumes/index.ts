/** The kubelet's volume manager and helpers (see manager.ts, mounts.ts, sources.ts, atomicwriter.ts). */
export { VolumeManager, VolumeSetUpError, memoryVolumeSize, type VolumeFailure, type VolumeManagerOptions } from './manager.js';
export { mountsFor, resolveSubPath, expandSubPathExpr, isReadOnlyVolume } from './mounts.js';
export { restVolumeSources, type VolumeSources, type DownwardNodeInfo } from './sources.js';
export { writeAtomic, type Payload, type FileProjection } from './atomicwriter.js';
export { checkHostPath, type HostPathType } from './hostpath.js';
export { mountsUnder } from './tmpfs.js';
