import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedDiscovery, apiGroupListDoc, apiGroupOne, apiResourceListDoc, sortVersions } from './discovery.js';
import { ResourceRegistry, type ResourceDef } from '../api/resource.js';

const versionCases: { input: string[]; want: string[] }[] = [
  { input: ['v1beta1', 'v1', 'v1alpha1', 'v1beta2'], want: ['v1', 'v1beta2', 'v1beta1', 'v1alpha1'] },
  { input: ['v1', 'v2'], want: ['v2', 'v1'] },
  { input: ['v2beta1', 'v1'], want: ['v1', 'v2beta1'] },
  { input: ['v1alpha1', 'v2alpha1', 'v1beta1'], want: ['v1beta1', 'v2alpha1', 'v1alpha1'] },
  { input: ['foo', 'v1', 'bar'], want: ['v1', 'bar', 'foo'] },
  { input: ['v10', 'v9', 'v11beta1'], want: ['v10', 'v9', 'v11beta1'] },
  { input: [], want: [] },
];
for (const c of versionCases) {
  test(`sortVersions(${c.input.join(',')})`, () => {
    const input = [...c.input];
    assert.deepEqual(sortVersions(input), c.want);
    assert.deepEqual(input, c.input, 'input not mutated');
  });
}

function def(d: Partial<ResourceDef> & Pick<ResourceDef, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'>): ResourceDef {
  return { singular: d.kind.toLowerCase(), ...d };
}

function smallRegistry(): ResourceRegistry {
  const r = new ResourceRegistry();
  r.register(def({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: { status: true, other: ['log', 'binding'] } }));
  r.register(def({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'] }));
  r.register(
    def({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      namespaced: true,
      shortNames: ['deploy'],
      subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' } },
    }),
  );
  r.register(def({ group: 'example.com', version: 'v1beta1', kind: 'Widget', plural: 'widgets', namespaced: true, verbs: ['list', 'get'] }));
  r.register(def({ group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true }));
  return r;
}

test('aggregatedDiscovery for /api holds only the core group', () => {
  const doc = aggregatedDiscovery(smallRegistry(), true, 'apidiscovery.k8s.io/v2');
  assert.equal(doc['kind'], 'APIGroupDiscoveryList');
  assert.equal(doc['apiVersion'], 'apidiscovery.k8s.io/v2');
  const items = doc['items'] as { metadata: { name: string }; versions: { version: string; freshness: string; resources: Record<string, unknown>[] }[] }[];
  assert.deepEqual(items.map((i) => i.metadata.name), ['']);
  const v1 = items[0]!.versions[0]!;
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const pods = v1.resources.find((r) => r['resource'] === 'pods')!;
  assert.deepEqual(pods, {
    resource: 'pods',
    responseKind: { group: '', version: 'v1', kind: 'Pod' },
    scope: 'Namespaced',
    singularResource: 'pod',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      { subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
      { subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
    ],
  });
  const nodes = v1.resources.find((r) => r['resource'] === 'nodes')!;
  assert.equal(nodes['scope'], 'Cluster');
  assert.equal('subresources' in nodes, false);
  assert.equal('categories' in nodes, false);
});

test('aggregatedDiscovery for /apis: groups, preferred version first, scale subresource kind', () => {
  const doc = aggregatedDiscovery(smallRegistry(), false, 'apidiscovery.k8s.io/v2beta1');
  const items = doc['items'] as { metadata: { name: string }; versions: { version: string; resources: Record<string, unknown>[] }[] }[];
  assert.deepEqual(items.map((i) => i.metadata.name), ['apps', 'example.com']);
  const ex = items[1]!;
  assert.deepEqual(ex.versions.map((v) => v.version), ['v1', 'v1beta1']);
  assert.deepEqual(ex.versions[1]!.resources[0]!['verbs'], ['get', 'list']);
  const deploy = items[0]!.versions[0]!.resources[0]!;
  assert.deepEqual(deploy['subresources'], [
    { subresource: 'status', responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
    { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
  ]);
});

test('legacy APIResourceList includes subresources with their group/version', () => {
  const doc = apiResourceListDoc(smallRegistry(), 'apps', 'v1')!;
  assert.equal(doc['kind'], 'APIResourceList');
  assert.equal(doc['groupVersion'], 'apps/v1');
  const resources = doc['resources'] as Record<string, unknown>[];
  assert.deepEqual(resources.map((r) => r['name']), ['deployments', 'deployments/status', 'deployments/scale']);
  assert.deepEqual(resources[0], {
    name: 'deployments',
    singularName: 'deployment',
    namespaced: true,
    kind: 'Deployment',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['deploy'],
  });
  assert.deepEqual(resources[1], { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'] });
  assert.deepEqual(resources[2], { name: 'deployments/scale', singularName: '', namespaced: true, kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' });
});

test('legacy core APIResourceList: groupVersion v1, core subresource kinds carry no group', () => {
  const doc = apiResourceListDoc(smallRegistry(), '', 'v1')!;
  assert.equal(doc['groupVersion'], 'v1');
  const resources = doc['resources'] as Record<string, unknown>[];
  assert.deepEqual(resources.map((r) => r['name']), ['pods', 'pods/status', 'pods/log', 'pods/binding', 'nodes']);
  const binding = resources.find((r) => r['name'] === 'pods/binding')!;
  assert.equal(binding['kind'], 'Binding');
  assert.equal('group' in binding, false);
  assert.equal(resources.find((r) => r['name'] === 'nodes')!['namespaced'], false);
});

test('legacy documents for unknown group versions are undefined', () => {
  assert.equal(apiResourceListDoc(smallRegistry(), 'apps', 'v2'), undefined);
  assert.equal(apiResourceListDoc(smallRegistry(), 'nope', 'v1'), undefined);
  assert.equal(apiGroupOne(smallRegistry(), 'nope'), undefined);
  assert.equal(apiGroupOne(smallRegistry(), ''), undefined);
});

test('legacy APIGroupList and APIGroup use the preferred version', () => {
  const list = apiGroupListDoc(smallRegistry());
  const groups = list['groups'] as { name: string; versions: unknown[]; preferredVersion: unknown }[];
  assert.deepEqual(groups.map((g) => g.name), ['apps', 'example.com']);
  assert.deepEqual(apiGroupOne(smallRegistry(), 'example.com'), {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: 'example.com',
    versions: [
      { groupVersion: 'example.com/v1', version: 'v1' },
      { groupVersion: 'example.com/v1beta1', version: 'v1beta1' },
    ],
    preferredVersion: { groupVersion: 'example.com/v1', version: 'v1' },
  });
});
