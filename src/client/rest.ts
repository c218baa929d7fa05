/**
 * A small REST client for the Kubernetes API: typed CRUD helpers addressed by
 * group/version/resource, Status errors thrown as ApiError, retries for 429 and
 * connection failures, a client-side token-bucket rate limit and streaming watches.
 */
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import { ApiError, type Status } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import { readKubeconfig } from '../apiserver/auth/kubeconfig.js';

/** Addresses a resource collection: `{group:'', version:'v1', resource:'pods', namespace:'default'}`. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
}

/** Connection settings of a {@link RestClient}. */
export interface RestClientOptions {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** Client-side rate limit, requests per second (default 5; 0 disables). */
  qps?: number;
  /** Token-bucket size (default 10). */
  burst?: number;
  /** Retries for 429 and connection errors on idempotent verbs (default 5). */
  maxRetries?: number;
  /** Backoff cap between retries, ms (default 5000). */
  maxBackoffMs?: number;
  /**
   * Connections for ordinary requests (default 32); more requests queue for a free one.
   * Watches have their own connections, never limited.
   */
  maxConnections?: number;
}

/** Query parameters of a list. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

/** Query parameters of a watch. */
export interface WatchOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  /** `NotOlderThan` with sendInitialEvents (watch-list). */
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One decoded watch event (object is a Status for ERROR). */
export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A list answer. */
export interface ObjectList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Patch flavours and their content types. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';
const PATCH_CT: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** A token bucket: `take()` resolves when a token is available. qps <= 0 never waits. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly qps: number, readonly burst: number) {
    this.tokens = burst;
  }
  /** Waits for one token (requests are served in call order). */
  take(): Promise<void> {
    if (this.qps <= 0) return Promise.resolve();
    const next = this.chain.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        const waitMs = ((1 - this.tokens) / this.qps) * 1000;
        await new Promise((r) => setTimeout(r, waitMs));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    this.chain = next;
    return next;
  }
}

/** The path of a collection (or of one object when `name` is given, plus an optional subresource). */
export function resourcePath(ref: ResourceRef, name?: string, subresource?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  let p = `${base}${ns}/${ref.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Decodes a non-2xx body into an ApiError (a Status when it is one, else a generic error). */
export function errorFromResponse(code: number, body: string): ApiError {
  try {
    const s = JSON.parse(body) as Partial<Status>;
    if (s && s.kind === 'Status') return new ApiError(s.code ?? code, s.reason ?? '', s.message ?? '', s.details);
  } catch {
    /* not JSON */
  }
  const reason = code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : code === 429 ? 'TooManyRequests' : code >= 500 ? 'InternalError' : '';
  return new ApiError(code, reason, body || `HTTP ${code}`);
}

/** A REST client for one API server. Keep-alive connections; call close() when done. */
export class RestClient {
  readonly server: URL;
  private readonly agent: http.Agent;
  private readonly watchAgent: http.Agent;
  private readonly limiter: TokenBucket;
  private readonly maxRetries: number;
  private readonly maxBackoffMs: number;
  /** Requests sent, by verb (diagnostics and tests). */
  readonly requestCounts = new Map<string, number>();

  constructor(private readonly opts: RestClientOptions) {
    this.server = new URL(opts.server);
    const tls = this.server.protocol === 'https:';
    // One TLS context for every connection (an agent otherwise parses the certificates per connection).
    const secureContext = tls ? createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key }) : undefined;
    const agentFor = (maxSockets: number) =>
      tls
        ? new https.Agent({ keepAlive: true, maxSockets, secureContext, rejectUnauthorized: !opts.insecureSkipTLSVerify })
        : new http.Agent({ keepAlive: true, maxSockets });
    this.agent = agentFor(opts.maxConnections ?? 32);
    this.watchAgent = agentFor(Infinity);
    this.limiter = new TokenBucket(opts.qps ?? 5, opts.burst ?? 10);
    this.maxRetries = opts.maxRetries ?? 5;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
  }

  /** Builds a client from the current context of the kubeconfig at `path`. */
  static async fromKubeconfig(path: string, extra: Partial<RestClientOptions> = {}): Promise<RestClient> {
    return new RestClient({ ...(await RestClient.optionsFromKubeconfig(path)), ...extra });
  }

  /** The connection settings of the current context of the kubeconfig at `path`. */
  static async optionsFromKubeconfig(path: string): Promise<RestClientOptions> {
    const kc = await readKubeconfig(path);
    return {
      server: kc.server,
      ca: kc.caPem,
      cert: kc.clientCertPem,
      key: kc.clientKeyPem,
      token: kc.token,
      insecureSkipTLSVerify: kc.insecureSkipTLSVerify,
    };
  }

  /** Releases pooled connections. */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  private raw(method: string, path: string, body?: string, contentType?: string, signal?: AbortSignal, agent = this.agent): Promise<http.IncomingMessage> {
    const mod = this.server.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.opts.token) headers['Authorization'] = `Bearer ${this.opts.token}`;
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = mod.request(
        { protocol: this.server.protocol, hostname: this.server.hostname, port: this.server.port, path, method, headers, agent, signal },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Sends one request and returns the decoded JSON answer. Non-2xx answers throw ApiError.
   * 429 and connection errors are retried (429 for every verb, connection errors for idempotent ones).
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const idempotent = method === 'GET' || method === 'PUT' || method === 'DELETE' || method === 'HEAD';
    for (let attempt = 0; ; attempt++) {
      await this.limiter.take();
      this.requestCounts.set(method, (this.requestCounts.get(method) ?? 0) + 1);
      const backoff = Math.min(this.maxBackoffMs, 100 * 2 ** attempt);
      let res: http.IncomingMessage;
      try {
        res = await this.raw(method, path, payload, contentType);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (idempotent && RETRYABLE_CODES.has(code) && attempt < this.maxRetries) {
          await sleep(backoff);
          continue;
        }
        throw err;
      }
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
      if (status === 429 && attempt < this.maxRetries) {
        const ra = Number(res.headers['retry-after']);
        await sleep(Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, this.maxBackoffMs) : backoff);
        continue;
      }
      throw errorFromResponse(status, text);
    }
  }

  /** GET one object. */
  get<T = KubeObject>(ref: ResourceRef, name: string, subresource?: string): Promise<T> {
    return this.request<T>('GET', resourcePath(ref, name, subresource));
  }

  /** LIST a collection (namespace from `ref`, all namespaces when absent). */
  list<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', resourcePath(ref) + query({ ...opts }));
  }

  /** POST a new object. */
  create<T = KubeObject>(ref: ResourceRef, obj: unknown): Promise<T> {
    return this.request<T>('POST', resourcePath(ref), obj);
  }

  /** PUT an object (optimistic concurrency through metadata.resourceVersion: 409 Conflict when stale). */
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T> {
    return this.request<T>('PUT', resourcePath(ref, obj.metadata.name!, subresource), obj);
  }

  /** PATCH an object with the given patch flavour (default merge patch). */
  patch<T = KubeObject>(ref: ResourceRef, name: string, patch: unknown, type: PatchType = 'merge', subresource?: string, params: Record<string, string> = {}): Promise<T> {
    return this.request<T>('PATCH', resourcePath(ref, name, subresource) + query(params), typeof patch === 'string' ? patch : JSON.stringify(patch), PATCH_CT[type]);
  }

  /** DELETE an object; answers the deleted object or a Status. */
  delete<T = unknown>(ref: ResourceRef, name: string, opts: { propagationPolicy?: string; gracePeriodSeconds?: number } = {}): Promise<T> {
    const body = Object.keys(opts).length ? { kind: 'DeleteOptions', apiVersion: 'v1', ...opts } : undefined;
    return this.request<T>('DELETE', resourcePath(ref, name), body);
  }

  /**
   * Streams a watch on `ref`: calls `onEvent` for each newline-delimited event. Resolves when
   * the server ends the stream or `signal` aborts; rejects with ApiError on a non-2xx answer.
   */
  async watch(ref: ResourceRef | string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    const base = typeof ref === 'string' ? ref : resourcePath(ref);
    const path = base + query({ watch: 'true', ...opts });
    if (signal?.aborted) return;
    await this.limiter.take();
    this.requestCounts.set('WATCH', (this.requestCounts.get('WATCH') ?? 0) + 1);
    let res: http.IncomingMessage;
    try {
      res = await this.raw('GET', path, undefined, undefined, signal, this.watchAgent);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw errorFromResponse(status, Buffer.concat(chunks).toString('utf8'));
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent);
          if (signal?.aborted) return;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }
}
