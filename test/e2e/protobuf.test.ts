/**
 * Acceptance: kubectl 1.32 and 1.33 typed clients send request bodies as
 * application/vnd.kubernetes.protobuf; a real `k8ts server` decodes and stores them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startServer, kubectl, kubectlOk, KUBECTLS, type TestServer } from '../util/cluster.js';

const PROTOBUF_SENT = /Content-Type: application\/vnd\.kubernetes\.protobuf/;
/** Not valid UTF-8, so kubectl puts it in binaryData. */
const BLOB = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]);

describe('kubectl protobuf request bodies', { concurrency: false }, () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
    await writeFile(join(server.dataDir, 'blob.bin'), BLOB);
  });
  after(async () => {
    await server?.stop();
  });

  for (const bin of [KUBECTLS[0]!, KUBECTLS[1]!]) {
    const v = basename(bin).replace(/\D/g, '');
    const ns = `pb-${v}`;

    test(`${basename(bin)}: create sends protobuf; the server stores what was asked`, async () => {
      /** Runs `kubectl create ...` and checks that the body went as protobuf. */
      const create = async (args: string[], inNs = true): Promise<void> => {
        // Flags first: anything after `--` belongs to the container command.
        const r = await kubectl(server, ['-v=8', ...(inNs ? ['-n', ns] : []), 'create', ...args], { bin });
        assert.equal(r.code, 0, `kubectl create ${args.join(' ')}:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
        assert.match(r.stderr, PROTOBUF_SENT, `kubectl create ${args.join(' ')} did not send protobuf`);
      };
      const get = async (what: string[], inNs = true): Promise<any> =>
        JSON.parse(await kubectlOk(server, ['get', ...what, ...(inNs ? ['-n', ns] : []), '-o', 'json'], { bin }));

      await create(['namespace', ns], false);
      const nsObj = await get(['namespace', ns], false);
      assert.equal(nsObj.status.phase, 'Active');

      await create(['deployment', 'web', '--image=busybox:1.36', '--replicas=2', '--port=8080']);
      const dep = await get(['deployment', 'web']);
      assert.equal(dep.spec.replicas, 2);
      assert.deepEqual(dep.spec.selector.matchLabels, { app: 'web' });
      assert.equal(dep.spec.template.spec.containers[0].image, 'busybox:1.36');
      assert.equal(dep.spec.template.spec.containers[0].ports[0].containerPort, 8080);

      // replicas is a pointer: an explicit 0 must survive (not be defaulted to 1).
      await create(['deployment', 'zero', '--image=busybox', '--replicas=0']);
      assert.equal((await get(['deployment', 'zero'])).spec.replicas, 0);

      await create(['configmap', 'cfg', '--from-literal=k=v', `--from-file=blob=${join(server.dataDir, 'blob.bin')}`]);
      const cm = await get(['configmap', 'cfg']);
      assert.deepEqual(cm.data, { k: 'v' });
      assert.deepEqual(Buffer.from(cm.binaryData.blob, 'base64'), BLOB);

      await create(['secret', 'generic', 'sec', '--from-literal=pw=hunter2', '--from-literal=user=admin']);
      const sec = await get(['secret', 'sec']);
      assert.equal(Buffer.from(sec.data.pw, 'base64').toString(), 'hunter2');
      assert.equal(Buffer.from(sec.data.user, 'base64').toString(), 'admin');
      assert.equal(sec.type, 'Opaque');

      await create(['service', 'clusterip', 'web', '--tcp=80:8080']);
      const svc = await get(['service', 'web']);
      assert.equal(svc.spec.type, 'ClusterIP');
      assert.equal(svc.spec.ports[0].port, 80);
      assert.equal(svc.spec.ports[0].targetPort, 8080);
      assert.equal(svc.spec.ports[0].protocol, 'TCP');
      assert.deepEqual(svc.spec.selector, { app: 'web' });

      await create(['job', 'once', '--image=busybox', '--', 'echo', 'hi']);
      const job = await get(['job', 'once']);
      assert.deepEqual(job.spec.template.spec.containers[0].command, ['echo', 'hi']);
      assert.equal(job.spec.template.spec.restartPolicy, 'Never');

      await create(['priorityclass', `pc-${v}`, '--value=100', '--description=from protobuf'], false);
      const pc = await get(['priorityclass', `pc-${v}`], false);
      assert.equal(pc.value, 100);
      assert.equal(pc.description, 'from protobuf');
      assert.equal(pc.globalDefault, undefined);

      await create(['role', 'reader', '--verb=get', '--verb=list', '--resource=pods']);
      const role = await get(['role', 'reader']);
      assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);

      await create(['serviceaccount', 'robot']);
      assert.equal((await get(['serviceaccount', 'robot'])).metadata.name, 'robot');

      await create(['quota', 'q', '--hard=pods=3,cpu=2']);
      const q = await get(['resourcequota', 'q']);
      assert.deepEqual(q.spec.hard, { pods: '3', cpu: '2' });
    });
  }

  test('a malformed protobuf body is a 400 BadRequest Status', async () => {
    const kc = parseYaml(readFileSync(server.kubeconfig, 'utf8'));
    const user = kc.users[0].user;
    const url = new URL(`${server.url}/api/v1/namespaces/default/configmaps`);
    const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
    const body = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff]);
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
          cert: b64(user['client-certificate-data']),
          key: b64(user['client-key-data']),
          headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' },
        },
        (r) => {
          let text = '';
          r.on('data', (d: Buffer) => (text += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode!, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(res.status, 400, res.text);
    const status = JSON.parse(res.text);
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'BadRequest');
  });
});
