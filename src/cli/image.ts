/**
 * `k8ts image pull|import|ls|rm|prune`: the node's image store (default /var/lib/k8ts/images).
 * The store module is loaded only when one of these commands runs.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';

/** Default root of the node's image store. */
export const DEFAULT_IMAGE_ROOT = '/var/lib/k8ts/images';

/** Human-readable size with decimal units and 4 significant digits, as crictl prints it ("1.23MB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/** Formats rows as space-aligned columns (3 spaces between), like crictl. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')).join('\n') + '\n';
}

/**
 * A one-line progress display for a person at a terminal (`out` a TTY): bytes downloaded of
 * the total over all blobs; nothing is printed when `out` is not a TTY.
 */
export function progressLine(out: NodeJS.WriteStream): { update: (p: { digest: string; downloaded: number; total: number }) => void; done: () => void } {
  const blobs = new Map<string, { downloaded: number; total: number }>();
  let shown = false;
  let last = 0;
  return {
    update(p) {
      blobs.set(p.digest, { downloaded: p.downloaded, total: p.total });
      if (!out.isTTY || Date.now() - last < 100) return;
      last = Date.now();
      let got = 0;
      let all = 0;
      for (const b of blobs.values()) {
        got += b.downloaded;
        all += b.total;
      }
      const width = 30;
      const filled = all ? Math.round((width * got) / all) : 0;
      out.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${humanSize(got)} / ${humanSize(all)} (${blobs.size} blobs)`);
      shown = true;
    },
    done() {
      if (shown) out.write('\n');
      shown = false;
    },
  };
}

/** Commander helper: a repeatable option collected into a list. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function openStore(root: string) {
  const { ImageStore } = await import('../runtime/images/store.js');
  return new ImageStore(root);
}

const rootOption = (c: Command) => c.option('--root <dir>', 'image store folder', DEFAULT_IMAGE_ROOT);

/** Adds the `image` command group (import, ls, rm, prune) to `program`. */
export function registerImageCommand(program: Command): void {
  const image = program.command('image').description("the node's image store: import, list and remove images");
  rootOption(
    image
      .command('import <file>')
      .description('import an OCI layout folder, or an OCI-layout or docker-archive (docker save) tarball')
      .option('--name <ref>', 'name to record (for an OCI layout whose index has only tags or no names)'),
  ).action(async (file: string, o: { root: string; name?: string }) => {
    const store = await openStore(o.root);
    const isDir = (await stat(file)).isDirectory();
    const recs = isDir ? await store.importLayout(file, { refName: o.name }) : await store.importArchive(file, { refName: o.name });
    for (const r of recs) process.stdout.write(`imported ${r.repoTags.join(', ') || '<none>'} ${r.configDigest}\n`);
  });
  rootOption(
    image
      .command('pull <ref>')
      .description('pull an image from a registry (OCI distribution API) into the store')
      .option('--insecure-registry <host>', 'a registry spoken to over plain http (e.g. 127.0.0.1:5000); repeatable', collect, [] as string[])
      .option('--username <user>', 'registry user (basic auth, or for the token service)')
      .option('--password <password>', 'registry password')
      .option('--docker-config <file>', 'credentials from a .dockerconfigjson / .dockercfg file (the data of an image pull secret); repeatable', collect, [] as string[]),
  ).action(async (ref: string, o: { root: string; insecureRegistry: string[]; username?: string; password?: string; dockerConfig: string[] }) => {
    const { RegistryClient } = await import('../runtime/images/registry.js');
    const { parseImageReference } = await import('../runtime/images/oci.js');
    const name = parseImageReference(ref).normalized;
    const store = await openStore(o.root);
    const creds = o.username !== undefined ? { username: o.username, password: o.password ?? '' } : undefined;
    const { readFile } = await import('node:fs/promises');
    const { credentialsLookup } = await import('../runtime/images/dockerconfig.js');
    const fromConfigs = credentialsLookup(await Promise.all(o.dockerConfig.map((f) => readFile(f))));
    const client = new RegistryClient({ insecure: o.insecureRegistry, auth: (registry) => creds ?? fromConfigs(registry) });
    const bar = progressLine(process.stderr);
    try {
      const { record, pull } = await store.pull(client, ref, { name, onProgress: bar.update });
      bar.done();
      process.stdout.write(`pulled ${name} ${pull.manifestDigest} (image id ${record.configDigest})\n`);
    } finally {
      bar.done();
    }
  });
  rootOption(
    image
      .command('ls')
      .alias('list')
      .description('list images (IMAGE, TAG, IMAGE ID, SIZE)')
      .option('-q, --quiet', 'print image ids only'),
  ).action(async (o: { root: string; quiet?: boolean }) => {
    const rows = await (await openStore(o.root)).list();
    if (o.quiet) {
      for (const id of new Set(rows.map((r) => r.id))) process.stdout.write(`${id}\n`);
      return;
    }
    const table = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
    for (const r of rows) table.push([r.repository, r.tag, r.id.replace(/^sha256:/, '').slice(0, 12), humanSize(r.size)]);
    process.stdout.write(formatTable(table));
  });
  rootOption(image.command('rm <refs...>').alias('rmi').description('remove images by name or id')).action(
    async (refs: string[], o: { root: string }) => {
      const store = await openStore(o.root);
      for (const ref of refs) {
        const rec = await store.remove(ref);
        process.stdout.write(`Deleted: ${ref} (${rec.configDigest})\n`);
      }
    },
  );
  rootOption(
    image
      .command('prune')
      .description('remove untagged images (with --all: every image)')
      .option('--all', 'remove all images, not only untagged ones', false),
  ).action(async (o: { root: string; all: boolean }) => {
    const removed = await (await openStore(o.root)).prune(new Set(), { danglingOnly: !o.all });
    for (const r of removed) process.stdout.write(`Deleted: ${r.configDigest}\n`);
    process.stdout.write(`${removed.length} image(s) removed\n`);
  });
}
