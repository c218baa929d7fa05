/**
 * OpenAPI definition names for client-node model classes and registered kinds
 * (`V1PodSpec` -> `io.k8s.api.core.v1.PodSpec`). Upstream names a type by the Go package
 * that declares it; client-node keeps only the version in the class name, so the package
 * of each class is recovered by walking references from the kinds of each group, the core
 * and meta closures first (they own the types other groups share).
 */
import type { ResourceDef } from '../resource.js';
import type { ModelGraph, ModelType } from './models.js';

/** A served API group and the definition-name prefix of its Go package. */
interface GroupPackage {
  group: string;
  /** "io.k8s.api.apps" */
  pkg: string;
  /** client-node's disambiguating class prefix ("Core" in CoreV1Event). */
  prefix: string;
}

const P = (group: string, pkg: string, prefix: string): GroupPackage => ({ group, pkg, prefix });
const GROUPS: GroupPackage[] = [
  P('', 'io.k8s.api.core', 'Core'),
  P('admissionregistration.k8s.io', 'io.k8s.api.admissionregistration', 'Admissionregistration'),
  P('apiextensions.k8s.io', 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions', 'Apiextensions'),
  P('apiregistration.k8s.io', 'io.k8s.kube-aggregator.pkg.apis.apiregistration', 'Apiregistration'),
  P('apps', 'io.k8s.api.apps', 'Apps'),
  P('authentication.k8s.io', 'io.k8s.api.authentication', 'Authentication'),
  P('authorization.k8s.io', 'io.k8s.api.authorization', 'Authorization'),
  P('autoscaling', 'io.k8s.api.autoscaling', 'Autoscaling'),
  P('batch', 'io.k8s.api.batch', 'Batch'),
  P('certificates.k8s.io', 'io.k8s.api.certificates', 'Certificates'),
  P('coordination.k8s.io', 'io.k8s.api.coordination', 'Coordination'),
  P('discovery.k8s.io', 'io.k8s.api.discovery', 'Discovery'),
  P('events.k8s.io', 'io.k8s.api.events', 'Events'),
  P('flowcontrol.apiserver.k8s.io', 'io.k8s.api.flowcontrol', 'Flowcontrol'),
  P('internal.apiserver.k8s.io', 'io.k8s.api.apiserverinternal', 'Apiserverinternal'),
  P('metrics.k8s.io', 'io.k8s.metrics.pkg.apis.metrics', 'Metrics'),
  P('networking.k8s.io', 'io.k8s.api.networking', 'Networking'),
  P('node.k8s.io', 'io.k8s.api.node', 'Node'),
  P('policy', 'io.k8s.api.policy', 'Policy'),
  P('rbac.authorization.k8s.io', 'io.k8s.api.rbac', 'Rbac'),
  P('resource.k8s.io', 'io.k8s.api.resource', 'Resource'),
  P('scheduling.k8s.io', 'io.k8s.api.scheduling', 'Scheduling'),
  P('storage.k8s.io', 'io.k8s.api.storage', 'Storage'),
  P('storagemigration.k8s.io', 'io.k8s.api.storagemigration', 'Storagemigration'),
];
const BY_GROUP = new Map(GROUPS.map((g) => [g.group, g]));
const BY_PREFIX = new Map(GROUPS.map((g) => [g.prefix, g]));

/** Definition-name prefix of the meta/v1 package. */
export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** meta/v1 classes (shared by every group). */
const META_CLASSES = [
  'V1ObjectMeta', 'V1ListMeta', 'V1LabelSelector', 'V1LabelSelectorRequirement', 'V1Condition', 'V1OwnerReference',
  'V1ManagedFieldsEntry', 'V1Status', 'V1StatusDetails', 'V1StatusCause', 'V1DeleteOptions', 'V1Preconditions',
  'V1APIResource', 'V1APIResourceList', 'V1APIGroup', 'V1APIGroupList', 'V1APIVersions', 'V1GroupVersionForDiscovery',
  'V1ServerAddressByClientCIDR', 'V1WatchEvent', 'V1FieldSelectorRequirement',
];

/** Classes that live in a group other than the one whose kinds first reach them. */
const FIXED: Record<string, string> = {
  VersionInfo: 'io.k8s.apimachinery.pkg.version.Info',
  V1Scale: 'io.k8s.api.autoscaling.v1.Scale',
  V1ScaleSpec: 'io.k8s.api.autoscaling.v1.ScaleSpec',
  V1ScaleStatus: 'io.k8s.api.autoscaling.v1.ScaleStatus',
  V1Eviction: 'io.k8s.api.policy.v1.Eviction',
  AuthenticationV1TokenRequest: 'io.k8s.api.authentication.v1.TokenRequest',
};

/** The core/v1 kinds; their closure is core/v1 even when they are not registered. */
const CORE_KINDS = [
  'V1Pod', 'V1PodTemplate', 'V1ReplicationController', 'V1Service', 'V1Endpoints', 'V1Node', 'V1Namespace',
  'V1PersistentVolume', 'V1PersistentVolumeClaim', 'V1ConfigMap', 'V1Secret', 'V1ServiceAccount', 'V1LimitRange',
  'V1ResourceQuota', 'CoreV1Event', 'V1Binding', 'V1ComponentStatus',
];

const CLASS_RE = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

/** Splits a class name into its optional group prefix, version ("v1beta1") and short name. */
export function splitClassName(cls: string): { prefix?: string; version: string; short: string } | undefined {
  const m = CLASS_RE.exec(cls);
  if (!m) return undefined;
  return { prefix: m[1], version: m[2]![0]!.toLowerCase() + m[2]!.slice(1), short: m[3]! };
}

/** "stable.example.com" -> "com.example.stable" (upstream's prefix for custom resources). */
export function reversedGroup(group: string): string {
  return group.split('.').reverse().join('.');
}

/** Definition-name prefix of a group's package, or undefined for groups not built in. */
export function packageOfGroup(group: string): string | undefined {
  return BY_GROUP.get(group)?.pkg;
}

/** The definition name of a registered kind (its `openapiName`, or derived from group/version/kind). */
export function definitionNameOf(def: ResourceDef): string {
  if (def.openapiName) return def.openapiName;
  const pkg = def.custom ? undefined : packageOfGroup(def.group);
  return `${pkg ?? reversedGroup(def.group)}.${def.version}.${def.kind}`;
}

/** The definition name of a kind's list ("io.k8s.api.apps.v1.DeploymentList"). */
export function listDefinitionNameOf(def: ResourceDef): string {
  const name = definitionNameOf(def);
  const list = def.listKind ?? `${def.kind}List`;
  return `${name.slice(0, name.lastIndexOf('.') + 1)}${list}`;
}

/** The client-node class for a kind ("CoreV1Event", "V1Deployment"), if client-node has one. */
export function classOfDef(def: ResourceDef, graph: ModelGraph): string | undefined {
  if (def.custom) return undefined;
  const name = definitionNameOf(def);
  const dot = name.lastIndexOf('.');
  const kind = name.slice(dot + 1);
  const ver = def.version[0]!.toUpperCase() + def.version.slice(1);
  const g = BY_GROUP.get(def.group);
  const candidates = [g ? `${g.prefix}${ver}${kind}` : undefined, `${ver}${kind}`];
  for (const c of candidates) if (c && graph.has(c) && (FIXED[c] === undefined || FIXED[c] === name)) return c;
  return undefined;
}

/** Names every class reachable from the built-in kinds and the given registered kinds. */
export class ClassNamer {
  private readonly names = new Map<string, string>();
  private readonly classes = new Map<string, string>();

  constructor(
    private readonly graph: ModelGraph,
    defs: ResourceDef[],
  ) {
    const metaSeeds = META_CLASSES.filter((c) => graph.has(c));
    for (const c of metaSeeds) this.assign(c, `${META_V1}.${splitClassName(c)!.short}`);
    for (const [c, n] of Object.entries(FIXED)) if (graph.has(c)) this.assign(c, n);
    this.walk(metaSeeds, 'io.k8s.apimachinery.pkg.apis.meta');
    this.walk(Object.keys(FIXED).filter((c) => graph.has(c)));
    const core = CORE_KINDS.filter((c) => graph.has(c));
    for (const c of core) this.assign(c, this.derived(c, 'io.k8s.api.core'));
    this.walk(core, 'io.k8s.api.core');
    const byGroup = new Map<string, ResourceDef[]>();
    for (const d of defs) if (!d.custom) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d]);
    const order = [...byGroup.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
    for (const group of order) {
      const seeds: string[] = [];
      for (const d of byGroup.get(group)!) {
        const cls = classOfDef(d, graph);
        if (!cls) continue;
        this.assign(cls, definitionNameOf(d));
        seeds.push(cls);
        const list = `${cls}List`;
        if (graph.has(list)) {
          this.assign(list, listDefinitionNameOf(d));
          seeds.push(list);
        }
      }
      const pkg = packageOfGroup(group) ?? reversedGroup(group);
      this.walk(seeds, pkg);
    }
  }

  /** Definition name of a class; classes no kind reaches are named after their own prefix or core. */
  nameOf(cls: string): string {
    const n = this.names.get(cls);
    if (n) return n;
    const fresh = this.derived(cls, 'io.k8s.api.core');
    this.assign(cls, fresh);
    this.walk([cls], fresh.slice(0, fresh.lastIndexOf('.', fresh.lastIndexOf('.') - 1)));
    return fresh;
  }

  /** The class behind a definition name, if it names a client-node class. */
  classOf(name: string): string | undefined {
    return this.classes.get(name);
  }

  private assign(cls: string, name: string): void {
    if (this.names.has(cls)) return;
    this.names.set(cls, name);
    if (!this.classes.has(name)) this.classes.set(name, cls);
  }

  /** Name for `cls` inside package `pkg` (a class prefix overrides the package). */
  private derived(cls: string, pkg: string): string {
    const parts = splitClassName(cls);
    if (!parts) return `${pkg}.${cls}`;
    const own = parts.prefix ? BY_PREFIX.get(parts.prefix) : undefined;
    return `${own?.pkg ?? pkg}.${parts.version}.${parts.short}`;
  }

  /** Breadth-first: every class reachable from `seeds` not yet named joins package `pkg`. */
  private walk(seeds: string[], pkg?: string): void {
    const queue = [...seeds];
    for (let i = 0; i < queue.length; i++) {
      const cls = queue[i]!;
      const model = this.graph.get(cls);
      const own = this.names.get(cls);
      if (!model || !own) continue;
      const here = pkg ?? own.slice(0, own.lastIndexOf('.', own.lastIndexOf('.') - 1));
      for (const f of model.fields) {
        const ref = refOf(f.type);
        if (!ref || this.names.has(ref)) continue;
        this.assign(ref, this.derived(ref, here));
        queue.push(ref);
      }
    }
  }
}

/** The model class a field type points at (through arrays and maps), if any. */
export function refOf(t: ModelType): string | undefined {
  while (t.kind === 'array' || t.kind === 'map') t = t.kind === 'array' ? t.items : t.values;
  return t.kind === 'ref' ? t.model : undefined;
}
