/**
 * Worker thread of the watch fan-out bench: opens N watches over N keep-alive HTTPS
 * sockets and timestamps every event it receives (the event's resourceVersion and the
 * monotonic time in ms), on its own event loop so that the writer's timings stay clean.
 *
 * Protocol: workerData = {target, n, path}. Posts {type:'ready', established}; on
 * {cmd:'collect', lastRv} waits until every watch saw lastRv (or 5 s), closes everything
 * and posts {type:'result', rvs, times, perWatcher} (Float64Arrays).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { request, type Agent } from 'node:https';
import type { ClientRequest } from 'node:http';
import { agentFor, nowMs, type Target } from './client.js';

interface Init {
  target: Target;
  n: number;
  path: string;
}

const RV = /"resourceVersion":"(\d+)"/;

function main(): void {
  const { target, n, path } = workerData as Init;
  const agent: Agent = agentFor(target, n);
  const u = new URL(target.url);
  const rvs: number[] = [];
  const times: number[] = [];
  const lastSeen = new Float64Array(n);
  const reqs: ClientRequest[] = [];
  let established = 0;
  let failed = 0;
  let readySent = false;
  let waitingFor = Infinity;
  let onProgress: (() => void) | undefined;

  const maybeReady = (): void => {
    if (!readySent && established + failed === n) {
      readySent = true;
      parentPort!.postMessage({ type: 'ready', established, failed });
    }
  };

  for (let i = 0; i < n; i++) {
    const req = request({ host: u.hostname, port: u.port, path, agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        failed++;
        res.resume();
        maybeReady();
        return;
      }
      established++;
      maybeReady();
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const t = nowMs();
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = RV.exec(line);
          if (!m) continue;
          const rv = Number(m[1]);
          rvs.push(rv);
          times.push(t);
          if (rv > lastSeen[i]!) lastSeen[i] = rv;
        }
        if (lastSeen[i]! >= waitingFor) onProgress?.();
      });
      res.on('error', () => {});
    });
    req.on('error', () => {
      if (!readySent) {
        failed++;
        maybeReady();
      }
    });
    req.end();
    reqs.push(req);
  }

  parentPort!.on('message', (msg: { cmd: string; lastRv: number }) => {
    if (msg.cmd !== 'collect') return;
    waitingFor = msg.lastRv;
    const done = (): void => {
      onProgress = undefined;
      clearTimeout(timer);
      for (const r of reqs) r.destroy();
      agent.destroy();
      let complete = 0;
      for (let i = 0; i < n; i++) if (lastSeen[i]! >= waitingFor) complete++;
      parentPort!.postMessage({ type: 'result', rvs: Float64Array.from(rvs), times: Float64Array.from(times), complete });
    };
    const allSeen = (): boolean => {
      for (let i = 0; i < n; i++) if (lastSeen[i]! < waitingFor) return false;
      return true;
    };
    const timer = setTimeout(done, 5000);
    onProgress = () => {
      if (allSeen()) done();
    };
    if (allSeen()) done();
  });
}

main();
