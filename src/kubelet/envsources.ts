/**
 * What a pod's environment reads from the API: the configMaps and secrets its env and envFrom
 * name (fetched when the pod worker builds container configs; a missing one is undefined, so
 * podconfig reports upstream's CreateContainerConfigError), and the services of its
 * namespace plus default/kubernetes for the service-link variables.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/resource.js';
import type { RestClient } from '../client/rest.js';
import type { EnvSources } from './podconfig.js';

/** The EnvSources of `pod`: its referenced configMaps and secrets (decoded), and `services` (all namespaces) filtered for it. */
export async function fetchEnvSources(client: RestClient, pod: Pod, services: KubeObject[]): Promise<EnvSources> {
  const ns = pod.metadata!.namespace!;
  const cms = new Map<string, Record<string, string> | undefined>();
  const secrets = new Map<string, Record<string, string> | undefined>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) cms.set(e.valueFrom.configMapKeyRef.name, undefined);
      if (e.valueFrom?.secretKeyRef?.name) secrets.set(e.valueFrom.secretKeyRef.name, undefined);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) cms.set(f.configMapRef.name, undefined);
      if (f.secretRef?.name) secrets.set(f.secretRef.name, undefined);
    }
  }
  const ref = (resource: string) => ({ group: '', version: 'v1', resource, namespace: ns });
  await Promise.all([
    ...[...cms.keys()].map(async (name) => {
      const cm = await client.get<{ data?: Record<string, string> }>(ref('configmaps'), name).catch(() => undefined);
      cms.set(name, cm ? (cm.data ?? {}) : undefined);
    }),
    ...[...secrets.keys()].map(async (name) => {
      const s = await client.get<{ data?: Record<string, string> }>(ref('secrets'), name).catch(() => undefined);
      secrets.set(name, s ? Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined);
    }),
  ]);
  const links = services
    .filter((svc) => svc.metadata?.namespace === ns || (svc.metadata?.namespace === 'default' && svc.metadata?.name === 'kubernetes'))
    .map((svc) => {
      const spec = (svc as { spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] } }).spec ?? {};
      return { name: svc.metadata!.name!, namespace: svc.metadata!.namespace, clusterIP: spec.clusterIP ?? '', ports: spec.ports ?? [] };
    });
  return { configMap: (_ns, name) => cms.get(name), secret: (_ns, name) => secrets.get(name), services: links };
}
