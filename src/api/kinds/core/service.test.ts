import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fakeContext } from './fake_context.js';
import { serviceResource } from './service.js';

const st = serviceResource.strategy!;
const now = new Date('2024-05-01T12:00:00Z');

function svc(spec: Record<string, unknown>): KubeObject {
  return { metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:59:00Z' }, spec } as KubeObject;
}

async function create(s: KubeObject, ctx = fakeContext()) {
  await st.default!(s, ctx);
  await st.prepareForCreate!(s, ctx);
  return { s, errs: st.validate!(s) };
}

async function update(n: KubeObject, old: KubeObject, ctx: ReturnType<typeof fakeContext>) {
  await st.default!(n, ctx);
  await st.prepareForUpdate!(n, old, ctx);
  return [...st.validate!(n), ...st.validateUpdate!(n, old)];
}

test('ClusterIP service defaults and allocation', async () => {
  const ctx = fakeContext();
  const { s, errs } = await create(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }), ctx);
  assert.deepEqual(errs, []);
  assert.deepEqual(s.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    clusterIP: '10.96.0.1',
    clusterIPs: ['10.96.0.1'],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(s.status, { loadBalancer: {} });
  assert.deepEqual(serviceResource.table!.cells(s, now), ['web', 'ClusterIP', '10.96.0.1', '<none>', '80/TCP', '60s', 'app=web']);
});

test('headless and ExternalName services allocate nothing', async () => {
  const ctx = fakeContext();
  const { s: h, errs } = await create(svc({ clusterIP: 'None', selector: { app: 'db' } }), ctx);
  assert.deepEqual(errs, []);
  assert.deepEqual((h.spec as any).clusterIPs, ['None']);
  const { s: e, errs: e2 } = await create(svc({ type: 'ExternalName', externalName: 'example.com' }), ctx);
  assert.deepEqual(e2, []);
  assert.equal((e.spec as any).clusterIP, undefined);
  assert.equal((e.spec as any).internalTrafficPolicy, undefined);
  assert.equal(ctx.ips.size, 0);
  assert.deepEqual(serviceResource.table!.cells(e, now).slice(1, 5), ['ExternalName', '<none>', 'example.com', '<none>']);
});

test('NodePort allocation, requested ports, update keeps them, delete releases', async () => {
  const ctx = fakeContext();
  const { s, errs } = await create(
    svc({ type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, nodePort: 30443 }] }),
    ctx,
  );
  assert.deepEqual(errs, []);
  const ports = (s.spec as any).ports;
  assert.equal(ports[0].nodePort, 30000);
  assert.equal(ports[1].nodePort, 30443);
  assert.equal((s.spec as any).externalTrafficPolicy, 'Cluster');
  assert.deepEqual([...ctx.ports].sort(), [30000, 30443]);
  assert.equal(serviceResource.table!.cells(s, now)[4], '80:30000/TCP,443:30443/TCP');

  // A PUT that omits clusterIP and nodePorts keeps the allocated ones.
  const put = svc({ type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }] });
  assert.deepEqual(await update(put, s, ctx), []);
  assert.equal((put.spec as any).clusterIP, '10.96.0.1');
  assert.deepEqual((put.spec as any).ports.map((p: any) => p.nodePort), [30000, 30443]);

  // Changing the cluster IP is refused.
  const bad = structuredClone(put);
  (bad.spec as any).clusterIP = '10.96.0.99';
  (bad.spec as any).clusterIPs = ['10.96.0.99'];
  assert.deepEqual((await update(bad, put, ctx)).map((e) => [e.field, e.message]), [['spec.clusterIP', 'Invalid value: "10.96.0.99": field is immutable']]);

  // Back to ClusterIP: node ports are dropped and released.
  const toCluster = structuredClone(put);
  (toCluster.spec as any).type = 'ClusterIP';
  delete (toCluster.spec as any).externalTrafficPolicy;
  assert.deepEqual(await update(toCluster, put, ctx), []);
  assert.deepEqual((toCluster.spec as any).ports.map((p: any) => p.nodePort), [undefined, undefined]);
  assert.equal(ctx.ports.size, 0);

  await st.afterDelete!(toCluster, ctx);
  assert.equal(ctx.ips.size, 0);
});

test('LoadBalancer external IP cell', async () => {
  const ctx = fakeContext();
  const { s } = await create(svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), ctx);
  assert.equal(serviceResource.table!.cells(s, now)[3], '<pending>');
  s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'lb.example.com' }] } };
  assert.equal(serviceResource.table!.cells(s, now)[3], '1.2.3.4,lb.example.com');
  assert.equal((s.spec as any).allocateLoadBalancerNodePorts, true);
});

test('invalid services allocate nothing', async () => {
  const ctx = fakeContext();
  const { errs } = await create(svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 80 }] }), ctx);
  assert.deepEqual(
    errs.map((e) => [e.type, e.field]),
    [
      ['FieldValueRequired', 'spec.ports[0].name'],
      ['FieldValueRequired', 'spec.ports[1].name'],
      ['FieldValueDuplicate', 'spec.ports[1]'],
    ],
  );
  assert.equal(ctx.ips.size + ctx.ports.size, 0);
});

const validation: Array<[string, Record<string, unknown>, Array<[string, string]>]> = [
  ['no ports', { selector: { a: 'b' } }, [['FieldValueRequired', 'spec.ports']]],
  ['bad type', { type: 'Magic', ports: [{ port: 80 }] }, [['FieldValueNotSupported', 'spec.type']]],
  ['bad port', { ports: [{ port: 70000, targetPort: 80 }] }, [['FieldValueInvalid', 'spec.ports[0].port']]],
  ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30001 }] }, [['FieldValueForbidden', 'spec.ports[0].nodePort']]],
  ['bad target port name', { ports: [{ port: 80, targetPort: 'Not_Valid' }] }, [['FieldValueInvalid', 'spec.ports[0].targetPort']]],
  ['bad selector', { ports: [{ port: 80 }], selector: { app: 'a b' } }, [['FieldValueInvalid', 'spec.selector']]],
  ['external name required', { type: 'ExternalName' }, [['FieldValueRequired', 'spec.externalName']]],
  ['bad cluster IP', { clusterIP: '300.1.1.1', ports: [{ port: 80 }] }, [['FieldValueInvalid', 'spec.clusterIPs[0]']]],
  ['headless NodePort', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }, [['FieldValueInvalid', 'spec.clusterIPs[0]']]],
  ['etp on ClusterIP', { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }, [['FieldValueInvalid', 'spec.externalTrafficPolicy']]],
];

for (const [name, spec, want] of validation) {
  test(`service validation: ${name}`, async () => {
    const s = svc(spec);
    await st.default!(s, fakeContext());
    assert.deepEqual(
      st.validate!(s).map((e) => [e.type, e.field]),
      want,
    );
  });
}

test('service metadata', () => {
  assert.equal(serviceResource.nameValidation, 'dns1035');
  assert.deepEqual(serviceResource.shortNames, ['svc']);
  assert.deepEqual(serviceResource.categories, ['all']);
  assert.equal(serviceResource.fieldSelectors!['spec.type'](svc({ type: 'NodePort' })), 'NodePort');
});

test('a failed allocation releases what the same write allocated', async () => {
  const ctx = fakeContext();
  ctx.ports.add(30080);
  const s = svc({ type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ name: 'a', port: 80, nodePort: 30080 }] });
  await st.default!(s, ctx);
  await assert.rejects(Promise.resolve(st.prepareForCreate!(s, ctx)), /already allocated/);
  assert.equal(ctx.ips.size, 0);
  assert.deepEqual([...ctx.ports], [30080]);
});
