/**
 * Port forwarding into a pod: `nsenter --net=<netns> socat STDIO TCP:127.0.0.1:<port>` wrapped
 * as a Duplex. The promise settles once socat reports the TCP connection up (its `-d -d` notice
 * "starting data transfer loop") or fails (refused, no such netns).
 *
 * Half-close: ending the Duplex's write side closes socat's stdin, which socat turns into a TCP
 * FIN; it keeps relaying the reply (`-t` is long) until the peer closes, then the readable side
 * ends and socat exits. When the pod's side closes first, socat's stdin is closed as soon as
 * socat reports it ("socket 2 ... is at EOF"), so the Duplex ends then too. Destroying the
 * Duplex kills socat.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** How long socat keeps one direction open after the other reached EOF (seconds). */
const HALF_CLOSE_WAIT_S = 3600;

/**
 * A Duplex connected to 127.0.0.1:`port` inside the network namespace at `netnsPath`. Rejects
 * with a clear message when the port refuses or the netns cannot be entered.
 */
export function portForward(netnsPath: string, port: number): Promise<Duplex> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new Error(`invalid port ${port}`));
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', 'socat', '-d', '-d', `-t${HALF_CLOSE_WAIT_S}`, 'STDIO', `TCP:127.0.0.1:${port}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let settled = false;
    let exited = false;
    let stderr = '';
    const fail = (msg: string) => {
      if (settled) return;
      settled = true;
      if (!exited) child.kill('SIGKILL');
      reject(new Error(`port forward to 127.0.0.1:${port} in ${netnsPath} failed: ${msg}`));
    };

    const duplex = new Duplex({
      allowHalfOpen: true,
      read() {
        child.stdout.resume();
      },
      write(chunk: Buffer, _enc, cb) {
        if (child.stdin.destroyed) return cb(new Error('port forward connection is closed'));
        child.stdin.write(chunk, (err) => cb(err ?? null));
      },
      final(cb) {
        if (exited || child.stdin.destroyed) return cb();
        child.stdin.end(() => cb());
      },
      destroy(err, cb) {
        if (!exited) child.kill('SIGKILL');
        child.stdin.destroy();
        child.stdout.destroy();
        cb(err);
      },
    });

    child.stdout.on('data', (b: Buffer) => {
      if (!duplex.push(b)) child.stdout.pause();
    });
    child.stdout.on('end', () => duplex.push(null));
    child.stdin.on('error', () => undefined); // EPIPE after the peer closed: the exit reports
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
      // the pod closed the connection: close socat's stdin so it exits now, not after -t
      if (settled && /socket 2 \(fd \d+\) is at EOF/.test(s) && !child.stdin.writableEnded) child.stdin.end();
      if (!settled && stderr.includes('starting data transfer loop')) {
        settled = true;
        resolve(duplex);
      }
    });
    child.on('error', (err) => {
      fail(err.message);
      duplex.destroy(err);
    });
    child.on('close', (code, signal) => {
      exited = true;
      if (!settled) {
        fail(explain(stderr) || `socat exited with ${code ?? signal}`);
        return;
      }
      if (duplex.destroyed) return;
      if (code !== 0 && signal === null) {
        duplex.destroy(new Error(`port forward to 127.0.0.1:${port} ended with an error: ${explain(stderr) || `exit ${code}`}`));
      } else if (!duplex.writableEnded) {
        duplex.end(); // the connection is over: finish the write side too so the Duplex closes
      }
    });
  });
}

/** The most telling error line socat or nsenter printed. */
function explain(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.filter((l) => / E /.test(l) || l.startsWith('nsenter:'));
  const line = (err.length ? err : lines).at(-1) ?? '';
  if (/Connection refused/i.test(line)) return `connection refused (nothing listens on that port in the pod): ${line}`;
  return line;
}
