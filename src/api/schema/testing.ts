/**
 * Test fixtures: minimal ResourceDefs for common built-in kinds and a sample custom
 * resource, enough to generate OpenAPI documents without the full built-in registry.
 */
import type { ResourceDef } from '../resource.js';

type Row = [group: string, version: string, kind: string, plural: string, namespaced: boolean, subresources?: ResourceDef['subresources']];

const STATUS = { status: true };
const SCALE = { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } };

const ROWS: Row[] = [
  ['', 'v1', 'Pod', 'pods', true, STATUS],
  ['', 'v1', 'Service', 'services', true, STATUS],
  ['', 'v1', 'ConfigMap', 'configmaps', true],
  ['', 'v1', 'Secret', 'secrets', true],
  ['', 'v1', 'Namespace', 'namespaces', false, STATUS],
  ['', 'v1', 'Node', 'nodes', false, STATUS],
  ['', 'v1', 'Event', 'events', true],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true],
  ['', 'v1', 'Endpoints', 'endpoints', true],
  ['', 'v1', 'PersistentVolume', 'persistentvolumes', false, STATUS],
  ['', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, STATUS],
  ['', 'v1', 'ReplicationController', 'replicationcontrollers', true, SCALE],
  ['', 'v1', 'ResourceQuota', 'resourcequotas', true, STATUS],
  ['', 'v1', 'LimitRange', 'limitranges', true],
  ['', 'v1', 'PodTemplate', 'podtemplates', true],
  ['apps', 'v1', 'Deployment', 'deployments', true, SCALE],
  ['apps', 'v1', 'ReplicaSet', 'replicasets', true, SCALE],
  ['apps', 'v1', 'StatefulSet', 'statefulsets', true, SCALE],
  ['apps', 'v1', 'DaemonSet', 'daemonsets', true, STATUS],
  ['apps', 'v1', 'ControllerRevision', 'controllerrevisions', true],
  ['batch', 'v1', 'Job', 'jobs', true, STATUS],
  ['batch', 'v1', 'CronJob', 'cronjobs', true, STATUS],
  ['autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, STATUS],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, STATUS],
  ['networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, STATUS],
  ['networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true],
  ['networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false],
  ['rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
  ['storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false],
  ['coordination.k8s.io', 'v1', 'Lease', 'leases', true],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true],
  ['events.k8s.io', 'v1', 'Event', 'events', true],
  ['scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false],
  ['node.k8s.io', 'v1', 'RuntimeClass', 'runtimeclasses', false],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, STATUS],
  ['admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false],
  ['certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', false, STATUS],
];

/** ResourceDefs (no strategies or tables) for ~40 common built-in kinds. */
export function sampleBuiltinDefs(): ResourceDef[] {
  return ROWS.map(([group, version, kind, plural, namespaced, subresources]) => ({
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    subresources,
  }));
}

/** A namespaced custom resource `crontabs.stable.example.com/v1` with a structural schema. */
export function sampleCustomDef(): ResourceDef {
  return {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    singular: 'crontab',
    namespaced: true,
    custom: true,
    subresources: { status: true },
    schema: {
      type: 'object',
      description: 'A cron job running a container image.',
      properties: {
        spec: {
          type: 'object',
          properties: {
            cronSpec: { type: 'string', description: 'The schedule.' },
            image: { type: 'string' },
            replicas: { type: 'integer', minimum: 1 },
            port: { 'x-kubernetes-int-or-string': true },
            env: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: 'string' } } },
            },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            ratio: { type: 'number', nullable: true },
          },
        },
        status: { type: 'object', properties: { ready: { type: 'boolean' } } },
      },
    },
  };
}
