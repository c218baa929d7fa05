import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyTypeOf, negotiate, parseAccept, type BodyType, type Representation } from './negotiation.js';

// Accept headers as kubectl / client-go send them.
const KUBECTL_GET_TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const PROTO = 'application/vnd.kubernetes.protobuf';
const KUBECTL_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

const cases: { name: string; accept: string | undefined; discovery?: boolean; want: Representation }[] = [
  { name: 'no Accept', accept: undefined, want: { format: 'json', as: 'object' } },
  { name: 'empty Accept', accept: '', want: { format: 'json', as: 'object' } },
  { name: 'plain json', accept: 'application/json', want: { format: 'json', as: 'object' } },
  { name: 'wildcard', accept: '*/*', want: { format: 'json', as: 'object' } },
  { name: 'application/*', accept: 'application/*', want: { format: 'json', as: 'object' } },
  { name: 'kubectl get Table', accept: KUBECTL_GET_TABLE, want: { format: 'json', as: 'Table' } },
  { name: 'Table with protobuf first', accept: `${PROTO};as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io,application/json`, want: { format: 'json', as: 'Table' } },
  { name: 'Table without meta group falls back', accept: 'application/json;as=Table;v=v1;g=other.io,application/json', want: { format: 'json', as: 'object' } },
  { name: 'PartialObjectMetadata', accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json', want: { format: 'json', as: 'PartialObjectMetadata' } },
  { name: 'PartialObjectMetadataList', accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json', want: { format: 'json', as: 'PartialObjectMetadataList' } },
  { name: 'aggregated discovery v2', accept: KUBECTL_DISCOVERY, discovery: true, want: { format: 'json', as: 'APIGroupDiscoveryList', discoveryVersion: 'v2' } },
  { name: 'aggregated discovery v2beta1', accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', discovery: true, want: { format: 'json', as: 'APIGroupDiscoveryList', discoveryVersion: 'v2beta1' } },
  { name: 'aggregated discovery on a non-discovery path', accept: KUBECTL_DISCOVERY, discovery: false, want: { format: 'json', as: 'object' } },
  { name: 'aggregated discovery unknown version', accept: 'application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json', discovery: true, want: { format: 'json', as: 'object' } },
  { name: 'aggregated discovery protobuf first', accept: `${PROTO};g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,${KUBECTL_DISCOVERY}`, discovery: true, want: { format: 'json', as: 'APIGroupDiscoveryList', discoveryVersion: 'v2' } },
  { name: 'protobuf first falls back to json', accept: `${PROTO}, application/json`, want: { format: 'json', as: 'object' } },
  { name: 'protobuf only still json', accept: PROTO, want: { format: 'json', as: 'object' } },
  { name: 'yaml', accept: 'application/yaml', want: { format: 'yaml', as: 'object' } },
  { name: 'yaml Table', accept: 'application/yaml;as=Table;v=v1;g=meta.k8s.io', want: { format: 'yaml', as: 'Table' } },
  { name: 'q-values order', accept: 'application/json;q=0.5, application/yaml', want: { format: 'yaml', as: 'object' } },
  { name: 'quoted params', accept: 'application/json;as="Table";g="meta.k8s.io";v=v1', want: { format: 'json', as: 'Table' } },
  { name: 'case-insensitive media type', accept: 'Application/JSON', want: { format: 'json', as: 'object' } },
  { name: 'unsupported only', accept: 'text/html', want: { format: 'json', as: 'object' } },
];

for (const c of cases) {
  test(`negotiate: ${c.name}`, () => {
    assert.deepEqual(negotiate(c.accept, { discovery: c.discovery }), c.want);
  });
}

test('parseAccept: parameters and q ordering', () => {
  const r = parseAccept('a/b;q=0.1, c/d;x=1, e/f;q=0');
  assert.deepEqual(
    r.map((m) => [m.type, m.q]),
    [
      ['c/d', 1],
      ['a/b', 0.1],
      ['e/f', 0],
    ],
  );
  assert.deepEqual(r[0]!.params, { x: '1' });
});

const bodies: [string | undefined, BodyType | undefined][] = [
  [undefined, 'json'],
  ['', 'json'],
  ['application/json', 'json'],
  ['application/json; charset=utf-8', 'json'],
  ['*/*', 'json'],
  ['application/yaml', 'yaml'],
  ['application/x-yaml', 'yaml'],
  ['text/yaml', 'yaml'],
  ['application/vnd.kubernetes.protobuf', 'protobuf'],
  ['application/json-patch+json', 'json-patch'],
  ['application/merge-patch+json', 'merge-patch'],
  ['application/strategic-merge-patch+json', 'strategic-merge-patch'],
  ['application/apply-patch+yaml', 'apply-patch'],
  ['application/apply-patch+json', 'apply-patch'],
  ['Application/Merge-Patch+JSON', 'merge-patch'],
  ['text/plain', undefined],
  ['application/xml', undefined],
];

for (const [ct, want] of bodies) {
  test(`bodyTypeOf(${JSON.stringify(ct)}) = ${want}`, () => {
    assert.equal(bodyTypeOf(ct), want);
  });
}
