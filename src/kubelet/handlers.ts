/**
 * The actions shared by the kubelet's probes and lifecycle hooks (upstream pkg/probe and
 * pkg/kubelet/lifecycle): exec in the container, HTTP GET, TCP connect, gRPC health check and
 * sleep, each returning a result with upstream's messages (Go error texts included, e.g.
 * `Get "http://10.0.0.5:8080/healthz": dial tcp 10.0.0.5:8080: connect: connection refused`).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Container, ContainerPort, ExecAction, GRPCAction, HTTPGetAction, LifecycleHandler, Pod, Probe, TCPSocketAction } from 'kubernetes-types/core/v1.js';

/**
 * Outcome of one action. `warning` counts as success (upstream: a redirect to another host);
 * `unknown` means the action could not run at all (bad port name, runtime error): probes keep
 * their previous result.
 */
export type ActionResult = 'success' | 'failure' | 'warning' | 'unknown';

/** An action's outcome and its output (body, command output or the error message). */
export interface ActionOutcome { result: ActionResult; output: string }

/** Runs `cmd` in a container to completion (Runtime.execSync); rejects on runtime errors/timeouts. */
export type ExecSyncFn = (containerId: string, cmd: string[], timeoutSeconds: number) => Promise<{ exitCode: number; stdout: Buffer | string; stderr: Buffer | string }>;

/** What an action needs to know about its target. */
export interface ActionContext {
  container: Container;
  /** Runtime id of the container (for exec). */
  containerId: string;
  /** Default host for httpGet/tcpSocket/grpc. */
  podIP?: string;
  execSync?: ExecSyncFn;
  /** Time limit in milliseconds (probe timeoutSeconds * 1000; 0 = none). */
  timeoutMs: number;
  /** User-Agent product for HTTP/gRPC ('kube-probe' or 'kube-lifecycle'). */
  userAgent?: string;
}

/** Kubernetes minor version reported in the User-Agent. */
export const KUBE_VERSION = '1.32';
/** Upstream reads at most this much of an HTTP body or exec output. */
export const MAX_READ = 10 * 1024;
const MAX_REDIRECTS = 10;

/** Go's time.Duration String() for milliseconds (1s, 500ms, 1.5s, 2m0s). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${+(s - m * 60).toFixed(3)}s`;
}

/** host:port as Go's net.JoinHostPort writes it (brackets for IPv6). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The port number of an action: a number, a numeric string, or the name of one of the
 * container's ports. Throws `port NAME not found` / `invalid port number: N`.
 */
export function resolvePort(port: number | string | undefined, container: Container): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (port !== undefined && /^\d+$/.test(port)) n = Number(port);
  else {
    const p = (container.ports ?? []).find((x: ContainerPort) => x.name === port);
    if (!p) throw new Error(`port ${port ?? ''} not found`);
    n = p.containerPort;
  }
  if (!(n > 0 && n < 65536)) throw new Error(`invalid port number: ${n}`);
  return n;
}

/** A Node socket error in Go's words (`dial tcp H:P: connect: connection refused`). */
export function dialError(err: NodeJS.ErrnoException, hostPort: string, host: string): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${hostPort}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial tcp ${hostPort}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${hostPort}: connect: network is unreachable`;
    case 'ETIMEDOUT': return `dial tcp ${hostPort}: i/o timeout`;
    case 'ECONNRESET': return `read tcp ${hostPort}: read: connection reset by peer`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `dial tcp: lookup ${host}: no such host`;
    default: return err.message;
  }
}

/** Races `p` against a timer; resolves `onTimeout()` when the timer wins (ms 0 = no limit). */
function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  if (!(ms > 0)) return p;
  let t: NodeJS.Timeout;
  const timer = new Promise<T>((resolve) => { t = setTimeout(() => resolve(onTimeout()), ms); });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/** exec: exit 0 = success, else failure with the combined output; timeout = failure. */
export async function runExec(action: ExecAction, ctx: ActionContext): Promise<ActionOutcome> {
  const cmd = action.command ?? [];
  const timedOut = (): ActionOutcome => ({ result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` });
  if (!ctx.execSync) return { result: 'unknown', output: 'exec is not available' };
  const seconds = Math.max(1, Math.ceil(ctx.timeoutMs / 1000));
  const run = ctx.execSync(ctx.containerId, cmd, ctx.timeoutMs > 0 ? seconds : 0).then(
    (r): ActionOutcome => {
      const out = (Buffer.concat([Buffer.from(r.stdout), Buffer.from(r.stderr)]).subarray(0, MAX_READ)).toString('utf8');
      return { result: r.exitCode === 0 ? 'success' : 'failure', output: out };
    },
    (err: Error): ActionOutcome => (/timed out/i.test(err.message) ? timedOut() : { result: 'unknown', output: err.message }),
  );
  return withTimeout(run, ctx.timeoutMs, timedOut);
}

/** The URL an httpGet action requests (upstream formatURL: path may carry a query). */
export function httpGetURL(action: HTTPGetAction, ctx: ActionContext): URL {
  const host = action.host || ctx.podIP;
  if (!host) throw new Error('failed to find networking container for pod');
  const port = resolvePort(action.port, ctx.container);
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  let p = action.path ?? '';
  if (!p.startsWith('/')) p = `/${p}`;
  return new URL(`${scheme}://${joinHostPort(host, port)}${p}`);
}

/** Headers of a probe/hook request: User-Agent and Accept defaults, then the action's headers. */
function requestHeaders(action: HTTPGetAction, userAgent: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const h of action.httpHeaders ?? []) {
    const k = h.name.toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? h.value : [...(Array.isArray(prev) ? prev : [prev]), h.value];
  }
  out['user-agent'] ??= `${userAgent}/${KUBE_VERSION}`;
  out['accept'] ??= '*/*';
  return out;
}

/** One GET; rejects with Go-like messages (without the `Get "url": ` prefix). */
function getOnce(u: URL, headers: Record<string, string | string[]>, deadline: number, signal?: AbortSignal): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = u.protocol === 'https:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || (secure ? 443 : 80));
    const hostPort = joinHostPort(host, port);
    let phase: 'headers' | 'body' = 'headers';
    let settled = false;
    const finish = (fn: () => void) => { if (!settled) { settled = true; clearTimeout(timer); fn(); } };
    const opts: https.RequestOptions = { method: 'GET', host, port, path: u.pathname + u.search, headers, agent: false };
    if (secure) {
      opts.rejectUnauthorized = false;
      if (!net.isIP(host)) opts.servername = host;
    }
    const req = (secure ? https : http).request(opts, (res) => {
      phase = 'body';
      const chunks: Buffer[] = [];
      let n = 0;
      const done = () => finish(() => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('data', (c: Buffer) => {
        if (n < MAX_READ) chunks.push(c.subarray(0, MAX_READ - n));
        n += c.length;
        if (n >= MAX_READ) { done(); res.destroy(); }
      });
      res.on('end', done);
      res.on('error', (e) => finish(() => reject(e)));
    });
    const timer = setTimeout(() => {
      const msg = phase === 'headers' ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' : 'context deadline exceeded (Client.Timeout or context cancellation while reading body)';
      finish(() => reject(new Error(msg)));
      req.destroy();
    }, Math.max(0, deadline - Date.now()));
    req.on('error', (e: NodeJS.ErrnoException) => finish(() => {
      if (secure && (e.code === 'EPROTO' || /wrong version number|packet length too long/i.test(e.message))) reject(new Error('http: server gave HTTP response to HTTPS client'));
      else reject(new Error(dialError(e, hostPort, host)));
    }));
    signal?.addEventListener('abort', () => { finish(() => reject(new Error('context canceled'))); req.destroy(); }, { once: true });
    req.end();
  });
}

/** GETs the action's URL following same-host redirects; `error` is the Go-like transport error. */
async function fetchAction(action: HTTPGetAction, ctx: ActionContext, signal?: AbortSignal): Promise<{ status: number; body: string } | { error: string }> {
  const url0 = httpGetURL(action, ctx);
  let url = url0;
  const headers = requestHeaders(action, ctx.userAgent ?? 'kube-probe');
  const deadline = ctx.timeoutMs > 0 ? Date.now() + ctx.timeoutMs : Date.now() + 2 ** 31 - 1;
  for (let redirects = 0; ; redirects++) {
    let res;
    try {
      res = await getOnce(url, headers, deadline, signal);
    } catch (err) {
      return { error: `Get ${JSON.stringify(url.href)}: ${(err as Error).message}` };
    }
    if ([301, 302, 303, 307, 308].includes(res.status) && res.location) {
      const next = new URL(res.location, url);
      if (next.hostname === url0.hostname && (next.protocol === 'http:' || next.protocol === 'https:')) {
        if (redirects + 1 >= MAX_REDIRECTS) return { error: `Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects` };
        url = next;
        continue;
      }
    }
    return res;
  }
}

/**
 * httpGet: 200 <= code < 400 = success; same-host redirects (301/302/303/307/308) are
 * followed up to 10 times; a redirect to another host stops there and is a `warning`
 * (`Probe terminated redirects, Response body: ...`); transport errors are failures.
 */
export async function runHttpGet(action: HTTPGetAction, ctx: ActionContext): Promise<ActionOutcome> {
  let res;
  try {
    res = await fetchAction(action, ctx);
  } catch (err) {
    return { result: 'unknown', output: (err as Error).message };
  }
  if ('error' in res) return { result: 'failure', output: res.error };
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { result: 'success', output: res.body };
  }
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}

/** tcpSocket: success when a connection to host:port opens within the timeout. */
export function runTcpSocket(action: TCPSocketAction, ctx: ActionContext): Promise<ActionOutcome> {
  let port: number;
  const host = action.host || ctx.podIP;
  try {
    port = resolvePort(action.port, ctx.container);
    if (!host) throw new Error('failed to find networking container for pod');
  } catch (err) {
    return Promise.resolve({ result: 'unknown', output: (err as Error).message });
  }
  const hostPort = joinHostPort(host, port);
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = ctx.timeoutMs > 0 ? setTimeout(() => done({ result: 'failure', output: `dial tcp ${hostPort}: i/o timeout` }), ctx.timeoutMs) : undefined;
    const done = (r: ActionOutcome) => { clearTimeout(timer); sock.destroy(); resolve(r); };
    sock.once('connect', () => done({ result: 'success', output: '' }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ result: 'failure', output: dialError(e, hostPort, host) }));
  });
}

// --- gRPC health checking protocol (grpc.health.v1), hand-encoded protobuf ---

/** grpc.health.v1.HealthCheckResponse.ServingStatus names by number. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

/** Reads a protobuf message's varint and length-delimited fields as field number -> value. */
function readFields(buf: Buffer): Map<number, number | Buffer> {
  const out = new Map<number, number | Buffer>();
  let i = 0;
  const rv = (): number => {
    let v = 0, mul = 1;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated protobuf');
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = rv(), field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) out.set(field, rv());
    else if (wire === 2) { const n = rv(); out.set(field, buf.subarray(i, i + n)); i += n; }
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Encodes HealthCheckRequest {string service = 1}. */
export function encodeHealthRequest(req: { service?: string }): Buffer {
  if (!req.service) return Buffer.alloc(0);
  const s = Buffer.from(req.service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
}

/** Decodes HealthCheckRequest. */
export function decodeHealthRequest(buf: Buffer): { service: string } {
  const v = readFields(buf).get(1);
  return { service: Buffer.isBuffer(v) ? v.toString('utf8') : '' };
}

/** Encodes HealthCheckResponse {ServingStatus status = 1}. */
export function encodeHealthResponse(res: { status: number }): Buffer {
  return res.status ? Buffer.from([0x08, ...varint(res.status)]) : Buffer.alloc(0);
}

/** Decodes HealthCheckResponse. */
export function decodeHealthResponse(buf: Buffer): { status: number } {
  const v = readFields(buf).get(1);
  return { status: typeof v === 'number' ? v : 0 };
}

/** The grpc.health.v1.Health service definition (Check only) for clients and test servers. */
export const healthServiceDefinition: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeHealthRequest,
    requestDeserialize: decodeHealthRequest,
    responseSerialize: encodeHealthResponse,
    responseDeserialize: decodeHealthResponse,
    originalName: 'check',
  },
};

const HealthClient = grpc.makeGenericClientConstructor(healthServiceDefinition, 'Health');

/**
 * grpc: calls grpc.health.v1.Health/Check on podIP:port with probe.grpc.service; SERVING =
 * success. Messages follow upstream (`timeout: failed to connect service "H:P" within 1s: ...`,
 * `service unhealthy (responded with "NOT_SERVING")`, unimplemented health protocol, ...).
 */
export function runGrpc(action: GRPCAction, ctx: ActionContext): Promise<ActionOutcome> {
  const host = ctx.podIP;
  if (!host) return Promise.resolve({ result: 'unknown', output: 'failed to find networking container for pod' });
  if (!(action.port > 0 && action.port < 65536)) return Promise.resolve({ result: 'unknown', output: `invalid port number: ${action.port}` });
  const addr = joinHostPort(host, action.port);
  const timeoutMs = ctx.timeoutMs > 0 ? ctx.timeoutMs : 1000;
  const dur = goDuration(timeoutMs);
  const client = new HealthClient(addr, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': `${ctx.userAgent ?? 'kube-probe'}/${KUBE_VERSION}` });
  const deadline = Date.now() + timeoutMs;
  return new Promise<ActionOutcome>((resolve) => {
    client.waitForReady(deadline, (err?: Error) => {
      if (err) return resolve({ result: 'failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${dur}: context deadline exceeded` });
      const check = client['Check'] as (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: number }) => void) => void;
      check.call(client, { service: action.service ?? '' }, new grpc.Metadata(), { deadline }, (e, r) => {
        if (e) {
          if (e.code === grpc.status.UNIMPLEMENTED) return resolve({ result: 'failure', output: `error: this server doesn't implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` });
          if (e.code === grpc.status.DEADLINE_EXCEEDED) return resolve({ result: 'failure', output: `timeout: health rpc did not complete within ${dur}` });
          const code = (grpc.status[e.code] ?? String(e.code)).toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
          return resolve({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${code} desc = ${e.details}` });
        }
        const st = r?.status ?? 0;
        if (st !== 1) return resolve({ result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[st] ?? String(st))})` });
        resolve({ result: 'success', output: 'service is serving' });
      });
    });
  }).finally(() => client.close());
}

/** Runs the probe's action (exec, httpGet, tcpSocket or grpc). */
export function runProbeAction(probe: Probe, ctx: ActionContext): Promise<ActionOutcome> {
  if (probe.exec) return runExec(probe.exec, ctx);
  if (probe.httpGet) return runHttpGet(probe.httpGet, ctx);
  if (probe.tcpSocket) return runTcpSocket(probe.tcpSocket, ctx);
  if (probe.grpc) return runGrpc(probe.grpc, ctx);
  return Promise.resolve({ result: 'unknown', output: 'missing probe handler' });
}

/** Sleeps `ms`, ending early (resolving false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(t); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}


// --- lifecycle hooks (upstream pkg/kubelet/lifecycle/handlers.go) ---

/** Event reasons and the waiting reason of the lifecycle hooks. */
export const FAILED_POST_START_HOOK = 'FailedPostStartHook';
export const FAILED_PRE_STOP_HOOK = 'FailedPreStopHook';
/** Waiting reason of a container killed because its postStart hook failed. */
export const POST_START_HOOK_ERROR = 'PostStartHookError';
/** Upstream never stops a container with less than this grace period after its preStop hook. */
export const MIN_GRACE_SECONDS = 2;

/** What a lifecycle hook needs. */
export interface HookContext {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP?: string;
  execSync?: ExecSyncFn;
  /** Abandons the hook (preStop: the grace period ran out). */
  signal?: AbortSignal;
}

/** A hook's outcome; when !ok, `message` is the FailedPostStartHook / FailedPreStopHook event message. */
export interface HookOutcome { ok: boolean; message: string }

/** A pod as upstream's format.Pod writes it: name_namespace(uid). */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/** Resolves `p`, or `onAbort()` once `signal` aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort: () => T): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(onAbort());
  return Promise.race([p, new Promise<T>((resolve) => signal.addEventListener('abort', () => resolve(onAbort()), { once: true }))]);
}

/**
 * Runs a postStart or preStop handler: exec (no time limit; exit != 0 fails), httpGet (only a
 * transport error fails; status codes are ignored, as upstream), sleep. tcpSocket is not
 * supported for hooks (the API says hooks fail at runtime with it), so it fails like upstream.
 */
export async function runHook(handler: LifecycleHandler, ctx: HookContext): Promise<HookOutcome> {
  const who = `for Container ${JSON.stringify(ctx.container.name)} in Pod ${JSON.stringify(formatPod(ctx.pod))}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    const fail = (error: string, out: string): HookOutcome => ({ ok: false, message: `Exec lifecycle hook ([${cmd.join(' ')}]) ${who} failed - error: ${error}, message: ${JSON.stringify(out)}` });
    if (!ctx.execSync) return fail('exec is not available', '');
    const run = ctx.execSync(ctx.containerId, cmd, 0).then((r) => {
      if (r.exitCode === 0) return { ok: true, message: '' };
      const stderr = Buffer.from(r.stderr).toString('utf8');
      const out = Buffer.concat([Buffer.from(r.stdout), Buffer.from(r.stderr)]).subarray(0, MAX_READ).toString('utf8');
      return fail(`command '${cmd.join(' ')}' exited with ${r.exitCode}: ${stderr}`, out);
    }, (err: Error) => fail(err.message, ''));
    return abortable(run, ctx.signal, () => fail('context canceled', ''));
  }
  if (handler.httpGet) {
    const fail = (error: string): HookOutcome => ({ ok: false, message: `HTTP lifecycle hook (${handler.httpGet!.path ?? ''}) ${who} failed - error: ${error}` });
    try {
      const res = await fetchAction(handler.httpGet, { container: ctx.container, containerId: ctx.containerId, podIP: ctx.podIP, timeoutMs: 0, userAgent: 'kube-lifecycle' }, ctx.signal);
      return 'error' in res ? fail(res.error) : { ok: true, message: '' };
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  if (handler.sleep) {
    await sleep((handler.sleep.seconds ?? 0) * 1000, ctx.signal);
    return { ok: true, message: '' };
  }
  const what = handler.tcpSocket ? 'tcpSocket is not supported as a lifecycle handler' : 'no action';
  return { ok: false, message: `Cannot run handler: invalid handler: ${what}` };
}

/** Outcome of a preStop hook: the hook's outcome and the grace period left for the stop signal. */
export interface PreStopOutcome extends HookOutcome {
  /** Seconds to pass to stopContainer: grace minus the hook's whole seconds, at least 2. */
  remainingGraceSeconds: number;
  /** False when the hook was abandoned because the grace period ran out. */
  completed: boolean;
}

/**
 * Runs a preStop hook before the stop signal: it gets at most `gracePeriodSeconds`, and its
 * duration is taken from the grace period (upstream killContainer; never below 2 s after a
 * hook). A failure is reported (FailedPreStopHook) but the container is stopped anyway; a
 * grace period <= 0 skips the hook.
 */
export async function runPreStop(handler: LifecycleHandler, ctx: HookContext, gracePeriodSeconds: number): Promise<PreStopOutcome> {
  // upstream runs the hook only with a positive grace period (not on a forced, immediate kill)
  if (!(gracePeriodSeconds > 0)) return { ok: true, message: '', remainingGraceSeconds: Math.max(0, gracePeriodSeconds), completed: false };
  const start = Date.now();
  const ac = new AbortController();
  const onOuter = () => ac.abort();
  ctx.signal?.addEventListener('abort', onOuter, { once: true });
  const timer = setTimeout(() => ac.abort(), Math.max(0, gracePeriodSeconds) * 1000);
  try {
    const out = await runHook(handler, { ...ctx, signal: ac.signal });
    const completed = !ac.signal.aborted;
    const elapsed = Math.floor((Date.now() - start) / 1000);
    const remainingGraceSeconds = Math.max(MIN_GRACE_SECONDS, gracePeriodSeconds - (completed ? elapsed : gracePeriodSeconds));
    return completed ? { ...out, remainingGraceSeconds, completed } : { ok: true, message: 'PreStop hook not completed in grace period', remainingGraceSeconds, completed };
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onOuter);
  }
}

/** What {@link HookRunner.run} takes: the kubelet's hook context, optionally with the pod IP and an abort signal. */
export interface HookRunContext { pod: Pod; container: Container; containerId: string; podIP?: string; signal?: AbortSignal }

/**
 * The kubelet's hook runner (KubeletHooks): {@link runHook} with the runtime's exec; httpGet
 * hooks default to ctx.podIP, else `podIP(pod)`, else pod.status.podIP.
 */
export class HookRunner {
  constructor(private readonly o: { execSync: ExecSyncFn; podIP?: (pod: Pod) => string | undefined }) {}

  /** Runs one postStart/preStop handler; never throws. */
  run(handler: LifecycleHandler, ctx: HookRunContext): Promise<HookOutcome> {
    const podIP = ctx.podIP ?? this.o.podIP?.(ctx.pod) ?? ctx.pod.status?.podIP;
    return runHook(handler, { ...ctx, podIP, execSync: this.o.execSync }).catch((err: Error) => ({ ok: false, message: `Cannot run handler: ${err.message}` }));
  }
}
