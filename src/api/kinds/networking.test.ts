import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.js';
import { fields, runCreate, runStatusUpdate, runUpdate } from './harness.js';
import { ingressClassResource, ingressResource, networkPolicyResource } from './networking.js';

function ingress(spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      ...spec,
    },
  };
}

test('Ingress validation', async () => {
  assert.deepEqual((await runCreate(ingressResource, ingress())).errs, []);
  const cases: [Record<string, unknown>, string, string][] = [
    [{ rules: [] }, 'spec', 'either `defaultBackend` or `rules` must be specified'],
    [{ rules: [{ host: '10.0.0.1' }] }, 'spec.rules[0].host', 'must be a DNS name, not an IP address'],
    [{ rules: [{ host: 'a.*.com' }] }, 'spec.rules[0].host', 'a wildcard DNS-1123 subdomain'],
    [{ rules: [{ http: { paths: [{ path: '/' }] } }] }, 'spec.rules[0].http.paths[0].pathType', 'pathType must be specified'],
    [{ rules: [{ http: { paths: [{ path: 'x', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] }, 'spec.rules[0].http.paths[0].path', 'must be an absolute path'],
    [{ rules: [{ http: { paths: [{ path: '/a//b', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] }, 'spec.rules[0].http.paths[0].path', "must not contain '//'"],
    [{ defaultBackend: { service: { name: 'web', port: {} } }, rules: [] }, 'spec.defaultBackend', 'port name or number is required'],
    [{ defaultBackend: { service: { name: 'web', port: { number: 80 } }, resource: { kind: 'Bucket', name: 'b' } } }, 'spec.defaultBackend', 'cannot set both resource and service backends'],
  ];
  for (const [spec, field, message] of cases) {
    const { errs } = await runCreate(ingressResource, ingress(spec));
    assert.ok(errs.some((e) => e.field === field && e.message.includes(message)), `${field}: ${JSON.stringify(errs)}`);
  }
  assert.deepEqual((await runCreate(ingressResource, ingress({ rules: [{ host: '*.example.com', http: { paths: [{ pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] }))).errs, []);
});

test('Ingress status and table', async () => {
  const { obj } = await runCreate(ingressResource, ingress({ tls: [{ hosts: ['shop.example.com'], secretName: 'tls' }] }));
  assert.deepEqual(fields(runStatusUpdate(ingressResource, obj, { loadBalancer: { ingress: [{ ip: 'nope' }] } }).errs), ['status.loadBalancer.ingress[0].ip']);
  obj.status = { loadBalancer: { ingress: [{ ip: '192.168.1.20' }, { ip: '192.168.1.10' }, { hostname: 'lb.example.com' }] } };
  assert.deepEqual(ingressResource.table!.cells(obj, new Date('2024-05-01T12:00:11Z')), [
    'web', 'nginx', 'shop.example.com', '192.168.1.10,192.168.1.20,lb.example.com', '80, 443', '11s',
  ]);
  const bare = { metadata: { name: 'b' }, spec: { defaultBackend: {}, rules: [{}, { host: 'a' }, { host: 'b' }, { host: 'c' }] } };
  assert.deepEqual(ingressResource.table!.cells(bare, new Date()).slice(1, 5), ['<none>', 'a,b + 1 more...', '', '80']);
});

test('IngressClass', async () => {
  const ic = { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } };
  const { obj, errs } = await runCreate(ingressClassResource, ic);
  assert.deepEqual(errs, []);
  assert.equal((obj.spec as Record<string, any>).parameters.scope, 'Cluster');
  assert.deepEqual(ingressClassResource.table!.cells(obj, new Date('2024-05-01T12:00:00Z')), ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '0s']);
  const bad = await runCreate(ingressClassResource, { metadata: { name: 'x' }, spec: { controller: 'nginx', parameters: { kind: 'P', name: 'p', scope: 'Namespace' } } });
  assert.deepEqual(fields(bad.errs), ['spec.controller', 'spec.parameters.namespace']);
  assert.match(bad.errs[0]!.message, /must be a domain-prefixed path/);
  assert.deepEqual(fields((await runUpdate(ingressClassResource, obj, { ...obj, spec: { controller: 'example.com/other' } })).errs), ['spec.controller']);
});

test('NetworkPolicy defaults, validation and table', async () => {
  const np = {
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 5432 }] }],
    },
  };
  const { obj, errs } = await runCreate(networkPolicyResource, np);
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.deepEqual(spec.policyTypes, ['Ingress']);
  assert.equal(spec.ingress[0].ports[0].protocol, 'TCP');
  const withEgress = (await runCreate(networkPolicyResource, { ...np, spec: { ...np.spec, egress: [{}] } })).obj.spec as Record<string, any>;
  assert.deepEqual(withEgress.policyTypes, ['Ingress', 'Egress']);
  const bad = await runCreate(networkPolicyResource, {
    ...np,
    spec: {
      podSelector: {},
      ingress: [{ from: [{}, { ipBlock: { cidr: '10.0.0.0/16', except: ['192.168.0.0/24'] }, podSelector: {} }], ports: [{ port: 80, endPort: 70 }, { port: 'http', endPort: 90 }] }],
      policyTypes: ['Sideways'],
    },
  });
  assert.deepEqual(fields(bad.errs), [
    'spec.ingress[0].ports[0].endPort',
    'spec.ingress[0].ports[1].endPort',
    'spec.ingress[0].from[0]',
    'spec.ingress[0].from[1].ipBlock.except[0]',
    'spec.ingress[0].from[1]',
    'spec.policyTypes[0]',
  ]);
  assert.deepEqual(networkPolicyResource.table!.cells(obj, new Date('2024-05-01T12:00:00Z')), ['db', 'app=db', '0s']);
  assert.equal(networkPolicyResource.table!.cells({ metadata: { name: 'all' }, spec: { podSelector: {} } }, new Date())[1], '<none>');
});
