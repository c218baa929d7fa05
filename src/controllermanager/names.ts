/**
 * The controller names `--controllers` knows and their parser, apart from the controllers
 * themselves so that `k8ts server` can check its flags without loading them (they run in
 * the controller-manager's worker thread).
 */

/** Controller names `--controllers` knows (upstream's names), with their short aliases. */
export const CONTROLLER_NAMES: Readonly<Record<string, readonly string[]>> = {
  'node-lifecycle-controller': ['nodelifecycle'],
  'taint-eviction-controller': ['tainteviction'],
  'namespace-controller': ['namespace'],
  'serviceaccount-controller': ['serviceaccount'],
  'replicaset-controller': ['replicaset'],
  'endpoints-controller': ['endpoint', 'endpoints'],
  'endpointslice-controller': ['endpointslice'],
  'garbage-collector-controller': ['garbagecollector'],
  'job-controller': ['job'],
  'daemonset-controller': ['daemonset'],
  'deployment-controller': ['deployment'],
  'statefulset-controller': ['statefulset'],
  'resourcequota-controller': ['resourcequota'],
  'disruption-controller': ['disruption'],
  'pod-garbage-collector-controller': ['podgc'],
  'cronjob-controller': ['cronjob'],
  'ttl-after-finished-controller': ['ttlafterfinished'],
  'node-ipam-controller': ['nodeipam'],
  'certificatesigningrequest-signing-controller': ['csrsigning'],
  'certificatesigningrequest-approving-controller': ['csrapproving'],
};

/**
 * Parses a `--controllers` list (comma-separated; `*` = every known controller, `name` adds,
 * `-name` removes; later items win) into canonical names. Unknown names throw.
 */
export function parseControllers(spec: string | readonly string[]): Set<string> {
  const items = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim()).filter(Boolean);
  const canonical = (name: string): string => {
    for (const [c, aliases] of Object.entries(CONTROLLER_NAMES)) if (c === name || aliases.includes(name)) return c;
    throw new Error(`unknown controller ${JSON.stringify(name)} (known: ${Object.keys(CONTROLLER_NAMES).join(', ')})`);
  };
  const out = new Set<string>();
  for (const item of items) {
    if (item === '*') for (const c of Object.keys(CONTROLLER_NAMES)) out.add(c);
    else if (item.startsWith('-')) out.delete(canonical(item.slice(1)));
    else out.add(canonical(item));
  }
  return out;
}
