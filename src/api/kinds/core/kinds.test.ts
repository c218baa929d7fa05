import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { configMapResource, secretResource } from './configmap.js';
import { eventResource } from './event.js';
import { fakeContext, prepareObject, testObject, typesAndFields as fields } from './fake_context.js';
import { coreResources } from './index.js';
import { namespaceResource } from './namespace.js';
import { nodeResource } from './node.js';
import { endpointsResource, serviceAccountResource } from './serviceaccount.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = fakeContext(now);

const o = (meta: Record<string, unknown>, rest: Record<string, unknown> = {}): KubeObject => testObject('2024-05-01T10:00:00Z', meta, rest);
const prepared = (def: ResourceDef, obj: KubeObject): Promise<KubeObject> => prepareObject(def, obj, ctx);

test('core registry entries', () => {
  const defs = coreResources();
  const byPlural = new Map(defs.map((d) => [d.plural, d]));
  const expect: Array<[string, string, boolean, string[]]> = [
    ['pods', 'Pod', true, ['po']],
    ['services', 'Service', true, ['svc']],
    ['namespaces', 'Namespace', false, ['ns']],
    ['nodes', 'Node', false, ['no']],
    ['endpoints', 'Endpoints', true, ['ep']],
    ['configmaps', 'ConfigMap', true, ['cm']],
    ['secrets', 'Secret', true, []],
    ['serviceaccounts', 'ServiceAccount', true, ['sa']],
    ['events', 'Event', true, ['ev']],
    ['persistentvolumes', 'PersistentVolume', false, ['pv']],
    ['persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc']],
    ['limitranges', 'LimitRange', true, ['limits']],
    ['resourcequotas', 'ResourceQuota', true, ['quota']],
    ['replicationcontrollers', 'ReplicationController', true, ['rc']],
    ['podtemplates', 'PodTemplate', true, []],
  ];
  assert.equal(defs.length, expect.length);
  for (const [plural, kind, namespaced, shortNames] of expect) {
    const d = byPlural.get(plural)!;
    assert.ok(d, plural);
    assert.equal(d.kind, kind);
    assert.equal(d.group, '');
    assert.equal(d.version, 'v1');
    assert.equal(d.namespaced, namespaced, plural);
    assert.deepEqual(d.shortNames ?? [], shortNames, plural);
    assert.equal(d.openapiName, `io.k8s.api.core.v1.${kind}`);
    assert.equal(d.table?.columns[0].name === 'Name' || d.plural === 'events', true, plural);
  }
  const all = defs.filter((d) => d.categories?.includes('all')).map((d) => d.plural).sort();
  assert.deepEqual(all, ['pods', 'replicationcontrollers', 'services']);
  assert.deepEqual(namespaceResource.verbs, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  assert.deepEqual(byPlural.get('pods')!.subresources?.other?.sort(), ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy']);
  assert.deepEqual(serviceAccountResource.subresources?.other, ['token']);
  assert.deepEqual(namespaceResource.subresources, { status: true, other: ['finalize'] });
});

test('namespace create, status rules, table', async () => {
  const ns = await prepared(namespaceResource, o({ name: 'team-a' }));
  assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.deepEqual(namespaceResource.table!.cells(ns, now), ['team-a', 'Active', '120m']);
  assert.equal(namespaceResource.fieldSelectors!['status.phase'](ns), 'Active');
  const term = structuredClone(ns);
  (term.status as any).phase = 'Terminating';
  assert.deepEqual(fields(namespaceResource.strategy!.validateStatusUpdate!(term, ns)), [['FieldValueInvalid', 'status.Phase']]);
  (term.metadata as any).deletionTimestamp = '2024-05-01T12:00:00Z';
  assert.deepEqual(namespaceResource.strategy!.validateStatusUpdate!(term, ns), []);
  const bad = o({ name: 'x' }, { spec: { finalizers: ['custom'] } });
  assert.deepEqual(fields(namespaceResource.strategy!.validate!(bad)), [['FieldValueInvalid', 'spec.finalizers']]);
});

test('node validation, update rules and table', async () => {
  const node = await prepared(
    nodeResource,
    o(
      { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' } },
      {
        spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
        status: {
          capacity: { cpu: '4', memory: '8Gi' },
          conditions: [{ type: 'Ready', status: 'True' }],
          addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'n1' }],
          nodeInfo: { kubeletVersion: 'v1.33.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'runc://1.1.12' },
        },
      },
    ),
  );
  assert.deepEqual((node.spec as any).podCIDRs, ['10.244.1.0/24']);
  assert.deepEqual((node.status as any).allocatable, { cpu: '4', memory: '8Gi' });
  assert.deepEqual(nodeResource.strategy!.validate!(node), []);
  assert.deepEqual(nodeResource.table!.cells(node, now), [
    'n1', 'Ready', 'control-plane,worker', '120m', 'v1.33.0', '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'runc://1.1.12',
  ]);
  const cordoned = structuredClone(node);
  (cordoned.spec as any).unschedulable = true;
  (cordoned.status as any).conditions[0].status = 'Unknown';
  assert.equal(nodeResource.table!.cells(cordoned, now)[1], 'NotReady,SchedulingDisabled');
  assert.equal(nodeResource.fieldSelectors!['spec.unschedulable'](cordoned), 'true');
  const bare = o({ name: 'n2' }, { spec: {} });
  assert.deepEqual(nodeResource.table!.cells(bare, now).slice(1, 3), ['Unknown', '<none>']);

  const bad = o({ name: 'n3' }, {
    spec: { podCIDRs: ['10.0.0.0/24', '10.1.0.0/24'], taints: [{ key: 'a', effect: 'Sometimes' }, { key: 'b', value: 'x', effect: 'NoExecute' }, { key: 'b', value: 'y', effect: 'NoExecute' }, { key: 'c' }] },
  });
  assert.deepEqual(fields(nodeResource.strategy!.validate!(bad)), [
    ['FieldValueNotSupported', 'spec.taints[0].effect'],
    ['FieldValueDuplicate', 'spec.taints[2]'],
    ['FieldValueRequired', 'spec.taints[3].effect'],
    ['FieldValueInvalid', 'spec.podCIDRs'],
  ]);
  const moved = structuredClone(node);
  (moved.spec as any).podCIDRs = ['10.244.2.0/24'];
  assert.deepEqual(fields(nodeResource.strategy!.validateUpdate!(moved, node)), [['FieldValueForbidden', 'spec.podCIDRs']]);
});

test('configmap keys, size, immutability, table', () => {
  const st = configMapResource.strategy!;
  const cm = o({ name: 'c' }, { data: { 'app.properties': 'x=1', 'bad/key': 'v' }, binaryData: { 'app.properties': 'AA==' } });
  assert.deepEqual(fields(st.validate!(cm)), [
    ['FieldValueInvalid', 'data[bad/key]'],
    ['FieldValueInvalid', 'binaryData[app.properties]'],
  ]);
  const big = o({ name: 'c' }, { data: { a: 'x'.repeat(1024 * 1024 + 1) } });
  assert.deepEqual(fields(st.validate!(big)), [['FieldValueTooLong', '']]);
  const frozen = o({ name: 'c' }, { immutable: true, data: { a: '1' } });
  const changed = o({ name: 'c' }, { immutable: true, data: { a: '2' } });
  assert.deepEqual(fields(st.validateUpdate!(changed, frozen)), [['FieldValueForbidden', 'data']]);
  const unfrozen = o({ name: 'c' }, { immutable: false, data: { a: '1' } });
  assert.deepEqual(fields(st.validateUpdate!(unfrozen, frozen)), [['FieldValueForbidden', 'immutable']]);
  assert.deepEqual(configMapResource.table!.cells(o({ name: 'c' }, { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), now), ['c', 3, '120m']);
});

test('secret defaults, stringData, type rules, table', async () => {
  const st = secretResource.strategy!;
  const s = await prepared(secretResource, o({ name: 's' }, { data: { a: 'YQ==' }, stringData: { b: 'hello' } }));
  assert.equal(s.type, 'Opaque');
  assert.deepEqual(s.data, { a: 'YQ==', b: 'aGVsbG8=' });
  assert.equal(s.stringData, undefined);
  assert.deepEqual(st.validate!(s), []);
  assert.deepEqual(secretResource.table!.cells(s, now), ['s', 'Opaque', 2, '120m']);
  assert.equal(secretResource.fieldSelectors!.type(s), 'Opaque');
  const tls = await prepared(secretResource, o({ name: 't' }, { type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } }));
  assert.deepEqual(fields(st.validate!(tls)), [['FieldValueRequired', 'data[tls.key]']]);
  const notB64 = o({ name: 'x' }, { type: 'Opaque', data: { a: 'not base64!' } });
  assert.deepEqual(fields(st.validate!(notB64)), [['FieldValueInvalid', 'data[a]']]);
  const retyped = structuredClone(s);
  retyped.type = 'kubernetes.io/tls';
  assert.deepEqual(fields(st.validateUpdate!(retyped, s)), [['FieldValueInvalid', 'type']]);
  const dcj = await prepared(secretResource, o({ name: 'd' }, { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{bad' } }));
  assert.deepEqual(fields(st.validate!(dcj)), [['FieldValueInvalid', 'data[.dockerconfigjson]']]);
});

test('service accounts and endpoints', async () => {
  assert.deepEqual(serviceAccountResource.table!.cells(o({ name: 'default' }, { secrets: [{ name: 'x' }] }), now), ['default', 1, '120m']);
  const ep = await prepared(
    endpointsResource,
    o({ name: 'web' }, {
      subsets: [
        { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }] },
        { addresses: [{ ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 8080 }] },
      ],
    }),
  );
  assert.equal((ep.subsets as any)[0].ports[0].protocol, 'TCP');
  assert.deepEqual(endpointsResource.strategy!.validate!(ep), []);
  assert.deepEqual(endpointsResource.table!.cells(ep, now), ['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 1 more...', '120m']);
  assert.equal(endpointsResource.table!.cells(o({ name: 'e' }), now)[1], '<none>');
  const bad = o({ name: 'web' }, { subsets: [{ addresses: [{ ip: '127.0.0.1' }, { ip: 'x' }], ports: [{ port: 80, protocol: 'TCP' }, { port: 0, protocol: 'TCP' }] }] });
  assert.deepEqual(fields(endpointsResource.strategy!.validate!(bad)), [
    ['FieldValueInvalid', 'subsets[0].addresses[0].ip'],
    ['FieldValueInvalid', 'subsets[0].addresses[1].ip'],
    ['FieldValueRequired', 'subsets[0].ports[0].name'],
    ['FieldValueRequired', 'subsets[0].ports[1].name'],
    ['FieldValueInvalid', 'subsets[0].ports[1].port'],
  ]);
});

test('events: validation, table, field selectors', () => {
  const ev = o(
    { name: 'web.17abc', namespace: 'default' },
    {
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1', fieldPath: 'spec.containers{c}' },
      reason: 'Pulled',
      message: 'Successfully pulled image "nginx"\n',
      type: 'Normal',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: '2024-05-01T11:50:00Z',
      lastTimestamp: '2024-05-01T11:58:00Z',
      count: 3,
    },
  );
  assert.deepEqual(eventResource.strategy!.validate!(ev), []);
  assert.deepEqual(eventResource.table!.cells(ev, now), [
    '2m', 'Normal', 'Pulled', 'pod/web', 'spec.containers{c}', 'kubelet, n1', 'Successfully pulled image "nginx"', '10m', 3, 'web.17abc',
  ]);
  assert.deepEqual(eventResource.table!.columns.filter((c) => !c.priority).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  const fs = eventResource.fieldSelectors!;
  assert.equal(fs['involvedObject.name'](ev), 'web');
  assert.equal(fs['involvedObject.kind'](ev), 'Pod');
  assert.equal(fs.source(ev), 'kubelet');
  assert.equal(fs.type(ev), 'Normal');
  const other = o({ name: 'e', namespace: 'other' }, { involvedObject: { kind: 'Pod', namespace: 'default', name: 'x' } });
  assert.deepEqual(fields(eventResource.strategy!.validate!(other)), [['FieldValueInvalid', 'involvedObject.namespace']]);
  const newStyle = o({ name: 'e', namespace: 'default' }, { eventTime: '2024-05-01T11:00:00.000000Z', involvedObject: { kind: 'Node', name: 'n1' } });
  assert.deepEqual(fields(eventResource.strategy!.validate!(newStyle)), [
    ['FieldValueRequired', 'reportingComponent'],
    ['FieldValueInvalid', 'reportingComponent'],
    ['FieldValueInvalid', 'reportingComponent'],
    ['FieldValueRequired', 'reportingInstance'],
    ['FieldValueRequired', 'action'],
    ['FieldValueRequired', 'reason'],
  ]);
  const series = o({ name: 's', namespace: 'default' }, { eventTime: '2024-05-01T11:00:00.000000Z', series: { count: 7, lastObservedTime: '2024-05-01T11:59:30.000000Z' }, involvedObject: { kind: 'Node', name: 'n1' } });
  const cells = eventResource.table!.cells(series, now);
  assert.deepEqual([cells[0], cells[7], cells[8]], ['30s', '60m', 7]);
});
