import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../apimachinery/errors.js';
import type { RestClient } from '../../client/index.js';
import { discoverNamespacedResources, parseGroupVersion } from './discovery.js';

/** A stand-in client answering discovery paths from a table (a missing path: 503). */
function stubClient(docs: Record<string, unknown>): RestClient {
  return {
    request: async (_method: string, path: string) => {
      if (path in docs) return docs[path];
      throw new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    },
  } as unknown as RestClient;
}

test('discovery lists namespaced resources at preferred versions and collects failing groups', async () => {
  const res = await discoverNamespacedResources(
    stubClient({
      '/api': { versions: ['v1'] },
      '/apis': {
        groups: [
          { name: 'apps', preferredVersion: { groupVersion: 'apps/v1' }, versions: [{ groupVersion: 'apps/v1' }, { groupVersion: 'apps/v1beta1' }] },
          { name: 'metrics.example.com', preferredVersion: { groupVersion: 'metrics.example.com/v1' } },
          { name: 'bad', preferredVersion: { groupVersion: 'a/b/c' } },
        ],
      },
      '/api/v1': {
        resources: [
          { name: 'pods', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list'] },
          { name: 'pods/status', namespaced: true, verbs: ['get'] },
          { name: 'nodes', namespaced: false, verbs: ['list', 'delete'] },
        ],
      },
      '/apis/apps/v1': { resources: [{ name: 'deployments', namespaced: true, verbs: ['delete', 'list'] }] },
      '/apis/apps/v1beta1': { resources: [{ name: 'deployments', namespaced: true, verbs: ['delete', 'list'] }] },
    }),
  );
  assert.deepEqual(
    res.resources.map((r) => `${r.group}/${r.version}/${r.resource}`),
    ['/v1/pods', 'apps/v1/deployments'],
  );
  assert.deepEqual([...res.failedGroups.keys()], ['metrics.example.com/v1']);
  assert.deepEqual(res.parseErrors, ['invalid group version "a/b/c"']);
});

test('parseGroupVersion', () => {
  assert.deepEqual(parseGroupVersion('v1'), { group: '', version: 'v1' });
  assert.deepEqual(parseGroupVersion('apps/v1'), { group: 'apps', version: 'v1' });
  assert.equal(parseGroupVersion(''), undefined);
  assert.equal(parseGroupVersion('a/b/c'), undefined);
});
