/**
 * Every built-in kind the API server serves (core plus the named groups), the priority
 * classes it creates at startup, and the namespaces that always exist.
 */
import { reviewResources } from './kinds/reviews.js';
import { metricsResources } from './kinds/metrics.js';
import type { KubeObject, ResourceDef } from './resource.js';
import { coreResources } from './kinds/core/index.js';
import { appsResources } from './kinds/apps/index.js';
import { batchResources } from './kinds/batch/index.js';
import { apiextensionsResources } from './kinds/apiextensions.js';
import { autoscalingResources } from './kinds/autoscaling.js';
import { certificatesResources } from './kinds/certificates.js';
import { coordinationResources } from './kinds/coordination.js';
import { discoveryResources } from './kinds/discovery.js';
import { eventsResources } from './kinds/events.js';
import { networkingResources } from './kinds/networking.js';
import { nodeResources } from './kinds/node.js';
import { policyResources } from './kinds/policy.js';
import { rbacResources } from './kinds/rbac.js';
import { schedulingResources, SYSTEM_PRIORITY_CLASSES } from './kinds/scheduling.js';
import { storageResources } from './kinds/storage/index.js';

/** All built-in ResourceDefs: core first, then the named groups. Each group/version/plural appears once. */
export function builtinResources(): ResourceDef[] {
  return [
    ...coreResources(),
    ...appsResources(),
    ...batchResources(),
    ...autoscalingResources(),
    ...coordinationResources(),
    ...discoveryResources(),
    ...eventsResources(),
    ...networkingResources(),
    ...nodeResources(),
    ...policyResources(),
    ...rbacResources(),
    ...schedulingResources(),
    ...storageResources(),
    ...certificatesResources(),
    ...apiextensionsResources(),
    ...metricsResources(),
    ...reviewResources(),
  ];
}

/** The system priority classes (system-cluster-critical, system-node-critical) as fresh PriorityClass objects. */
export function builtinPriorityClasses(): KubeObject[] {
  return SYSTEM_PRIORITY_CLASSES.map((c) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: c.name },
    value: c.value,
    description: c.description,
    preemptionPolicy: 'PreemptLowerPriority',
  }));
}

/** Namespaces created at startup: default, kube-system, kube-public, kube-node-lease. */
export function defaultNamespaces(): string[] {
  return ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
}
