/**
 * Typed-by-kind clients over {@link RestClient}: `typedClient(rest).pods('default').get('x')`
 * answers a `Pod` from `kubernetes-types`. Every call is one RestClient call (same retries, rate
 * limit, errors); this layer only fixes the resource address and the object types. The kinds
 * are the built-in ones the API server serves, listed once in {@link KindMap} / {@link KIND_REFS}.
 */
import type * as core from 'kubernetes-types/core/v1.js';
import type * as apps from 'kubernetes-types/apps/v1.js';
import type * as batch from 'kubernetes-types/batch/v1.js';
import type * as autoscaling from 'kubernetes-types/autoscaling/v2.js';
import type * as coordination from 'kubernetes-types/coordination/v1.js';
import type * as discovery from 'kubernetes-types/discovery/v1.js';
import type * as events from 'kubernetes-types/events/v1.js';
import type * as networking from 'kubernetes-types/networking/v1.js';
import type * as node from 'kubernetes-types/node/v1.js';
import type * as policy from 'kubernetes-types/policy/v1.js';
import type * as rbac from 'kubernetes-types/rbac/v1.js';
import type * as scheduling from 'kubernetes-types/scheduling/v1.js';
import type * as storage from 'kubernetes-types/storage/v1.js';
import type * as certificates from 'kubernetes-types/certificates/v1.js';
import type * as apiextensions from 'kubernetes-types/apiextensions/v1.js';
import type { Status } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../api/resource.js';
import type { ListOptions, ObjectList, PatchType, ResourceRef, RestClient, WatchEvent, WatchOptions } from './rest.js';

/** Where a kind is served: group, version, plural resource, scope, and its accessor on {@link TypedClient}. */
export interface KindRef {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
  accessor: string;
}

type R<G extends string, V extends string, Res extends string, N extends boolean, A extends string> = {
  group: G;
  version: V;
  resource: Res;
  namespaced: N;
  accessor: A;
};

/**
 * Kind name → where it is served (`ref`) and its object type (`type`). The events.k8s.io Event
 * is keyed `Event.events.k8s.io` (`Event` is the core/v1 one).
 */
export interface KindMap {
  ConfigMap: { ref: R<'', 'v1', 'configmaps', true, 'configMaps'>; type: core.ConfigMap };
  Endpoints: { ref: R<'', 'v1', 'endpoints', true, 'endpoints'>; type: core.Endpoints };
  Event: { ref: R<'', 'v1', 'events', true, 'events'>; type: core.Event };
  LimitRange: { ref: R<'', 'v1', 'limitranges', true, 'limitRanges'>; type: core.LimitRange };
  Namespace: { ref: R<'', 'v1', 'namespaces', false, 'namespaces'>; type: core.Namespace };
  Node: { ref: R<'', 'v1', 'nodes', false, 'nodes'>; type: core.Node };
  PersistentVolumeClaim: { ref: R<'', 'v1', 'persistentvolumeclaims', true, 'persistentVolumeClaims'>; type: core.PersistentVolumeClaim };
  PersistentVolume: { ref: R<'', 'v1', 'persistentvolumes', false, 'persistentVolumes'>; type: core.PersistentVolume };
  Pod: { ref: R<'', 'v1', 'pods', true, 'pods'>; type: core.Pod };
  PodTemplate: { ref: R<'', 'v1', 'podtemplates', true, 'podTemplates'>; type: core.PodTemplate };
  ReplicationController: { ref: R<'', 'v1', 'replicationcontrollers', true, 'replicationControllers'>; type: core.ReplicationController };
  ResourceQuota: { ref: R<'', 'v1', 'resourcequotas', true, 'resourceQuotas'>; type: core.ResourceQuota };
  Secret: { ref: R<'', 'v1', 'secrets', true, 'secrets'>; type: core.Secret };
  ServiceAccount: { ref: R<'', 'v1', 'serviceaccounts', true, 'serviceAccounts'>; type: core.ServiceAccount };
  Service: { ref: R<'', 'v1', 'services', true, 'services'>; type: core.Service };
  Deployment: { ref: R<'apps', 'v1', 'deployments', true, 'deployments'>; type: apps.Deployment };
  ReplicaSet: { ref: R<'apps', 'v1', 'replicasets', true, 'replicaSets'>; type: apps.ReplicaSet };
  StatefulSet: { ref: R<'apps', 'v1', 'statefulsets', true, 'statefulSets'>; type: apps.StatefulSet };
  DaemonSet: { ref: R<'apps', 'v1', 'daemonsets', true, 'daemonSets'>; type: apps.DaemonSet };
  ControllerRevision: { ref: R<'apps', 'v1', 'controllerrevisions', true, 'controllerRevisions'>; type: apps.ControllerRevision };
  Job: { ref: R<'batch', 'v1', 'jobs', true, 'jobs'>; type: batch.Job };
  CronJob: { ref: R<'batch', 'v1', 'cronjobs', true, 'cronJobs'>; type: batch.CronJob };
  HorizontalPodAutoscaler: { ref: R<'autoscaling', 'v2', 'horizontalpodautoscalers', true, 'horizontalPodAutoscalers'>; type: autoscaling.HorizontalPodAutoscaler };
  Lease: { ref: R<'coordination.k8s.io', 'v1', 'leases', true, 'leases'>; type: coordination.Lease };
  EndpointSlice: { ref: R<'discovery.k8s.io', 'v1', 'endpointslices', true, 'endpointSlices'>; type: discovery.EndpointSlice };
  'Event.events.k8s.io': { ref: R<'events.k8s.io', 'v1', 'events', true, 'eventsV1'>; type: events.Event };
  Ingress: { ref: R<'networking.k8s.io', 'v1', 'ingresses', true, 'ingresses'>; type: networking.Ingress };
  IngressClass: { ref: R<'networking.k8s.io', 'v1', 'ingressclasses', false, 'ingressClasses'>; type: networking.IngressClass };
  NetworkPolicy: { ref: R<'networking.k8s.io', 'v1', 'networkpolicies', true, 'networkPolicies'>; type: networking.NetworkPolicy };
  RuntimeClass: { ref: R<'node.k8s.io', 'v1', 'runtimeclasses', false, 'runtimeClasses'>; type: node.RuntimeClass };
  PodDisruptionBudget: { ref: R<'policy', 'v1', 'poddisruptionbudgets', true, 'podDisruptionBudgets'>; type: policy.PodDisruptionBudget };
  Role: { ref: R<'rbac.authorization.k8s.io', 'v1', 'roles', true, 'roles'>; type: rbac.Role };
  ClusterRole: { ref: R<'rbac.authorization.k8s.io', 'v1', 'clusterroles', false, 'clusterRoles'>; type: rbac.ClusterRole };
  RoleBinding: { ref: R<'rbac.authorization.k8s.io', 'v1', 'rolebindings', true, 'roleBindings'>; type: rbac.RoleBinding };
  ClusterRoleBinding: { ref: R<'rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false, 'clusterRoleBindings'>; type: rbac.ClusterRoleBinding };
  PriorityClass: { ref: R<'scheduling.k8s.io', 'v1', 'priorityclasses', false, 'priorityClasses'>; type: scheduling.PriorityClass };
  StorageClass: { ref: R<'storage.k8s.io', 'v1', 'storageclasses', false, 'storageClasses'>; type: storage.StorageClass };
  CSIDriver: { ref: R<'storage.k8s.io', 'v1', 'csidrivers', false, 'csiDrivers'>; type: storage.CSIDriver };
  CSINode: { ref: R<'storage.k8s.io', 'v1', 'csinodes', false, 'csiNodes'>; type: storage.CSINode };
  VolumeAttachment: { ref: R<'storage.k8s.io', 'v1', 'volumeattachments', false, 'volumeAttachments'>; type: storage.VolumeAttachment };
  CertificateSigningRequest: { ref: R<'certificates.k8s.io', 'v1', 'certificatesigningrequests', false, 'certificateSigningRequests'>; type: certificates.CertificateSigningRequest };
  CustomResourceDefinition: { ref: R<'apiextensions.k8s.io', 'v1', 'customresourcedefinitions', false, 'customResourceDefinitions'>; type: apiextensions.CustomResourceDefinition };
}

/** A kind name of {@link KindMap}. */
export type KindName = keyof KindMap;
/** The object type of a kind. */
export type KindType<K extends KindName> = KindMap[K]['type'];
/** The namespace argument of a kind's client: optional for namespaced kinds (absent: all namespaces), none for cluster-scoped ones. */
export type NamespaceArg<K extends KindName> = KindMap[K]['ref']['namespaced'] extends true ? [namespace?: string] : [];

const r = <G extends string, V extends string, Res extends string, N extends boolean, A extends string>(group: G, version: V, resource: Res, namespaced: N, accessor: A): R<G, V, Res, N, A> => ({ group, version, resource, namespaced, accessor });

/** Where each kind of {@link KindMap} is served (checked against KindMap by the compiler). */
export const KIND_REFS: { readonly [K in KindName]: KindMap[K]['ref'] } = {
  ConfigMap: r('', 'v1', 'configmaps', true, 'configMaps'),
  Endpoints: r('', 'v1', 'endpoints', true, 'endpoints'),
  Event: r('', 'v1', 'events', true, 'events'),
  LimitRange: r('', 'v1', 'limitranges', true, 'limitRanges'),
  Namespace: r('', 'v1', 'namespaces', false, 'namespaces'),
  Node: r('', 'v1', 'nodes', false, 'nodes'),
  PersistentVolumeClaim: r('', 'v1', 'persistentvolumeclaims', true, 'persistentVolumeClaims'),
  PersistentVolume: r('', 'v1', 'persistentvolumes', false, 'persistentVolumes'),
  Pod: r('', 'v1', 'pods', true, 'pods'),
  PodTemplate: r('', 'v1', 'podtemplates', true, 'podTemplates'),
  ReplicationController: r('', 'v1', 'replicationcontrollers', true, 'replicationControllers'),
  ResourceQuota: r('', 'v1', 'resourcequotas', true, 'resourceQuotas'),
  Secret: r('', 'v1', 'secrets', true, 'secrets'),
  ServiceAccount: r('', 'v1', 'serviceaccounts', true, 'serviceAccounts'),
  Service: r('', 'v1', 'services', true, 'services'),
  Deployment: r('apps', 'v1', 'deployments', true, 'deployments'),
  ReplicaSet: r('apps', 'v1', 'replicasets', true, 'replicaSets'),
  StatefulSet: r('apps', 'v1', 'statefulsets', true, 'statefulSets'),
  DaemonSet: r('apps', 'v1', 'daemonsets', true, 'daemonSets'),
  ControllerRevision: r('apps', 'v1', 'controllerrevisions', true, 'controllerRevisions'),
  Job: r('batch', 'v1', 'jobs', true, 'jobs'),
  CronJob: r('batch', 'v1', 'cronjobs', true, 'cronJobs'),
  HorizontalPodAutoscaler: r('autoscaling', 'v2', 'horizontalpodautoscalers', true, 'horizontalPodAutoscalers'),
  Lease: r('coordination.k8s.io', 'v1', 'leases', true, 'leases'),
  EndpointSlice: r('discovery.k8s.io', 'v1', 'endpointslices', true, 'endpointSlices'),
  'Event.events.k8s.io': r('events.k8s.io', 'v1', 'events', true, 'eventsV1'),
  Ingress: r('networking.k8s.io', 'v1', 'ingresses', true, 'ingresses'),
  IngressClass: r('networking.k8s.io', 'v1', 'ingressclasses', false, 'ingressClasses'),
  NetworkPolicy: r('networking.k8s.io', 'v1', 'networkpolicies', true, 'networkPolicies'),
  RuntimeClass: r('node.k8s.io', 'v1', 'runtimeclasses', false, 'runtimeClasses'),
  PodDisruptionBudget: r('policy', 'v1', 'poddisruptionbudgets', true, 'podDisruptionBudgets'),
  Role: r('rbac.authorization.k8s.io', 'v1', 'roles', true, 'roles'),
  ClusterRole: r('rbac.authorization.k8s.io', 'v1', 'clusterroles', false, 'clusterRoles'),
  RoleBinding: r('rbac.authorization.k8s.io', 'v1', 'rolebindings', true, 'roleBindings'),
  ClusterRoleBinding: r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false, 'clusterRoleBindings'),
  PriorityClass: r('scheduling.k8s.io', 'v1', 'priorityclasses', false, 'priorityClasses'),
  StorageClass: r('storage.k8s.io', 'v1', 'storageclasses', false, 'storageClasses'),
  CSIDriver: r('storage.k8s.io', 'v1', 'csidrivers', false, 'csiDrivers'),
  CSINode: r('storage.k8s.io', 'v1', 'csinodes', false, 'csiNodes'),
  VolumeAttachment: r('storage.k8s.io', 'v1', 'volumeattachments', false, 'volumeAttachments'),
  CertificateSigningRequest: r('certificates.k8s.io', 'v1', 'certificatesigningrequests', false, 'certificateSigningRequests'),
  CustomResourceDefinition: r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', false, 'customResourceDefinitions'),
};

/** Options of {@link ResourceClient.patch}. */
export interface PatchOptions {
  /** `status`, `scale`, ... (default: the object itself). */
  subresource?: string;
  fieldManager?: string;
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
}

/** Options of {@link ResourceClient.delete} (meta/v1 DeleteOptions fields RestClient sends). */
export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
}

/** An object with (possibly absent) metadata: every kubernetes-types kind. */
export interface AnyObject {
  metadata?: { name?: string; namespace?: string };
}

/**
 * CRUD, patch and watch on one resource collection, typed `T`. Namespaced kinds addressed without
 * a namespace list and watch all namespaces; by-name calls then need `metadata.namespace` (or throw).
 */
export interface ResourceClient<T extends AnyObject> {
  /** The collection address (namespace absent: all namespaces / cluster-scoped). */
  readonly ref: ResourceRef;
  /** GET one object. */
  get(name: string): Promise<T>;
  /** LIST (selectors, paging, resourceVersion semantics as in {@link ListOptions}). */
  list(opts?: ListOptions): Promise<ObjectList<T>>;
  /** POST a new object (namespace from the client, else from the object's metadata). */
  create(obj: T): Promise<T>;
  /** PUT the object (409 Conflict when its resourceVersion is stale). */
  update(obj: T): Promise<T>;
  /** PUT the object's status subresource. */
  updateStatus(obj: T): Promise<T>;
  /** PATCH (default merge patch; `apply` is server-side apply and needs `fieldManager`). */
  patch(name: string, body: unknown, type?: PatchType, opts?: PatchOptions): Promise<T>;
  /** DELETE; answers the object (when deletion is graceful or finalized later) or a Status. */
  delete(name: string, opts?: DeleteOptions): Promise<T | Status>;
  /** Streams watch events until the server ends the watch or `signal` aborts. */
  watch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void>;
}

class Resource<T extends AnyObject> implements ResourceClient<T> {
  constructor(private readonly rest: RestClient, readonly ref: ResourceRef, private readonly namespaced: boolean) {}

  /** The address of one object: the client's namespace, else the object's, for namespaced kinds. */
  private at(namespace: string | undefined): ResourceRef {
    if (!this.namespaced || this.ref.namespace) return this.ref;
    if (!namespace) throw new Error(`${this.ref.resource}: a namespace is required (none on the client nor in metadata.namespace)`);
    return { ...this.ref, namespace };
  }

  async get(name: string): Promise<T> {
    return this.rest.get<T>(this.at(undefined), name);
  }
  list(opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.rest.list<T>(this.ref, opts);
  }
  async create(obj: T): Promise<T> {
    return this.rest.create<T>(this.at(obj.metadata?.namespace), obj);
  }
  update(obj: T): Promise<T> {
    return this.put(obj);
  }
  updateStatus(obj: T): Promise<T> {
    return this.put(obj, 'status');
  }
  private async put(obj: T, subresource?: string): Promise<T> {
    if (!obj.metadata?.name) throw new Error(`${this.ref.resource}: update needs metadata.name`);
    return this.rest.update<KubeObject>(this.at(obj.metadata.namespace), obj as unknown as KubeObject, subresource) as unknown as Promise<T>;
  }
  async patch(name: string, body: unknown, type: PatchType = 'merge', opts: PatchOptions = {}): Promise<T> {
    const params: Record<string, string> = {};
    if (opts.fieldManager) params['fieldManager'] = opts.fieldManager;
    if (opts.force !== undefined) params['force'] = String(opts.force);
    return this.rest.patch<T>(this.at(undefined), name, body, type, opts.subresource, params);
  }
  async delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return this.rest.delete<T | Status>(this.at(undefined), name, opts);
  }
  watch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
    return this.rest.watch(this.ref, opts, (ev) => onEvent(ev as unknown as WatchEvent<T>), signal);
  }
}

/** A client for any collection (e.g. a custom resource) typed by the caller. */
export function resourceClient<T extends AnyObject>(rest: RestClient, ref: ResourceRef, namespaced = ref.namespace !== undefined): ResourceClient<T> {
  return new Resource<T>(rest, ref, namespaced);
}

/** One accessor per kind (`pods(ns?)`, `nodes()`, `deployments(ns?)`, ...), named by KindMap's `accessor`. */
export type KindAccessors = {
  [K in KindName as KindMap[K]['ref']['accessor']]: (...ns: NamespaceArg<K>) => ResourceClient<KindType<K>>;
};

/** {@link KindAccessors} plus the generic `forKind` and the underlying RestClient. */
export type TypedClient = KindAccessors & {
  /** The client of kind `kind` (in `namespace` for namespaced kinds; absent: all namespaces). */
  forKind<K extends KindName>(kind: K, ...ns: NamespaceArg<K>): ResourceClient<KindType<K>>;
  readonly rest: RestClient;
};

/** Wraps `rest` in typed-by-kind clients. Cheap: resource clients are created per call and hold no state. */
export function typedClient(rest: RestClient): TypedClient {
  const forKind = <K extends KindName>(kind: K, ...ns: NamespaceArg<K>): ResourceClient<KindType<K>> => {
    const k = KIND_REFS[kind] as KindRef | undefined;
    if (!k) throw new Error(`unknown kind ${String(kind)}`);
    const namespace = k.namespaced ? (ns as [string?])[0] : undefined;
    const ref: ResourceRef = { group: k.group, version: k.version, resource: k.resource };
    if (namespace) ref.namespace = namespace;
    return new Resource<KindType<K>>(rest, ref, k.namespaced);
  };
  const out: Record<string, unknown> = { forKind, rest };
  for (const kind of Object.keys(KIND_REFS) as KindName[]) {
    out[KIND_REFS[kind].accessor] = (namespace?: string) => (forKind as (k: KindName, n?: string) => unknown)(kind, namespace);
  }
  return out as TypedClient;
}
