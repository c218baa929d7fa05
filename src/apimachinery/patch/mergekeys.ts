/**
 * What strategic merge patch and server-side apply must know about a kind's lists and
 * maps, as data. Paths are field names from the object root with list items transparent
 * (`['spec','template','spec','containers','env']`). Built-in kinds carry upstream's
 * patchMergeKey/patchStrategy (SMP) and listType/listMapKey/mapType (SSA) markers;
 * custom resources read `x-kubernetes-*` extensions from their structural schema.
 */

/** How a list merges. `listType`/`keys` drive server-side apply; `mergeKey`/`strategy` drive SMP. */
export interface ListInfo {
  /** SSA: `map` (items keyed by `keys`), `set` (scalar items unique by value) or `atomic` (one value). */
  listType: 'map' | 'set' | 'atomic';
  /** SMP patchMergeKey; absent for lists SMP replaces or merges as primitive sets. */
  mergeKey?: string;
  /** SSA list-map keys; defaults to `[mergeKey]`. */
  keys?: string[];
  /** SMP patchStrategy; a list merges only when it includes `merge` (otherwise it is replaced). */
  strategy?: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';
  /** Values SSA assumes for key fields an item omits (upstream defaults, e.g. protocol TCP). */
  keyDefaults?: Record<string, string | number | boolean>;
}

/** How an object behaves for SSA: `atomic` (one value) or `map` (keys are entries, e.g. labels). Absent: a struct. */
export type MapType = 'atomic' | 'map';

/** Schema lookups used by the patch engines; unknown paths are atomic lists and plain structs. */
export interface PatchSchema {
  /** The list at this path, if the path names a list with known behaviour. */
  at(path: string[]): ListInfo | undefined;
  /** The object kind at this path (SSA only); undefined means an ordinary struct. */
  mapType?(path: string[]): MapType | undefined;
}

/** The SSA keys of a map list: `keys`, else `[mergeKey]`, else none. */
export function listKeys(info: ListInfo): string[] {
  return info.keys ?? (info.mergeKey ? [info.mergeKey] : []);
}

/** A schema knowing nothing: every list atomic, every object a struct. */
export const emptyPatchSchema: PatchSchema = { at: () => undefined, mapType: () => undefined };

interface Table {
  lists: Record<string, ListInfo>;
  maps: Record<string, MapType>;
}

const SEP = '\u0000';
const key = (path: string[]): string => path.join(SEP);

function table(lists: Record<string, ListInfo> = {}, maps: Record<string, MapType> = {}): Table {
  return { lists, maps };
}

/** Mounts tables under a dotted prefix ("spec.template"). */
function at(prefix: string, ...tables: Table[]): Table {
  const out = table({}, {});
  const p = prefix ? `${prefix}.` : '';
  for (const t of tables) {
    for (const [k, v] of Object.entries(t.lists)) out.lists[p + k] = v;
    for (const [k, v] of Object.entries(t.maps)) out.maps[p + k] = v;
  }
  return out;
}

function schemaOf(...tables: Table[]): PatchSchema {
  const lists = new Map<string, ListInfo>();
  const maps = new Map<string, MapType>();
  for (const t of tables) {
    for (const [k, v] of Object.entries(t.lists)) lists.set(key(k.split('.')), v);
    for (const [k, v] of Object.entries(t.maps)) maps.set(key(k.split('.')), v);
  }
  return { at: (path) => lists.get(key(path)), mapType: (path) => maps.get(key(path)) };
}

const ATOMIC: ListInfo = { listType: 'atomic' };
const byKey = (k: string, strategy: ListInfo['strategy'] = 'merge'): ListInfo => ({ listType: 'map', mergeKey: k, strategy });
const BY_NAME = byKey('name');
const BY_TYPE = byKey('type');
/** SSA-only map lists (no SMP merge key: SMP replaces them). */
const ssaMap = (...keys: string[]): ListInfo => ({ listType: 'map', keys });

const objectMeta = table(
  { finalizers: { listType: 'set', strategy: 'merge' }, ownerReferences: byKey('uid'), managedFields: ATOMIC },
  { labels: 'map', annotations: 'map' },
);

const resources = table({ claims: ssaMap('name') }, { limits: 'map', requests: 'map' });

const container = table(
  {
    ports: {
      listType: 'map',
      mergeKey: 'containerPort',
      keys: ['containerPort', 'protocol'],
      keyDefaults: { protocol: 'TCP' },
      strategy: 'merge',
    },
    env: BY_NAME,
    volumeMounts: byKey('mountPath'),
    volumeDevices: byKey('devicePath'),
  },
  {
    'env.valueFrom.configMapKeyRef': 'atomic',
    'env.valueFrom.secretKeyRef': 'atomic',
    'env.valueFrom.fieldRef': 'atomic',
    'env.valueFrom.resourceFieldRef': 'atomic',
  },
);
const containerAll = at('', container, at('resources', resources));

const podSpec = at(
  '',
  table(
    {
      volumes: byKey('name', 'merge,retainKeys'),
      initContainers: BY_NAME,
      containers: BY_NAME,
      ephemeralContainers: BY_NAME,
      imagePullSecrets: BY_NAME,
      hostAliases: byKey('ip'),
      topologySpreadConstraints: { listType: 'map', mergeKey: 'topologyKey', keys: ['topologyKey', 'whenUnsatisfiable'], strategy: 'merge' },
      resourceClaims: byKey('name', 'merge,retainKeys'),
      schedulingGates: BY_NAME,
    },
    {
      nodeSelector: 'atomic',
      overhead: 'map',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution': 'atomic',
      'topologySpreadConstraints.labelSelector': 'atomic',
      'volumes.csi.volumeAttributes': 'map',
    },
  ),
  at('initContainers', containerAll),
  at('containers', containerAll),
  at('ephemeralContainers', containerAll),
  at('resources', resources),
);

const podStatus = table({
  conditions: BY_TYPE,
  podIPs: byKey('ip'),
  hostIPs: { listType: 'atomic', mergeKey: 'ip', strategy: 'merge' },
  containerStatuses: ATOMIC,
  initContainerStatuses: ATOMIC,
  ephemeralContainerStatuses: ATOMIC,
  resourceClaimStatuses: byKey('name', 'merge,retainKeys'),
});

const podTemplate = at('', at('metadata', objectMeta), at('spec', podSpec));
const labelSelector = (path: string): Table => table({}, { [path]: 'atomic' });
const conditions = (path = 'status.conditions', info: ListInfo = BY_TYPE): Table => table({ [path]: info });
const workload = (extra: Table = table()): Table =>
  at('', labelSelector('spec.selector'), at('spec.template', podTemplate), conditions(), extra);

/** group/kind -> the kind's table (without the top-level metadata, added for every kind). */
const KINDS: Record<string, Table> = {
  '/Pod': at('', at('spec', podSpec), at('status', podStatus)),
  '/PodTemplate': at('template', podTemplate),
  '/ReplicationController': at('', at('spec.template', podTemplate), table({}, { 'spec.selector': 'atomic' }), conditions()),
  '/Service': table(
    {
      'spec.ports': { listType: 'map', mergeKey: 'port', keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' }, strategy: 'merge' },
      'status.conditions': BY_TYPE,
    },
    { 'spec.selector': 'atomic' },
  ),
  '/Endpoints': table({ subsets: ATOMIC }),
  '/Node': table(
    {
      'spec.podCIDRs': { listType: 'set', strategy: 'merge' },
      'spec.taints': ATOMIC,
      'status.conditions': BY_TYPE,
      'status.addresses': BY_TYPE,
    },
    { 'status.capacity': 'map', 'status.allocatable': 'map' },
  ),
  '/Namespace': conditions(),
  '/ConfigMap': table({}, { data: 'map', binaryData: 'map' }),
  '/Secret': table({}, { data: 'map', stringData: 'map' }),
  '/ServiceAccount': table({ secrets: BY_NAME, imagePullSecrets: ATOMIC }),
  '/PersistentVolume': table(
    {},
    { 'spec.capacity': 'map', 'spec.claimRef': 'atomic', 'spec.nodeAffinity.required': 'atomic', 'spec.csi.volumeAttributes': 'map' },
  ),
  '/PersistentVolumeClaim': at(
    '',
    at('spec.resources', resources),
    labelSelector('spec.selector'),
    conditions(),
    table({}, { 'status.capacity': 'map', 'status.allocatedResources': 'map' }),
  ),
  '/Event': table({}, { involvedObject: 'atomic', related: 'atomic' }),
  '/ResourceQuota': table({}, { 'spec.hard': 'map', 'status.hard': 'map', 'status.used': 'map' }),
  '/ComponentStatus': table({ conditions: BY_TYPE }),
  '/Binding': table({}, { target: 'atomic' }),
  'apps/Deployment': workload(),
  'apps/ReplicaSet': workload(),
  'apps/StatefulSet': workload(table({ 'spec.volumeClaimTemplates': ATOMIC })),
  'apps/DaemonSet': workload(),
  'batch/Job': at(
    '',
    labelSelector('spec.selector'),
    at('spec.template', podTemplate),
    conditions('status.conditions', { listType: 'atomic', mergeKey: 'type', strategy: 'merge' }),
  ),
  'batch/CronJob': at('spec.jobTemplate', at('metadata', objectMeta), labelSelector('spec.selector'), at('spec.template', podTemplate)),
  'autoscaling/HorizontalPodAutoscaler': conditions(),
  'policy/PodDisruptionBudget': at('', labelSelector('spec.selector'), conditions(), table({}, { 'status.disruptedPods': 'map' })),
  'networking.k8s.io/NetworkPolicy': labelSelector('spec.podSelector'),
  'rbac.authorization.k8s.io/RoleBinding': table({}, { roleRef: 'atomic' }),
  'rbac.authorization.k8s.io/ClusterRoleBinding': table({}, { roleRef: 'atomic' }),
  'storage.k8s.io/StorageClass': table({}, { parameters: 'map' }),
  'apiextensions.k8s.io/CustomResourceDefinition': conditions('status.conditions', ssaMap('type')),
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': at(
    '',
    table({ webhooks: BY_NAME }),
    labelSelector('webhooks.namespaceSelector'),
    labelSelector('webhooks.objectSelector'),
  ),
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': at(
    '',
    table({ webhooks: BY_NAME }),
    labelSelector('webhooks.namespaceSelector'),
    labelSelector('webhooks.objectSelector'),
  ),
  'apiregistration.k8s.io/APIService': conditions(),
  'certificates.k8s.io/CertificateSigningRequest': conditions('status.conditions', ssaMap('type')),
  'flowcontrol.apiserver.k8s.io/FlowSchema': conditions(),
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration': conditions(),
  'discovery.k8s.io/EndpointSlice': table({ endpoints: ATOMIC, ports: ATOMIC }),
  'events.k8s.io/Event': table({}, { regarding: 'atomic', related: 'atomic' }),
  'node.k8s.io/RuntimeClass': table({}, { 'scheduling.nodeSelector': 'atomic' }),
};

const cache = new Map<string, PatchSchema>();

/**
 * The upstream merge keys, patch strategies and SSA list/map types of a built-in kind
 * (`group` "" for core). Kinds not listed get the ObjectMeta rules only; every list not
 * described is atomic (replaced whole by SMP, owned as one value by SSA).
 */
export function builtinPatchSchema(group: string, kind: string): PatchSchema {
  const id = `${group}/${kind}`;
  let s = cache.get(id);
  if (!s) {
    s = schemaOf(at('metadata', objectMeta), KINDS[id] ?? table());
    cache.set(id, s);
  }
  return s;
}

/** True when {@link builtinPatchSchema} has rules for this kind beyond ObjectMeta. */
export function hasBuiltinPatchSchema(group: string, kind: string): boolean {
  return `${group}/${kind}` in KINDS;
}

type Node = Record<string, unknown>;

/**
 * A PatchSchema for a custom resource from its structural `openAPIV3Schema`: lists follow
 * `x-kubernetes-list-type` (default atomic) and `x-kubernetes-list-map-keys` (key
 * defaults from the item schema), objects `x-kubernetes-map-type`, `additionalProperties`
 * and `x-kubernetes-preserve-unknown-fields`; `metadata` follows ObjectMeta.
 */
export function crdPatchSchema(openAPIV3Schema: Record<string, unknown> | undefined): PatchSchema {
  const meta = schemaOf(at('metadata', objectMeta));
  const resolve = (path: string[]): Node | undefined => {
    let node: Node | undefined = openAPIV3Schema;
    for (const name of path) {
      node = itemsOf(node);
      if (!node) return undefined;
      const props = node.properties as Record<string, Node> | undefined;
      const addl = node.additionalProperties;
      if (props && props[name]) node = props[name];
      else if (addl && typeof addl === 'object') node = addl as Node;
      else if (node['x-kubernetes-preserve-unknown-fields'] === true) return { 'x-kubernetes-preserve-unknown-fields': true };
      else return undefined;
    }
    return node;
  };
  return {
    at(path) {
      if (path[0] === 'metadata') return meta.at(path);
      const node = resolve(path);
      if (!node || node.type !== 'array') return undefined;
      const lt = node['x-kubernetes-list-type'];
      if (lt === 'set') return { listType: 'set', strategy: 'merge' };
      if (lt !== 'map') return ATOMIC;
      const keys = (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
      const itemProps = (itemsOf(node)?.properties ?? {}) as Record<string, Node>;
      const keyDefaults: Record<string, string | number | boolean> = {};
      for (const k of keys) {
        const d = itemProps[k]?.default;
        if (typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean') keyDefaults[k] = d;
      }
      const info: ListInfo = { listType: 'map', keys, strategy: 'merge' };
      if (keys.length === 1) info.mergeKey = keys[0];
      if (Object.keys(keyDefaults).length > 0) info.keyDefaults = keyDefaults;
      return info;
    },
    mapType(path) {
      if (path[0] === 'metadata') return meta.mapType?.(path);
      const node = resolve(path);
      if (!node) return undefined;
      if (node['x-kubernetes-map-type'] === 'atomic') return 'atomic';
      if (node.properties) return undefined;
      if (node.additionalProperties || node['x-kubernetes-preserve-unknown-fields'] === true) return 'map';
      return undefined;
    },
  };
}

/** Descends through array schemas to their item schema (list items are transparent). */
function itemsOf(node: Node | undefined): Node | undefined {
  let n = node;
  while (n && n.type === 'array') n = n.items as Node | undefined;
  return n;
}
