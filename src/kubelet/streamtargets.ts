/**
 * The kubelet's answers to the streaming server (logs, exec, attach, port-forward): which
 * runtime container or sandbox a request for pod ns/name (and container) means, with the
 * API server's error codes and messages.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, badRequest } from '../apimachinery/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StreamTargets } from './server/server.js';

const UID = 'io.kubernetes.pod.uid';
const NAME = 'io.kubernetes.container.name';

/** StreamTargets over the pods the kubelet knows (`pods()`) and the runtime. */
export function podStreamTargets(pods: () => Pod[], rt: Runtime): StreamTargets {
  const find = (ns: string, name: string): Pod => {
    const p = pods().find((x) => x.metadata?.namespace === ns && x.metadata?.name === name);
    if (!p) throw new ApiError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    return p;
  };
  return {
    async container(ns, name, container, previous) {
      const pod = find(ns, name);
      const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
      const cname = container ?? pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec?.containers?.[0]?.name ?? '';
      if (!all.includes(cname)) throw badRequest(`container ${cname} is not valid for pod ${name}`);
      const list = (await rt.listContainers({ labelSelector: { [UID]: pod.metadata!.uid! } }))
        .filter((c) => c.labels[NAME] === cname)
        .sort((a, b) => b.metadata.attempt - a.metadata.attempt);
      const c = list[previous ? 1 : 0];
      if (!c) {
        if (previous) throw badRequest(`previous terminated container "${cname}" in pod "${name}" not found`);
        const waiting = pod.status?.containerStatuses?.find((s) => s.name === cname)?.state?.waiting?.reason ?? 'ContainerCreating';
        throw badRequest(`container "${cname}" in pod "${name}" is waiting to start: ${waiting}`);
      }
      return { id: c.id, logPath: c.logPath, running: c.state === 'CONTAINER_RUNNING' };
    },
    async sandbox(ns, name) {
      const pod = find(ns, name);
      const sb = (await rt.listPodSandbox({ labelSelector: { [UID]: pod.metadata!.uid! } })).find((s) => s.state === 'SANDBOX_READY');
      if (!sb) throw badRequest(`pod ${name} is not running`);
      return sb.id;
    },
    pods: () => pods(),
    exec: (id, cmd, streams) => rt.exec(id, cmd, streams),
    attach: (id, streams) => rt.attach(id, streams),
    portForward: (sandboxId, port) => rt.portForward(sandboxId, port),
  };
}
