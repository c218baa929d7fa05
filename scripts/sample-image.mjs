// Builds the offline busybox image (from Debian's busybox-static; no internet needed) and
// pushes it to the registry at HOST (plain http, loopback) as k8ts/busybox:1.
//   node scripts/sample-image.mjs 127.0.0.1:5000
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage } from '../dist/src/runtime/images/testimage.js';
import { pushLayout } from '../dist/src/runtime/images/testregistry.js';

const host = process.argv[2] ?? '127.0.0.1:5000';
const dir = await mkdtemp(join(tmpdir(), 'k8ts-sample-image-'));
try {
  await buildBusyboxImage(dir, { refName: '1' });
  const digest = await pushLayout(host, dir, 'k8ts/busybox', '1', '1');
  console.log(`pushed ${host}/k8ts/busybox:1 (${digest})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
