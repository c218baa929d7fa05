/**
 * A server restarted on the same data dir keeps its objects, certificates, token and
 * kubeconfig, and its bootstrap objects are not recreated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, kubectlOk } from '../util/cluster.js';

test('restart on the same data dir keeps state (SQLite)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'k8ts-restart-'));
  try {
    const first = await startServer({ dataDir });
    let uidBefore: string;
    let token: string;
    try {
      await kubectlOk(first, ['create', 'configmap', 'keep', '--from-literal=a=1']);
      uidBefore = JSON.parse(await kubectlOk(first, ['get', 'svc', 'kubernetes', '-o', 'json'])).metadata.uid;
      token = (await readFile(join(dataDir, 'token'), 'utf8')).trim();
    } finally {
      await first.stop();
    }
    const second = await startServer({ dataDir });
    try {
      assert.doesNotMatch(second.output(), /bootstrap failed/);
      const cm = JSON.parse(await kubectlOk(second, ['get', 'configmap', 'keep', '-o', 'json']));
      assert.equal(cm.data.a, '1');
      const svc = JSON.parse(await kubectlOk(second, ['get', 'svc', 'kubernetes', '-o', 'json']));
      assert.equal(svc.metadata.uid, uidBefore);
      assert.equal(svc.spec.clusterIP, '10.43.0.1');
      assert.equal((await readFile(join(dataDir, 'token'), 'utf8')).trim(), token);
      assert.match(second.output(), new RegExp(`node join token: ${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
