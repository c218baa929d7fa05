/**
 * DefaultBinder: binds a pod by POSTing a Binding to its `binding` subresource, as upstream.
 * A pod already gone or already bound answers with the API's error, which fails the binding
 * cycle (the scheduler forgets the assumed pod and lets the informer tell the truth).
 */
import { resourcePath } from '../../../client/rest.js';
import { Status } from '../../framework/status.js';
import type { BindPlugin, CycleState, Handle, PluginFactory, PodInfo } from '../../framework/types.js';

export const NAME = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;
  constructor(private readonly handle: Handle) {}

  async bind(_state: CycleState, pi: PodInfo, nodeName: string): Promise<Status | undefined> {
    const client = this.handle.client;
    if (!client) return Status.error(new Error('DefaultBinder needs an API client'));
    const m = pi.pod.metadata ?? {};
    const ref = { group: '', version: 'v1', resource: 'pods', namespace: m.namespace ?? 'default' };
    try {
      await client.request('POST', resourcePath(ref, m.name ?? '', 'binding'), {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      return undefined;
    } catch (e) {
      return Status.error(e);
    }
  }
}

export const factory: PluginFactory = (_args, handle) => new DefaultBinder(handle);
