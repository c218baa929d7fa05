/**
 * The kubelet's translation of a v1 Pod into the runtime's CRI configs (upstream kuberuntime's
 * generatePodSandboxConfig / generateContainerConfig and helpers): QoS class, DNS, hosts file,
 * environment (envFrom, valueFrom, service links, $(VAR) expansion), resources, security context.
 * Everything here is pure: the caller fetches configMaps/secrets/services and creates files.
 */
import { readFileSync } from 'node:fs';
import type { Container, EnvVar, Pod, ResourceRequirements, SecurityContext } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../apimachinery/quantity.js';
import { milliCpuToQuota, milliCpuToShares, podCgroupParent } from '../runtime/cgroups.js';
import type {
  ContainerConfig, LinuxContainerResources, LinuxContainerSecurityContext, Mount, NamespaceMode, PodSandboxConfig, PortMapping,
} from '../runtime/types.js';

/** The pod's quality of service class. */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Where env values come from; configMap/secret return undefined when the object does not exist. */
export interface EnvSources {
  configMap(ns: string, name: string): Record<string, string> | undefined;
  /** Secret data with values already decoded. */
  secret(ns: string, name: string): Record<string, string> | undefined;
  /** Services for the docker-link env vars; `namespace` absent means the pod's namespace. */
  services?: { name: string; namespace?: string; clusterIP: string; ports: { name?: string; port: number; protocol?: string }[] }[];
}

/** Node and pod facts the configs depend on. */
export interface PodRuntimeInfo {
  /** Root of the QoS / pod cgroups (default /k8ts). */
  cgroupRoot?: string;
  podIP?: string;
  podIPs?: string[];
  hostIP: string;
  nodeName: string;
  clusterDNS?: string[];
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** Default `/var/log/pods`. */
  podLogRoot?: string;
  /** Contents of the node's resolv.conf; undefined acts as the kubelet's `--resolv-conf=""`. */
  hostResolvConf?: string;
  /** Machine memory for the Burstable oom_score_adj and the limits.memory downward API default (8 GiB). */
  nodeMemoryBytes?: number;
  /** Node CPU for the limits.cpu downward API default when the container has no limit (0). */
  nodeMilliCPU?: number;
  /** The kubelet's seccompDefault: RuntimeDefault instead of Unconfined when a pod sets no profile (false). */
  seccompDefault?: boolean;
  /** Root of Localhost seccomp profiles (`/var/lib/kubelet/seccomp`). */
  seccompProfileRoot?: string;
  /** Floor of the containers' oom_score_adj (default {@link minOomScoreAdj} of this process). */
  minOomScoreAdj?: number;
}

const GiB = 1024 ** 3;
const CPU_PERIOD = 100000;
const GUARANTEED_OOM = -997;
const BESTEFFORT_OOM = 1000;

function qty(q: string | number | undefined): ReturnType<typeof parseQuantity> | undefined {
  return q === undefined ? undefined : parseQuantity(String(q));
}
const milli = (q: string | number | undefined): number => qty(q)?.milliValue() ?? 0;
const bytes = (q: string | number | undefined): number => qty(q)?.value() ?? 0;

/** QoS class by upstream rules: status.qosClass if set, else computed from cpu/memory of all (init) containers. */
export function qosClass(pod: Pod): QOSClass {
  if (pod.status?.qosClass) return pod.status.qosClass as QOSClass;
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const [name, v] of Object.entries(c.resources?.requests ?? {})) {
      const n = qty(v)!.nanos;
      if ((name === 'cpu' || name === 'memory') && n > 0n) requests.set(name, (requests.get(name) ?? 0n) + n);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      const n = qty(v)!.nanos;
      if ((name === 'cpu' || name === 'memory') && n > 0n) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0n) + n);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  for (const [name, v] of requests) if (limits.get(name) !== v) guaranteed = false;
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** The pod's hostname and domain as upstream: spec.hostname ?? name truncated to 63, `<subdomain>.<ns>.svc.<domain>`. */
export function podHostnameAndDomain(pod: Pod, clusterDomain = 'cluster.local'): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || pod.metadata?.name || '';
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  return { hostname, domain: sub ? `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '' };
}

const HOSTS_LOCAL =
  '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\n' +
  'fe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

function hostAliasLines(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (!aliases.length) return '';
  return '\n# Entries added by HostAliases.\n' + aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('');
}

/** The kubelet-managed /etc/hosts of a pod network pod: header, localhost lines, one line per pod IP, host aliases. */
export function hostsFileContent(pod: Pod, podIPs: string[], clusterDomain = 'cluster.local'): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  let s = '# Kubernetes-managed hosts file.\n' + HOSTS_LOCAL;
  for (const ip of podIPs) s += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return s + hostAliasLines(pod);
}

/** The /etc/hosts of a hostNetwork pod: the node's hosts file under its own header, then host aliases. */
export function nodeHostsFileContent(pod: Pod, nodeHosts: string): string {
  return '# Kubernetes-managed hosts file (host network).\n' + nodeHosts + hostAliasLines(pod);
}

type DNS = { servers: string[]; searches: string[]; options: string[] };
const dedupe = (xs: string[]): string[] => [...new Set(xs)];

/** Parses resolv.conf text: nameservers, the last search line (without `.` and trailing dots), all options. */
export function parseResolvConf(text: string): DNS {
  const out: DNS = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const f = raw.replace(/[#;].*$/, '').trim().split(/\s+/).filter(Boolean);
    if (f[0] === 'nameserver' && f[1]) out.servers.push(f[1]);
    else if (f[0] === 'search') out.searches = f.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (f[0] === 'options') out.options = mergeOptions(out.options, f.slice(1).map((o) => splitOption(o)));
  }
  return out;
}

function splitOption(o: string): { name: string; value?: string } {
  const i = o.indexOf(':');
  return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
}

function mergeOptions(existing: string[], extra: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of existing) {
    const s = splitOption(o);
    m.set(s.name, s.value ?? '');
  }
  for (const o of extra) m.set(o.name ?? '', o.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

/** The sandbox's resolv.conf settings per dnsPolicy, merged with spec.dnsConfig and cut to upstream limits. */
export function podDNSConfig(pod: Pod, info: PodRuntimeInfo): DNS {
  const spec = pod.spec ?? { containers: [] };
  const policy = spec.dnsPolicy || 'ClusterFirst';
  let dns: DNS = info.hostResolvConf !== undefined ? parseResolvConf(info.hostResolvConf) : { servers: [], searches: [], options: [] };
  let type = policy === 'None' ? 'none' : policy === 'Default' || (policy === 'ClusterFirst' && spec.hostNetwork) ? 'host' : 'cluster';
  if (type === 'none') dns = { servers: [], searches: [], options: [] };
  if (type === 'cluster') {
    if (info.clusterDNS?.length) {
      const d = info.clusterDomain ?? 'cluster.local';
      const ns = pod.metadata?.namespace ?? 'default';
      const cluster = d ? [`${ns}.svc.${d}`, `svc.${d}`, d] : [];
      dns = { servers: [...info.clusterDNS], searches: dedupe([...cluster, ...dns.searches]), options: ['ndots:5'] };
    } else type = 'host'; // upstream records a MissingClusterDNS event and falls back to Default
  }
  if (type === 'host' && info.hostResolvConf === undefined) {
    dns.servers = [info.hostIP.includes(':') ? '::1' : '127.0.0.1'];
    dns.searches = ['.'];
  }
  const pc = spec.dnsConfig;
  if (pc) {
    dns.servers = dedupe([...dns.servers, ...(pc.nameservers ?? [])]);
    dns.searches = dedupe([...dns.searches, ...(pc.searches ?? [])]);
    dns.options = mergeOptions(dns.options, pc.options ?? []);
  }
  dns.servers = dns.servers.slice(0, 3);
  let s = dns.searches.slice(0, 32).filter((x) => x.length <= 253);
  while (s.join(' ').length > 2048) s = s.slice(0, -1);
  dns.searches = s;
  return dns;
}

/** Pod-level cgroup resources as upstream ResourceConfigForPod (sums of containers, max with init containers). */
export function podResources(pod: Pod, qos: QOSClass = qosClass(pod)): LinuxContainerResources {
  const spec = pod.spec ?? { containers: [] };
  const total = (get: (r: ResourceRequirements | undefined) => number): number => {
    const sum = spec.containers.reduce((a, c) => a + get(c.resources), 0);
    const init = (spec.initContainers ?? []).reduce((a, c) => Math.max(a, get(c.resources)), 0);
    return Math.max(sum, init) + get({ requests: spec.overhead, limits: spec.overhead });
  };
  if (qos === 'BestEffort') return { cpuShares: 2 };
  const all = spec.containers; // upstream checks "limits declared" on the regular containers
  const res: LinuxContainerResources = { cpuShares: milliCpuToShares(total((r) => milli(r?.requests?.cpu ?? r?.limits?.cpu))) };
  if (qos === 'Guaranteed' || all.every((c) => milli(c.resources?.limits?.cpu) > 0)) {
    res.cpuQuota = milliCpuToQuota(total((r) => milli(r?.limits?.cpu)));
    res.cpuPeriod = CPU_PERIOD;
  }
  if (qos === 'Guaranteed' || all.every((c) => bytes(c.resources?.limits?.memory) > 0)) {
    res.memoryLimitInBytes = total((r) => bytes(r?.limits?.memory));
  }
  return res;
}

/** RunPodSandbox's config for the pod (see the module doc and the brief of issue 7 for each field). */
export function sandboxConfig(pod: Pod, info: PodRuntimeInfo, attempt = 0): PodSandboxConfig {
  const md = pod.metadata ?? {};
  const spec = pod.spec ?? { containers: [] };
  const [name, namespace, uid] = [md.name ?? '', md.namespace ?? 'default', md.uid ?? ''];
  const qos = qosClass(pod);
  const cfg: PodSandboxConfig = {
    metadata: { name, namespace, uid, attempt },
    logDirectory: `${(info.podLogRoot ?? '/var/log/pods').replace(/\/+$/, '')}/${namespace}_${name}_${uid}`,
    dnsConfig: podDNSConfig(pod, info),
    portMappings: portMappings(pod),
    labels: { ...(md.labels ?? {}), 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid },
    annotations: { ...(md.annotations ?? {}) },
    linux: {
      cgroupParent: podCgroupParent(qos, uid, info.cgroupRoot),
      namespaceOptions: {
        network: spec.hostNetwork ? 'NODE' : 'POD',
        pid: (spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER') as NamespaceMode,
        ipc: spec.hostIPC ? 'NODE' : 'POD',
      },
      resources: podResources(pod, qos),
    },
  };
  if (!spec.hostNetwork) {
    const { hostname, domain } = podHostnameAndDomain(pod, info.clusterDomain);
    cfg.hostname = spec.setHostnameAsFQDN && domain ? `${hostname}.${domain}` : hostname;
  }
  const sysctls = spec.securityContext?.sysctls;
  if (sysctls?.length) cfg.linux!.sysctls = Object.fromEntries(sysctls.map((s) => [s.name, s.value]));
  return cfg;
}

/** Host port mappings of the regular containers (ports without hostPort are skipped; duplicate names dropped). */
function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const names = new Set<string>();
    for (const p of c.ports ?? []) {
      const proto = (p.protocol ?? 'TCP') as PortMapping['protocol'];
      const key = p.name ? `${c.name}-${p.name}` : `${c.name}-${proto}:${p.containerPort}`;
      if (names.has(key)) continue;
      names.add(key);
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ protocol: proto, containerPort: p.containerPort, hostPort: p.hostPort, ...(p.hostIP ? { hostIp: p.hostIP } : {}) });
    }
  }
  return out;
}

/** Upstream `$(VAR)` expansion: `$$` is a literal `$`, unknown or unterminated references stay as written. */
export function expandVars(s: string, env: Record<string, string> | ((name: string) => string | undefined)): string {
  const look = typeof env === 'function' ? env : (n: string) => (Object.hasOwn(env, n) ? env[n] : undefined);
  let out = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch !== '$' || i + 1 >= s.length) {
      out += ch;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = s.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = s.slice(i + 2, close);
        out += look(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += '$' + next;
      i += 2;
    }
  }
  return out;
}

const envName = (s: string): string => s.replace(/-/g, '_').toUpperCase();

/** Docker-link style env vars of services (`<NAME>_SERVICE_HOST`, `_SERVICE_PORT[_<PORT NAME>]`, `_PORT...`). */
export function serviceEnv(pod: Pod, services: NonNullable<EnvSources['services']>): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, (typeof services)[number]>();
  for (const s of services) {
    if (!s.clusterIP || s.clusterIP === 'None' || !s.ports.length) continue;
    const sns = s.namespace ?? ns;
    if (sns === 'default' && s.name === 'kubernetes') {
      if (!chosen.has(s.name)) chosen.set(s.name, s);
    } else if (sns === ns && links) chosen.set(s.name, s);
  }
  const out: Record<string, string> = {};
  for (const s of [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const p = envName(s.name);
    out[`${p}_SERVICE_HOST`] = s.clusterIP;
    out[`${p}_SERVICE_PORT`] = String(s.ports[0].port);
    for (const sp of s.ports) if (sp.name) out[`${p}_SERVICE_PORT_${envName(sp.name)}`] = String(sp.port);
    const host = s.clusterIP.includes(':') ? `[${s.clusterIP}]` : s.clusterIP;
    s.ports.forEach((sp, i) => {
      const proto = (sp.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${host}:${sp.port}`;
      if (i === 0) out[`${p}_PORT`] = url;
      const pp = `${p}_PORT_${sp.port}_${proto.toUpperCase()}`;
      Object.assign(out, { [pp]: url, [`${pp}_PROTO`]: proto, [`${pp}_PORT`]: String(sp.port), [`${pp}_ADDR`]: s.clusterIP });
    });
  }
  return out;
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

/** A downward API fieldRef value (upstream podFieldSelectorRuntimeValue / ExtractFieldPathAsString). */
export function fieldRefValue(pod: Pod, fieldPath: string, info: PodRuntimeInfo): string {
  const podIPs = info.podIPs?.length ? info.podIPs : info.podIP ? [info.podIP] : [];
  switch (fieldPath) {
    case 'spec.nodeName': return pod.spec?.nodeName ?? info.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': case 'status.hostIPs': return info.hostIP;
    case 'status.podIP': return podIPs[0] ?? '';
    case 'status.podIPs': return podIPs.join(',');
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'metadata.labels': return formatMap(pod.metadata?.labels);
    case 'metadata.annotations': return formatMap(pod.metadata?.annotations);
  }
  const m = /^(metadata\.(?:labels|annotations))\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]] ?? '';
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

/** A downward API resourceFieldRef value: ceil(value / divisor); an unset limit is the node's capacity. */
export function resourceFieldValue(c: Container, resource: string, divisor: string | number | undefined, info: PodRuntimeInfo): string {
  const d = qty(divisor);
  const div = d && !d.isZero() ? d : parseQuantity('1');
  const r = c.resources;
  switch (resource) {
    case 'limits.cpu': return String(Math.ceil((r?.limits?.cpu !== undefined ? milli(r.limits.cpu) : info.nodeMilliCPU ?? 0) / div.milliValue()));
    case 'requests.cpu': return String(Math.ceil(milli(r?.requests?.cpu) / div.milliValue()));
    case 'limits.memory': return String(Math.ceil((r?.limits?.memory !== undefined ? bytes(r.limits.memory) : info.nodeMemoryBytes ?? 8 * GiB) / div.value()));
    case 'requests.memory': return String(Math.ceil(bytes(r?.requests?.memory) / div.value()));
  }
  throw new Error(`unsupported container resource : ${resource}`);
}

/** The container's environment in upstream order: envFrom, env (each expanded against the earlier ones), service vars. */
export function containerEnv(pod: Pod, c: Container, info: PodRuntimeInfo, sources: EnvSources): { key: string; value: string }[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const svc = serviceEnv(pod, sources.services ?? []);
  const env = new Map<string, string>();
  const cache = new Map<string, Record<string, string> | undefined>();
  const get = (kind: 'configMap' | 'secret', name: string): Record<string, string> | undefined => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, kind === 'configMap' ? sources.configMap(ns, name) : sources.secret(ns, name));
    return cache.get(k);
  };
  const notFound = (kind: 'configMap' | 'secret', name: string): Error =>
    new Error(`${kind === 'configMap' ? 'configmaps' : 'secrets'} "${name}" not found`);
  for (const ef of c.envFrom ?? []) {
    const ref = ef.configMapRef ?? ef.secretRef;
    if (!ref) continue;
    const kind = ef.configMapRef ? 'configMap' : 'secret';
    const data = get(kind, ref.name ?? '');
    if (!data) {
      if (ref.optional) continue;
      throw notFound(kind, ref.name ?? '');
    }
    for (const [k, v] of Object.entries(data)) env.set((ef.prefix ?? '') + k, v);
  }
  const look = (n: string): string | undefined => env.get(n) ?? svc[n];
  for (const e of c.env ?? []) {
    const v = envValue(pod, c, e, info, get, notFound, look);
    if (v !== undefined) env.set(e.name, v);
  }
  for (const [k, v] of Object.entries(svc)) if (!env.has(k)) env.set(k, v);
  return [...env].map(([key, value]) => ({ key, value }));
}

function envValue(
  pod: Pod, c: Container, e: EnvVar, info: PodRuntimeInfo,
  get: (kind: 'configMap' | 'secret', name: string) => Record<string, string> | undefined,
  notFound: (kind: 'configMap' | 'secret', name: string) => Error,
  look: (n: string) => string | undefined,
): string | undefined {
  if (e.value) return expandVars(e.value, look);
  const vf = e.valueFrom;
  if (!vf) return '';
  if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef.fieldPath, info);
  if (vf.resourceFieldRef) {
    const rf = vf.resourceFieldRef;
    const target = rf.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === rf.containerName) : c;
    if (!target) throw new Error(`container ${rf.containerName} not found`);
    return resourceFieldValue(target, rf.resource, rf.divisor, info);
  }
  const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
  if (!ref) return '';
  const kind = vf.configMapKeyRef ? 'configMap' : 'secret';
  const name = ref.name ?? '';
  const data = get(kind, name);
  if (!data) {
    if (ref.optional) return undefined;
    throw notFound(kind, name);
  }
  if (!Object.hasOwn(data, ref.key)) {
    if (ref.optional) return undefined;
    const ns = pod.metadata?.namespace ?? 'default';
    throw new Error(`couldn't find key ${ref.key} in ${kind === 'configMap' ? 'ConfigMap' : 'Secret'} ${ns}/${name}`);
  }
  return data[ref.key];
}

/** The container's cgroup resources and oom_score_adj (upstream generateLinuxContainerResources). */
export function containerResources(pod: Pod, c: Container, info: PodRuntimeInfo): LinuxContainerResources {
  const r = c.resources;
  const shares = milliCpuToShares(milli(r?.requests?.cpu !== undefined ? r.requests.cpu : r?.limits?.cpu));
  const res: LinuxContainerResources = { cpuShares: shares, cpuQuota: milliCpuToQuota(milli(r?.limits?.cpu)), cpuPeriod: CPU_PERIOD };
  const mem = bytes(r?.limits?.memory);
  if (mem) res.memoryLimitInBytes = mem;
  res.oomScoreAdj = Math.max(oomScoreAdj(pod, c, info.nodeMemoryBytes ?? 8 * GiB), info.minOomScoreAdj ?? minOomScoreAdj());
  return res;
}

let ownMinOomScoreAdj: number | undefined;

/**
 * The lowest oom_score_adj this process can give its containers: its own value when it lacks
 * CAP_SYS_RESOURCE (lowering the score needs it, and runc fails to start a container asked for
 * less; containerd's restrict_oom_score_adj), else -1000. Read once from /proc/self.
 */
export function minOomScoreAdj(): number {
  if (ownMinOomScoreAdj !== undefined) return ownMinOomScoreAdj;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const CAP_SYS_RESOURCE = 24n;
    const can = ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
    ownMinOomScoreAdj = can ? -1000 : Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  } catch {
    ownMinOomScoreAdj = -1000;
  }
  return ownMinOomScoreAdj;
}

/** oom_score_adj: -997 Guaranteed (and system-node-critical), 1000 BestEffort, Burstable by memory request in [3, 999]. */
export function oomScoreAdj(pod: Pod, c: Container, memoryCapacity: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return GUARANTEED_OOM;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM;
  if (qos === 'BestEffort') return BESTEFFORT_OOM;
  const adj = 1000 - Math.floor((1000 * bytes(c.resources?.requests?.memory)) / memoryCapacity);
  if (adj < 1000 + GUARANTEED_OOM) return 1000 + GUARANTEED_OOM;
  return adj === BESTEFFORT_OOM ? adj - 1 : adj;
}

/** The container's effective security context (pod-level values overridden by the container's). */
export function containerSecurityContext(pod: Pod, c: Container, info: PodRuntimeInfo, imageUid?: number): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext;
  const sc: SecurityContext = c.securityContext ?? {};
  const out: LinuxContainerSecurityContext = {};
  const runAsUser = sc.runAsUser ?? psc?.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc?.runAsGroup;
  if ((sc.runAsNonRoot ?? psc?.runAsNonRoot) === true) {
    const who = `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`;
    if (runAsUser === 0) throw new Error(`container's runAsUser breaks non-root policy ${who}`);
    if (runAsUser === undefined && imageUid === 0) throw new Error(`container has runAsNonRoot and image will run as root ${who}`);
  }
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  else if (imageUid !== undefined) out.runAsUser = imageUid;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  const groups = [...(psc?.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc?.supplementalGroups ?? [])];
  if (groups.length) out.supplementalGroups = groups;
  if (sc.privileged !== undefined) out.privileged = sc.privileged;
  if (sc.readOnlyRootFilesystem !== undefined) out.readonlyRootfs = sc.readOnlyRootFilesystem;
  if (sc.capabilities?.add?.length || sc.capabilities?.drop?.length) {
    out.capabilities = { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] };
  }
  if (sc.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  const prof = sc.seccompProfile ?? psc?.seccompProfile;
  if (!prof) out.seccomp = { profileType: info.seccompDefault ? 'RuntimeDefault' : 'Unconfined' };
  else if (prof.type === 'RuntimeDefault') out.seccomp = { profileType: 'RuntimeDefault' };
  else if (prof.type === 'Localhost') {
    if (!prof.localhostProfile) throw new Error('localhostProfile must be set if seccompProfile type is Localhost.');
    const root = (info.seccompProfileRoot ?? '/var/lib/kubelet/seccomp').replace(/\/+$/, '');
    out.seccomp = { profileType: 'Localhost', localhostRef: `${root}/${prof.localhostProfile}` };
  } else out.seccomp = { profileType: 'Unconfined' };
  if (sc.procMount === 'Unmasked') {
    out.maskedPaths = [];
    out.readonlyPaths = [];
  }
  return out;
}

/**
 * CreateContainer's config. Throws an Error with the kubelet's message when a referenced
 * configMap/secret (or key) is missing and not optional: the caller reports CreateContainerConfigError.
 */
export function containerConfig(
  pod: Pod, container: Container, info: PodRuntimeInfo, sources: EnvSources,
  opts: { restartCount: number; volumeMounts?: Mount[]; hostsFile?: string; terminationMessageDir?: string; imageUid?: number },
): ContainerConfig {
  const md = pod.metadata ?? {};
  const envs = containerEnv(pod, container, info, sources);
  const envMap = Object.fromEntries(envs.map((e) => [e.key, e.value]));
  const mounts: Mount[] = [...(opts.volumeMounts ?? [])];
  if (opts.hostsFile && !mounts.some((m) => m.containerPath === '/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: opts.hostsFile });
  const tmPath = container.terminationMessagePath || '/dev/termination-log';
  if (opts.terminationMessageDir) {
    mounts.push({ containerPath: tmPath, hostPath: `${opts.terminationMessageDir.replace(/\/+$/, '')}/${container.name}-${opts.restartCount}` });
  }
  const cfg: ContainerConfig = {
    metadata: { name: container.name, attempt: opts.restartCount },
    image: { image: container.image ?? '' },
    envs,
    mounts,
    labels: {
      'io.kubernetes.container.name': container.name, 'io.kubernetes.pod.name': md.name ?? '',
      'io.kubernetes.pod.namespace': md.namespace ?? 'default', 'io.kubernetes.pod.uid': md.uid ?? '',
    },
    annotations: {
      'io.kubernetes.container.restartCount': String(opts.restartCount),
      'io.kubernetes.container.terminationMessagePath': tmPath,
      'io.kubernetes.container.terminationMessagePolicy': container.terminationMessagePolicy ?? 'File',
      'io.kubernetes.pod.terminationGracePeriod': String(pod.spec?.terminationGracePeriodSeconds ?? 30),
    },
    logPath: `${container.name}/${opts.restartCount}.log`,
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: { resources: containerResources(pod, container, info), securityContext: containerSecurityContext(pod, container, info, opts.imageUid) },
  };
  if (container.command?.length) cfg.command = container.command.map((s) => expandVars(s, envMap));
  if (container.args?.length) cfg.args = container.args.map((s) => expandVars(s, envMap));
  if (container.workingDir) cfg.workingDir = container.workingDir;
  return cfg;
}
