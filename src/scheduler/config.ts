/**
 * KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): the file `--config` reads,
 * upstream's defaults (one profile `default-scheduler` with the default multiPoint plugins
 * and score weights), and the expansion of a profile's plugin sets into per-extension-point
 * lists (specific extension points first, then multiPoint plugins implementing the point;
 * `disabled: [{name: '*'}]` drops the defaults of a set).
 */

/** Extension point names as in KubeSchedulerConfiguration `plugins`. */
export const EXTENSION_POINTS = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

/** A resolved profile: plugin names per extension point (in order), score weights, args. */
export interface ProfilePlugins {
  points: Record<ExtensionPoint, string[]>;
  /** Score weight per plugin (default 1). */
  weights: Record<string, number>;
  /** Plugin args by plugin name (pluginConfig). */
  args: Record<string, unknown>;
}


/** One plugin in a plugin set. */
export interface PluginRef {
  name: string;
  weight?: number;
}

/** `enabled` / `disabled` of one extension point (or multiPoint). */
export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

/** A profile as written in the file. */
export interface ProfileConfig {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
  pluginConfig?: Array<{ name: string; args?: unknown }>;
}

/** The file, as far as k8ts uses it. */
export interface KubeSchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  /** 0 = adaptive (upstream default). */
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  profiles?: ProfileConfig[];
}

/** Upstream's default scheduler name. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * Upstream v1 default multiPoint plugins, in order, with score weights (volume plugins
 * arrive with the storage issue).
 */
export const DEFAULT_MULTIPOINT: readonly PluginRef[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

/** A validated configuration with defaults applied. */
export interface ResolvedConfig {
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  profiles: Array<Required<Pick<ProfileConfig, 'schedulerName'>> & ProfileConfig>;
}

const fail = (msg: string): never => {
  throw new Error(`invalid KubeSchedulerConfiguration: ${msg}`);
};

/** Validates a parsed file (or `{}`) and applies upstream defaults. */
export function resolveConfig(c: KubeSchedulerConfiguration = {}): ResolvedConfig {
  if (c.apiVersion !== undefined && c.apiVersion !== 'kubescheduler.config.k8s.io/v1') fail(`apiVersion ${JSON.stringify(c.apiVersion)} (want kubescheduler.config.k8s.io/v1)`);
  if (c.kind !== undefined && c.kind !== 'KubeSchedulerConfiguration') fail(`kind ${JSON.stringify(c.kind)}`);
  const pct = c.percentageOfNodesToScore ?? 0;
  if (!(Number.isInteger(pct) && pct >= 0 && pct <= 100)) fail('percentageOfNodesToScore must be an integer in [0, 100]');
  const initial = c.podInitialBackoffSeconds ?? 1;
  const max = c.podMaxBackoffSeconds ?? 10;
  if (!(initial > 0)) fail('podInitialBackoffSeconds must be greater than 0');
  if (!(max >= initial)) fail('podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds');
  const profiles = (c.profiles && c.profiles.length ? c.profiles : [{}]).map((p) => ({ ...p, schedulerName: p.schedulerName ?? DEFAULT_SCHEDULER_NAME }));
  const names = new Set<string>();
  for (const p of profiles) {
    if (!p.schedulerName) fail('profiles[].schedulerName must not be empty');
    if (names.has(p.schedulerName)) fail(`duplicate profile ${p.schedulerName}`);
    names.add(p.schedulerName);
    const ppct = p.percentageOfNodesToScore;
    if (ppct !== undefined && !(Number.isInteger(ppct) && ppct >= 0 && ppct <= 100)) fail(`profile ${p.schedulerName}: percentageOfNodesToScore must be in [0, 100]`);
    for (const key of Object.keys(p.plugins ?? {})) {
      if (key !== 'multiPoint' && !(EXTENSION_POINTS as readonly string[]).includes(key)) fail(`profile ${p.schedulerName}: unknown extension point ${key}`);
    }
    const seen = new Set<string>();
    for (const pc of p.pluginConfig ?? []) {
      if (seen.has(pc.name)) fail(`profile ${p.schedulerName}: pluginConfig for ${pc.name} given twice`);
      seen.add(pc.name);
    }
  }
  return { percentageOfNodesToScore: pct, podInitialBackoffSeconds: initial, podMaxBackoffSeconds: max, profiles };
}

/** Parses a config file's text (YAML or JSON). */
export async function parseConfigFile(text: string): Promise<ResolvedConfig> {
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return fail(`not YAML or JSON: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('the file must hold one object');
  return resolveConfig(doc as KubeSchedulerConfiguration);
}

const isDisabled = (set: PluginSet | undefined, name: string): boolean => !!set?.disabled?.some((d) => d.name === '*' || d.name === name);

/**
 * Expands a profile into per-extension-point plugin lists. `implementsPoint(name, point)`
 * says which points a plugin extends (the framework asks the instantiated plugin).
 */
export function expandProfile(p: ProfileConfig, implementsPoint: (name: string, point: ExtensionPoint) => boolean): ProfilePlugins {
  const mp = p.plugins?.multiPoint;
  const multi: PluginRef[] = DEFAULT_MULTIPOINT.filter((d) => !isDisabled(mp, d.name)).map((d) => ({ ...d }));
  for (const e of mp?.enabled ?? []) {
    const i = multi.findIndex((m) => m.name === e.name);
    if (i >= 0) multi[i] = { ...multi[i], ...e };
    else multi.push({ ...e });
  }
  const weights: Record<string, number> = {};
  for (const m of multi) if (m.weight !== undefined) weights[m.name] = m.weight;
  const points = {} as Record<ExtensionPoint, string[]>;
  for (const point of EXTENSION_POINTS) {
    const set = p.plugins?.[point];
    const specific = (set?.enabled ?? []).map((e) => e.name);
    for (const e of set?.enabled ?? []) if (point === 'score' && e.weight !== undefined) weights[e.name] = e.weight;
    const fromMulti = multi.map((m) => m.name).filter((n) => !specific.includes(n) && !isDisabled(set, n) && implementsPoint(n, point));
    points[point] = [...specific, ...fromMulti];
  }
  const args: Record<string, unknown> = {};
  for (const pc of p.pluginConfig ?? []) args[pc.name] = pc.args;
  return { points, weights, args };
}

/**
 * Upstream numFeasibleNodesToFind: all nodes below 100 (minFeasibleNodesToFind); otherwise
 * `percentage` of them (adaptive when 0: 50% minus 1% per 125 nodes, at least 5%), never
 * fewer than 100.
 */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  const MIN = 100;
  if (numAllNodes < MIN) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  const n = Math.floor((numAllNodes * pct) / 100);
  return n < MIN ? MIN : n;
}
