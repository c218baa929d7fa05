/**
 * The k8ts API server: HTTPS (or plain HTTP for in-process tests), authentication, health,
 * version, discovery, OpenAPI, and the generic REST handlers over one storage Backend.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../storage/backend.js';
import { ResourceRegistry, type RequestUser, type ResourceDef } from '../api/resource.js';
import { builtinResources } from '../api/builtin.js';
import { ApiError, badRequest, unauthorized } from '../apimachinery/errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../apimachinery/validation.js';
import { parseRequestInfo } from './http/requestinfo.js';
import { negotiate } from './http/negotiation.js';
import { writeError, writeObject } from './http/respond.js';
import { ObjectStore, type Clock } from './registry/store.js';
import { RestHandler, setRequestUser } from './rest/handler.js';
import { registerPodSubresources } from './rest/pods.js';
import { createStrategyContext, type AllocatorConfig } from './context.js';
import { aggregatedDiscovery, apiGroupListDoc, apiGroupOne, apiResourceListDoc, apiVersionsDoc } from './discovery.js';
import { bootstrapCluster } from './bootstrap.js';
import { createOpenAPIHandler } from './openapi/routes.js';
import { VERSION_INFO } from './version.js';
import { startEventTTL } from './eventttl.js';
import { QuotaAdmission, RuntimeClassAdmission, chainAdmit, runtimeClassLookup } from './admission/index.js';
import { RequestCounter } from './metrics/requests.js';
import { createNodeStreamer, createUpgradeHandler } from './nodeproxy.js';

/** Options of {@link startAPIServer}. */
export interface APIServerOptions {
  backend: Backend;
  /** Listen address (default 127.0.0.1). */
  bindAddress?: string;
  /** Listen port (default 6443; 0 picks a free one). */
  port?: number;
  /** TLS material; plain HTTP without it (tests, in-process use). */
  tls?: { cert: string; key: string; ca: string };
  /** Authenticates a request; undefined result means 401. Without it every request is allowed. */
  authenticate?: (req: IncomingMessage) => RequestUser | undefined;
  clock?: Clock;
  allocators?: Partial<AllocatorConfig>;
  /** Extra kinds to serve beyond the built-in ones. */
  extraResources?: ResourceDef[];
  /** Watch bookmark interval, ms (default 60 s). */
  bookmarkIntervalMs?: number;
  /** Start every watchable kind's watch cache once ready (default true); false: on first use. */
  eagerWatchCaches?: boolean;
  /** --event-ttl: Events are deleted this long after they last happened (default 1 h; 0 keeps them). */
  eventTTLMs?: number;
  /** Address clients should use (for the `kubernetes` Endpoints); default the bound address. */
  advertiseAddress?: string;
  /**
   * Client certificate, key and CA (PEM) for reaching kubelets: with it pods/log, exec,
   * attach, portforward and proxy are served (upgrades included); without, they answer 503.
   */
  kubeletClient?: { cert: string; key: string; ca: string };
}

/** A running API server. */
export interface APIServer {
  url: string;
  port: number;
  registry: ResourceRegistry;
  store: ObjectStore;
  rest: RestHandler;
  /** Resolves when bootstrap objects exist and /readyz answers ok. */
  ready: Promise<void>;
  /**
   * Serves `GET /debug/<name>` (authenticated) with the JSON `fn` returns: components of
   * the same process (the scheduler's queue) show their state there. Returns an unregister.
   */
  registerDebug(name: string, fn: () => unknown | Promise<unknown>): () => void;
  /** Requests served so far (`apiserver_request_total` on /metrics). */
  requests: RequestCounter;
  /** Deletes expired Events now (the sweeper also runs every minute); resolves to the count. */
  sweepEvents(): Promise<number>;
  close(): Promise<void>;
}

/** Handlers of /debug/<name> (see APIServer.registerDebug). */
type DebugHandlers = Map<string, () => unknown | Promise<unknown>>;

const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** Starts the API server and resolves once it listens (bootstrap continues; see `ready`). */
export async function startAPIServer(opts: APIServerOptions): Promise<APIServer> {
  const clock = opts.clock ?? { now: () => new Date() };
  const now = () => clock.now();
  const registry = new ResourceRegistry();
  const debug: DebugHandlers = new Map();
  const requests = new RequestCounter();
  for (const def of builtinResources()) registry.register(def);
  for (const def of opts.extraResources ?? []) registry.register(def);
  const allocCfg: AllocatorConfig = { serviceCIDR: opts.allocators?.serviceCIDR ?? '10.43.0.0/16', nodePortRange: opts.allocators?.nodePortRange ?? [30000, 32767] };
  let store!: ObjectStore;
  const strategyCtx = () => createStrategyContext(registry, store, opts.backend, allocCfg, now, (def) => rest.cacheFor(def));
  store = new ObjectStore(opts.backend, { validateObjectMeta, validateObjectMetaUpdate }, clock, strategyCtx);
  const rest = new RestHandler({ registry, store, now, bookmarkIntervalMs: opts.bookmarkIntervalMs });
  const nodeDef = registry.byResource('', 'nodes')!;
  const podDef = registry.byResource('', 'pods')!;
  const streamer = opts.kubeletClient
    ? createNodeStreamer({ getNode: (n) => store.get(nodeDef, '', n), clientCert: opts.kubeletClient.cert, clientKey: opts.kubeletClient.key, ca: opts.kubeletClient.ca })
    : undefined;
  registerPodSubresources(rest, store, now, streamer);
  const namespaces = registry.byResource('', 'namespaces')!;
  store.namespaceLookup = (name) => {
    const cache = rest.cacheFor(namespaces);
    return cache.isReady ? cache.getByKey(`/registry/core/namespaces/${name}`) : (void cache.ready().catch(() => undefined), undefined);
  };
  store.cachedObject = (def, key) => {
    const cache = rest.existingCache(def);
    return cache?.isReady ? cache.getByKey(key) : undefined;
  };
  const runtimeClass = new RuntimeClassAdmission({ getRuntimeClass: runtimeClassLookup(store, registry) });
  store.mutate = runtimeClass.admit;
  store.admit = chainAdmit(runtimeClass.validate, new QuotaAdmission({ registry, store, cacheFor: (def) => rest.cacheFor(def), now }).admit);
  const openapi = createOpenAPIHandler(registry);
  let isReady = false;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void serve(req, res).catch((e) => writeError(res, e, 'json'));
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      const raw = req.url ?? '/';
      url = new URL(`http://localhost${raw.startsWith('/') ? raw : `/${raw}`}`);
    } catch {
      throw badRequest(`invalid request URL`);
    }
    const path = url.pathname;
    if (path === '/healthz' || path === '/livez' || path === '/readyz' || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) {
      const ok = !path.startsWith('/readyz') || isReady;
      const verbose = url.searchParams.has('verbose');
      const body = verbose ? `[+]ping ok\n[${ok ? '+' : '-'}]etcd ok\n[${ok ? '+' : '-'}]poststarthook/bootstrap ${ok ? 'ok' : 'failed: not finished'}\n${path.slice(1).split('/')[0]} check ${ok ? 'passed' : 'failed'}\n` : ok ? 'ok' : 'not ready';
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      return;
    }
    // The CA a joining node fetches (and checks against its join token) before trusting us.
    if (path === '/cacerts' && opts.tls && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(opts.tls.ca) });
      res.end(opts.tls.ca);
      return;
    }
    if (opts.authenticate && !UNAUTHENTICATED_PATHS.has(path)) {
      const user = opts.authenticate(req);
      if (!user) throw unauthorized();
      setRequestUser(req, user);
    }
    if (path === '/version' || path === '/version/') return writeObject(res, 200, VERSION_INFO);
    if (path === '/metrics') {
      // Loaded on first scrape: prom-client is not needed to serve the API.
      const { controllerMetricsRegistry } = await import('../client/controller.js');
      await requests.register(controllerMetricsRegistry);
      const text = await controllerMetricsRegistry.metrics();
      res.writeHead(200, { 'Content-Type': controllerMetricsRegistry.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (path.startsWith('/debug/')) {
      const fn = debug.get(path.slice('/debug/'.length));
      if (!fn) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return writeObject(res, 200, await fn());
    }
    if (path.startsWith('/openapi/')) {
      if (openapi(req, res)) return;
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
    if (info.isResourceRequest) {
      requests.track(info, res);
      return rest.handle(req, res, info, url.searchParams);
    }
    return serveDiscovery(req, res, path);
  };

  const serveDiscovery = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const p = path.replace(/\/+$/, '') || '/';
    const rep = negotiate(req.headers.accept, { discovery: true });
    const send = (doc: unknown) => writeObject(res, 200, doc, rep.format);
    const aggregated = (core: boolean) => {
      const v = rep.discoveryVersion ?? 'v2';
      const doc = aggregatedDiscovery(registry, core, `apidiscovery.k8s.io/${v}`);
      const ct = `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
      writeObject(res, 200, doc, 'json', ct);
    };
    if (p === '/api') return rep.as === 'APIGroupDiscoveryList' ? aggregated(true) : send(apiVersionsDoc(`${bindAddress}:${port}`));
    if (p === '/apis') return rep.as === 'APIGroupDiscoveryList' ? aggregated(false) : send(apiGroupListDoc(registry));
    const parts = p.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceListDoc(registry, '', parts[1]!);
      if (doc) return send(doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroupOne(registry, parts[1]!);
      if (doc) return send(doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceListDoc(registry, parts[1]!, parts[2]!);
      if (doc) return send(doc);
    }
    if (p === '/') {
      return send({ paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/openapi/v2', '/openapi/v3', '/readyz', '/version'] });
    }
    writeError(res, new ApiError(404, 'NotFound', 'the server could not find the requested resource'), rep.format);
  };

  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false }, handler)
    : http.createServer(handler);
  server.requestTimeout = 0; // watches are long-lived
  // exec/attach/portforward arrive as WebSocket (or SPDY) upgrades, piped to the kubelet.
  if (streamer) server.on('upgrade', createUpgradeHandler({ authenticate: opts.authenticate, getPod: (ns, n) => store.get(podDef, ns, n), streamer }));
  // Malformed HTTP (unknown methods, bad headers): answer 400 and close, never crash.
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  const bindAddress = opts.bindAddress ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6443, bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress === '0.0.0.0' ? '127.0.0.1' : bindAddress;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;
  const ready = bootstrapCluster({ registry, store, advertiseAddress: opts.advertiseAddress ?? defaultAdvertiseAddress(bindAddress), port, serviceCIDR: allocCfg.serviceCIDR }).then(() => {
    isReady = true;
    // Watch caches of every watchable kind start now, as upstream's do at startup, so that
    // a watch from any resourceVersion a client saw after this point is served by the one
    // shared cache: a cache started later, on a first request, begins at the revision of that
    // moment, and watches from just before it (other kinds' writes moved the revision on)
    // would each need their own storage watch.
    for (const def of opts.eagerWatchCaches === false ? [] : registry.all()) {
      if (def.review || !(def.verbs ?? ['watch']).includes('watch')) continue;
      void rest.cacheFor(def).ready().catch(() => undefined);
    }
  });
  const eventTTL = opts.eventTTLMs === 0 ? undefined : startEventTTL({ registry, store, rest, ttlMs: opts.eventTTLMs });
  ready.catch((e) => console.error('k8ts apiserver: bootstrap failed:', e));
  return {
    url,
    port,
    registry,
    store,
    rest,
    ready,
    sweepEvents: () => eventTTL?.sweep() ?? Promise.resolve(0),
    requests,
    registerDebug(name, fn) {
      debug.set(name, fn);
      return () => {
        if (debug.get(name) === fn) debug.delete(name);
      };
    },
    async close() {
      eventTTL?.stop();
      rest.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The address the `kubernetes` Endpoints advertise: the bind address unless it is loopback
 * or unspecified (pods cannot reach those), else the machine's first non-internal IPv4.
 */
export function defaultAdvertiseAddress(bindAddress: string): string | undefined {
  if (!/^(127\.|0\.0\.0\.0$|::1?$|localhost$)/.test(bindAddress)) return bindAddress;
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}
