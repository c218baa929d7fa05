/**
 * Objects every cluster has from its first start: the default namespaces, the system
 * PriorityClasses, and the `kubernetes` Service with Endpoints pointing at this server.
 * Idempotent: existing objects are left alone (Endpoints are refreshed to this address).
 */
import type { KubeObject, ResourceRegistry } from '../api/resource.js';
import { builtinPriorityClasses, defaultNamespaces } from '../api/builtin.js';
import { isAlreadyExists } from '../apimachinery/errors.js';
import type { ObjectStore } from './registry/store.js';
import { firstServiceIP } from './context.js';

/** What bootstrap needs. */
export interface BootstrapOptions {
  registry: ResourceRegistry;
  store: ObjectStore;
  /** Address for the `kubernetes` Endpoints; none when the server is reachable on loopback only. */
  advertiseAddress: string | undefined;
  port: number;
  serviceCIDR: string;
}

/** Creates the bootstrap objects. */
export async function bootstrapCluster(o: BootstrapOptions): Promise<void> {
  const def = (group: string, plural: string) => {
    const d = o.registry.byResource(group, plural);
    if (!d) throw new Error(`bootstrap: ${plural}.${group} not registered`);
    return d;
  };
  const ensure = async (group: string, plural: string, ns: string, obj: KubeObject): Promise<void> => {
    const d = def(group, plural);
    // Look first: creating may allocate (a Service's cluster IP) before storage says it exists.
    if (await o.store.tryGet(d, ns, obj.metadata.name!)) return;
    try {
      await o.store.create(d, ns, obj);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  };
  await Promise.all(defaultNamespaces().map((name) => ensure('', 'namespaces', '', { metadata: { name } })));
  await Promise.all(builtinPriorityClasses().map((pc) => ensure('scheduling.k8s.io', 'priorityclasses', '', pc)));
  await ensure('', 'services', 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: firstServiceIP(o.serviceCIDR), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.port }], sessionAffinity: 'None' },
  });
  const subsets = o.advertiseAddress ? [{ addresses: [{ ip: o.advertiseAddress }], ports: [{ name: 'https', port: o.port, protocol: 'TCP' }] }] : [];
  const epDef = def('', 'endpoints');
  await o.store.guaranteedUpdate(epDef, 'default', 'kubernetes', async (cur) => {
    if (!cur) return { create: { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets } };
    return { update: { ...cur, subsets } };
  });
}
