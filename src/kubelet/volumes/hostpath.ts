/**
 * hostPath volumes: the upstream type checks (and the creating types) with the kubelet's messages,
 * e.g. `hostPath type check failed: /x is not a directory`.
 */
import fs from 'node:fs';

/** The hostPath `type` values (`''` does no check). */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

function stat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const failed = (p: string, what: string): Error => new Error(`hostPath type check failed: ${p} is not ${what}`);

/**
 * Checks (and for the *OrCreate types creates: a directory 0755 with parents, an empty file 0644
 * whose parent must exist) `hostPath` against `type`; throws with upstream's message on mismatch.
 */
export function checkHostPath(hostPath: string, type: string | undefined): void {
  const t = (type ?? '') as HostPathType;
  let st = stat(hostPath);
  switch (t) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) {
        fs.mkdirSync(hostPath, { recursive: true, mode: 0o755 });
        fs.chmodSync(hostPath, 0o755);
        st = stat(hostPath);
      }
      if (!st?.isDirectory()) throw failed(hostPath, 'a directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) throw failed(hostPath, 'a directory');
      return;
    case 'FileOrCreate':
      if (!st) {
        try {
          fs.closeSync(fs.openSync(hostPath, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644));
        } catch (e) {
          throw new Error(`open ${hostPath}: ${errnoText(e)}`);
        }
        fs.chmodSync(hostPath, 0o644);
        st = stat(hostPath);
      }
      if (!st?.isFile()) throw failed(hostPath, 'a file');
      return;
    case 'File':
      if (!st?.isFile()) throw failed(hostPath, 'a file');
      return;
    case 'Socket':
      if (!st?.isSocket()) throw failed(hostPath, 'a socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw failed(hostPath, 'a character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw failed(hostPath, 'a block device');
      return;
    default:
      throw new Error(`hostPath type check failed: ${hostPath} has unsupported type ${String(type)}`);
  }
}

/** Go-like text of an errno error (`no such file or directory`). */
function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return (e as Error).message;
}
