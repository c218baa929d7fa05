import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinPatchSchema, crdPatchSchema, hasBuiltinPatchSchema, listKeys } from './mergekeys.js';

const podSpecPrefixes: [string, string, string[]][] = [
  ['', 'Pod', ['spec']],
  ['', 'PodTemplate', ['template', 'spec']],
  ['', 'ReplicationController', ['spec', 'template', 'spec']],
  ['apps', 'Deployment', ['spec', 'template', 'spec']],
  ['apps', 'ReplicaSet', ['spec', 'template', 'spec']],
  ['apps', 'StatefulSet', ['spec', 'template', 'spec']],
  ['apps', 'DaemonSet', ['spec', 'template', 'spec']],
  ['batch', 'Job', ['spec', 'template', 'spec']],
  ['batch', 'CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
];

test('every pod template carries the PodSpec merge keys', () => {
  const want: [string[], { listType: string; mergeKey?: string; keys?: string[]; strategy?: string }][] = [
    [['containers'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['initContainers'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['ephemeralContainers'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['containers', 'env'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['initContainers', 'env'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['containers', 'ports'], { listType: 'map', mergeKey: 'containerPort', keys: ['containerPort', 'protocol'], strategy: 'merge' }],
    [['containers', 'volumeMounts'], { listType: 'map', mergeKey: 'mountPath', keys: ['mountPath'], strategy: 'merge' }],
    [['containers', 'volumeDevices'], { listType: 'map', mergeKey: 'devicePath', keys: ['devicePath'], strategy: 'merge' }],
    [['volumes'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge,retainKeys' }],
    [['imagePullSecrets'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['hostAliases'], { listType: 'map', mergeKey: 'ip', keys: ['ip'], strategy: 'merge' }],
    [['resourceClaims'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge,retainKeys' }],
    [['schedulingGates'], { listType: 'map', mergeKey: 'name', keys: ['name'], strategy: 'merge' }],
    [['topologySpreadConstraints'], { listType: 'map', mergeKey: 'topologyKey', keys: ['topologyKey', 'whenUnsatisfiable'], strategy: 'merge' }],
    [['tolerations'], { listType: 'atomic' }],
    [['readinessGates'], { listType: 'atomic' }],
    [['containers', 'args'], { listType: 'atomic' }],
  ];
  for (const [group, kind, prefix] of podSpecPrefixes) {
    const s = builtinPatchSchema(group, kind);
    for (const [rel, exp] of want) {
      const info = s.at([...prefix, ...rel]) ?? { listType: 'atomic' };
      const got = { listType: info.listType, ...(info.mergeKey ? { mergeKey: info.mergeKey } : {}), ...(listKeys(info).length ? { keys: listKeys(info) } : {}), ...(info.strategy ? { strategy: info.strategy } : {}) };
      assert.deepEqual(got, exp, `${kind} ${[...prefix, ...rel].join('.')}`);
    }
    assert.equal(s.at([...prefix.slice(0, -1), 'metadata', 'finalizers'])?.listType, 'set', `${kind} template finalizers`);
    assert.equal(s.mapType?.([...prefix, 'nodeSelector']), 'atomic', `${kind} nodeSelector`);
  }
});

test('kind-specific rules', () => {
  const cases: [string, string, string[], Record<string, unknown> | undefined][] = [
    ['', 'Pod', ['status', 'conditions'], { listType: 'map', mergeKey: 'type', strategy: 'merge' }],
    ['', 'Pod', ['status', 'containerStatuses'], { listType: 'atomic' }],
    ['', 'Pod', ['status', 'podIPs'], { listType: 'map', mergeKey: 'ip', strategy: 'merge' }],
    ['', 'Service', ['spec', 'ports'], { listType: 'map', mergeKey: 'port', keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' }, strategy: 'merge' }],
    ['', 'Node', ['spec', 'taints'], { listType: 'atomic' }],
    ['', 'Node', ['spec', 'podCIDRs'], { listType: 'set', strategy: 'merge' }],
    ['', 'Node', ['status', 'addresses'], { listType: 'map', mergeKey: 'type', strategy: 'merge' }],
    ['', 'Node', ['status', 'conditions'], { listType: 'map', mergeKey: 'type', strategy: 'merge' }],
    ['', 'Endpoints', ['subsets'], { listType: 'atomic' }],
    ['discovery.k8s.io', 'EndpointSlice', ['endpoints'], { listType: 'atomic' }],
    ['apps', 'Deployment', ['status', 'conditions'], { listType: 'map', mergeKey: 'type', strategy: 'merge' }],
    ['batch', 'Job', ['status', 'conditions'], { listType: 'atomic', mergeKey: 'type', strategy: 'merge' }],
    ['apps', 'StatefulSet', ['spec', 'volumeClaimTemplates'], { listType: 'atomic' }],
    ['', 'ConfigMap', ['metadata', 'ownerReferences'], { listType: 'map', mergeKey: 'uid', strategy: 'merge' }],
    ['example.com', 'Unknown', ['metadata', 'finalizers'], { listType: 'set', strategy: 'merge' }],
    ['example.com', 'Unknown', ['spec', 'items'], undefined],
  ];
  for (const [g, k, path, want] of cases) assert.deepEqual(builtinPatchSchema(g, k).at(path), want, `${g}/${k} ${path.join('.')}`);
  assert.equal(builtinPatchSchema('apps', 'Deployment').mapType?.(['spec', 'selector']), 'atomic');
  assert.equal(builtinPatchSchema('', 'Service').mapType?.(['spec', 'selector']), 'atomic');
  assert.equal(builtinPatchSchema('', 'ConfigMap').mapType?.(['data']), 'map');
  assert.equal(builtinPatchSchema('', 'Pod').mapType?.(['metadata', 'labels']), 'map');
  assert.ok(hasBuiltinPatchSchema('apps', 'Deployment'));
  assert.ok(!hasBuiltinPatchSchema('example.com', 'Unknown'));
});

test('crdPatchSchema reads the x-kubernetes extensions', () => {
  const s = crdPatchSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['port', 'protocol'],
            items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } },
          },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          args: { type: 'array', items: { type: 'string' } },
          servers: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', properties: { name: { type: 'string' }, hosts: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } } },
          },
          selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { a: { type: 'string' } } },
          params: { type: 'object', additionalProperties: { type: 'object', properties: { l: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  });
  assert.deepEqual(s.at(['spec', 'ports']), { listType: 'map', keys: ['port', 'protocol'], strategy: 'merge', keyDefaults: { protocol: 'TCP' } });
  assert.deepEqual(s.at(['spec', 'tags']), { listType: 'set', strategy: 'merge' });
  assert.deepEqual(s.at(['spec', 'args']), { listType: 'atomic' });
  assert.deepEqual(s.at(['spec', 'servers']), { listType: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge' });
  assert.deepEqual(s.at(['spec', 'servers', 'hosts']), { listType: 'set', strategy: 'merge' });
  assert.deepEqual(s.at(['spec', 'params', 'anykey', 'l']), { listType: 'set', strategy: 'merge' });
  assert.equal(s.at(['spec', 'nope']), undefined);
  assert.equal(s.at(['spec', 'free', 'x', 'y']), undefined);
  assert.equal(s.mapType?.(['spec', 'selector']), 'atomic');
  assert.equal(s.mapType?.(['spec', 'params']), 'map');
  assert.equal(s.mapType?.(['spec', 'free']), 'map');
  assert.equal(s.mapType?.(['spec']), undefined);
  assert.equal(s.at(['metadata', 'finalizers'])?.listType, 'set');
  assert.equal(s.mapType?.(['metadata', 'labels']), 'map');
  assert.equal(crdPatchSchema(undefined).at(['spec', 'x']), undefined);
});
