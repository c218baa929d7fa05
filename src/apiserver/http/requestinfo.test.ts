import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo, type RequestInfo } from './requestinfo.js';

type Want = Partial<RequestInfo>;

const cases: { name: string; method: string; path: string; query?: string; want: Want }[] = [
  { name: 'core namespaced list', method: 'GET', path: '/api/v1/namespaces/default/pods', want: { isResourceRequest: true, apiPrefix: 'api', group: '', version: 'v1', namespace: 'default', resource: 'pods', name: '', verb: 'list' } },
  { name: 'core namespaced get', method: 'GET', path: '/api/v1/namespaces/default/pods/p1', want: { namespace: 'default', resource: 'pods', name: 'p1', verb: 'get' } },
  { name: 'core cluster-scoped list', method: 'GET', path: '/api/v1/nodes', want: { namespace: '', resource: 'nodes', verb: 'list' } },
  { name: 'core cluster-scoped get', method: 'GET', path: '/api/v1/nodes/n1', want: { resource: 'nodes', name: 'n1', verb: 'get' } },
  { name: 'namespaces list', method: 'GET', path: '/api/v1/namespaces', want: { resource: 'namespaces', name: '', namespace: '', verb: 'list' } },
  { name: 'namespace get', method: 'GET', path: '/api/v1/namespaces/kube-system', want: { resource: 'namespaces', name: 'kube-system', namespace: '', verb: 'get' } },
  { name: 'namespace status', method: 'PUT', path: '/api/v1/namespaces/ns1/status', want: { resource: 'namespaces', name: 'ns1', namespace: '', subresource: 'status', verb: 'update' } },
  { name: 'namespace finalize', method: 'PUT', path: '/api/v1/namespaces/ns1/finalize', want: { resource: 'namespaces', name: 'ns1', subresource: 'finalize', verb: 'update' } },
  { name: 'group namespaced', method: 'GET', path: '/apis/apps/v1/namespaces/ns/deployments/d', want: { apiPrefix: 'apis', group: 'apps', version: 'v1', namespace: 'ns', resource: 'deployments', name: 'd', verb: 'get' } },
  { name: 'group cluster list', method: 'GET', path: '/apis/rbac.authorization.k8s.io/v1/clusterroles', want: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'list' } },
  { name: 'all-namespaces list of a namespaced kind', method: 'GET', path: '/apis/apps/v1/deployments', want: { namespace: '', resource: 'deployments', verb: 'list' } },
  { name: 'scale subresource', method: 'PATCH', path: '/apis/apps/v1/namespaces/ns/deployments/d/scale', want: { resource: 'deployments', name: 'd', subresource: 'scale', verb: 'patch' } },
  { name: 'status subresource get', method: 'GET', path: '/api/v1/namespaces/ns/pods/p/status', want: { subresource: 'status', verb: 'get' } },
  { name: 'cluster subresource', method: 'PUT', path: '/api/v1/nodes/n1/status', want: { resource: 'nodes', name: 'n1', subresource: 'status', verb: 'update' } },
  { name: 'proxy rest segments', method: 'GET', path: '/api/v1/namespaces/ns/pods/p/proxy/a/b', want: { subresource: 'proxy', rest: ['a', 'b'], verb: 'get' } },
  { name: 'binding create', method: 'POST', path: '/api/v1/namespaces/ns/pods/p/binding', want: { subresource: 'binding', verb: 'create' } },
  { name: 'watch query on list', method: 'GET', path: '/api/v1/namespaces/ns/pods', query: 'watch=true', want: { verb: 'watch', name: '' } },
  { name: 'watch=1 on list', method: 'GET', path: '/api/v1/pods', query: 'watch=1', want: { verb: 'watch' } },
  { name: 'watch=false is list', method: 'GET', path: '/api/v1/pods', query: 'watch=false', want: { verb: 'list' } },
  { name: 'watch query on a named object', method: 'GET', path: '/api/v1/namespaces/ns/pods/p', query: 'watch=true', want: { verb: 'watch', name: 'p' } },
  { name: 'watch prefix namespaced', method: 'GET', path: '/api/v1/watch/namespaces/ns/pods', want: { verb: 'watch', namespace: 'ns', resource: 'pods', name: '' } },
  { name: 'watch prefix named', method: 'GET', path: '/apis/apps/v1/watch/namespaces/ns/deployments/d', want: { verb: 'watch', group: 'apps', namespace: 'ns', resource: 'deployments', name: 'd' } },
  { name: 'watch prefix cluster', method: 'GET', path: '/api/v1/watch/nodes', want: { verb: 'watch', resource: 'nodes' } },
  { name: 'watch prefix namespaces', method: 'GET', path: '/api/v1/watch/namespaces', want: { verb: 'watch', resource: 'namespaces', name: '' } },
  { name: 'HEAD is get', method: 'HEAD', path: '/api/v1/namespaces/ns/pods/p', want: { verb: 'get' } },
  { name: 'POST is create', method: 'POST', path: '/api/v1/namespaces/ns/pods', want: { verb: 'create' } },
  { name: 'PUT is update', method: 'PUT', path: '/api/v1/namespaces/ns/pods/p', want: { verb: 'update' } },
  { name: 'PATCH is patch', method: 'PATCH', path: '/api/v1/namespaces/ns/pods/p', want: { verb: 'patch' } },
  { name: 'DELETE named is delete', method: 'DELETE', path: '/api/v1/namespaces/ns/pods/p', want: { verb: 'delete' } },
  { name: 'DELETE collection', method: 'DELETE', path: '/api/v1/namespaces/ns/pods', want: { verb: 'deletecollection' } },
  { name: 'lower-case method', method: 'get', path: '/api/v1/pods', want: { verb: 'list' } },
  { name: 'percent-encoded name', method: 'GET', path: '/api/v1/namespaces/ns/configmaps/a%3Ab', want: { name: 'a:b' } },
  { name: 'malformed escape kept', method: 'GET', path: '/api/v1/namespaces/ns/configmaps/a%ZZ', want: { name: 'a%ZZ' } },
];

for (const c of cases) {
  test(`parseRequestInfo: ${c.name}`, () => {
    const info = parseRequestInfo(c.method, c.path, new URLSearchParams(c.query ?? ''));
    assert.equal(info.path, c.path);
    const want: Want = { isResourceRequest: true, ...c.want };
    for (const [k, v] of Object.entries(want)) assert.deepEqual(info[k as keyof RequestInfo], v, `${k} of ${c.method} ${c.path}`);
  });
}

const nonResource: { method: string; path: string }[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/api' },
  { method: 'GET', path: '/api/' },
  { method: 'GET', path: '/api/v1' },
  { method: 'GET', path: '/apis' },
  { method: 'GET', path: '/apis/apps' },
  { method: 'GET', path: '/apis/apps/v1' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/openapi/v2' },
  { method: 'POST', path: '/version' },
];

for (const c of nonResource) {
  test(`parseRequestInfo: ${c.method} ${c.path} is a non-resource request`, () => {
    const info = parseRequestInfo(c.method, c.path, new URLSearchParams('watch=true'));
    assert.equal(info.isResourceRequest, false);
    assert.equal(info.verb, c.method.toLowerCase());
    assert.equal(info.resource, '');
    assert.equal(info.name, '');
  });
}

test('parseRequestInfo: discovery paths keep prefix, group and version', () => {
  assert.deepEqual(
    [parseRequestInfo('GET', '/api/v1', new URLSearchParams()), parseRequestInfo('GET', '/apis/apps/v1', new URLSearchParams()), parseRequestInfo('GET', '/apis/apps', new URLSearchParams())].map((i) => [i.apiPrefix, i.group, i.version]),
    [
      ['api', '', 'v1'],
      ['apis', 'apps', 'v1'],
      ['apis', '', ''],
    ],
  );
});
