/** The apps/v1 kinds. */
import type { ResourceDef } from '../../resource.js';
import { controllerRevisionResource } from './controllerrevision.js';
import { daemonSetResource } from './daemonset.js';
import { deploymentResource } from './deployment.js';
import { replicaSetResource } from './replicaset.js';
import { statefulSetResource } from './statefulset.js';

export { controllerRevisionResource, daemonSetResource, deploymentResource, replicaSetResource, statefulSetResource };

/** Deployment, ReplicaSet, StatefulSet, DaemonSet and ControllerRevision (apps/v1). */
export function appsResources(): ResourceDef[] {
  return [deploymentResource, replicaSetResource, statefulSetResource, daemonSetResource, controllerRevisionResource];
}
