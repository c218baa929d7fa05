/**
 * `apiserver_request_total` (upstream's name and labels: verb, group, version, resource,
 * subresource, scope, component, code): every resource request is counted in a plain Map as
 * its response finishes; prom-client is loaded only when /metrics is scraped, and then reads
 * the Map, so counting costs nothing to a server nobody scrapes.
 */
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { RequestInfo } from '../http/requestinfo.js';

const SEP = '\x00';
const LABELS = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'] as const;

/** Counts API requests by upstream's labels. */
export class RequestCounter {
  readonly #counts = new Map<string, number>();
  #registered = false;

  /** Counts `info` with the status `res` finished with (watches count when they end). */
  track(info: RequestInfo, res: ServerResponse): void {
    res.once('finish', () => this.add(info, res.statusCode));
    res.once('close', () => {
      if (!res.writableFinished) this.add(info, res.statusCode);
    });
  }

  /** Adds one request; the verb is upstream's upper-case form (LIST, WATCH, POST, PUT, PATCH...). */
  add(info: RequestInfo, code: number): void {
    const scope = info.name ? 'resource' : info.namespace ? 'namespace' : 'cluster';
    const key = [upstreamVerb(info.verb), info.group, info.version, info.resource, info.subresource, scope, 'apiserver', String(code)].join(SEP);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Counts by `verb resource[/subresource]` (tests and benches). */
  snapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, n] of this.#counts) {
      const [verb, , , resource, sub] = key.split(SEP);
      const k = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
      out.set(k, (out.get(k) ?? 0) + n);
    }
    return out;
  }

  /** Registers `apiserver_request_total` on `registry` (once); it reads the counts at each scrape. */
  async register(registry: Registry): Promise<void> {
    if (this.#registered) return;
    this.#registered = true;
    const { Counter } = await import('prom-client');
    const counts = this.#counts;
    new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, group, version, resource, subresource, scope, component, and HTTP response code.',
      labelNames: [...LABELS],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of counts) {
          const v = key.split(SEP);
          this.inc(Object.fromEntries(LABELS.map((l, i) => [l, v[i]!])), n);
        }
      },
    });
  }
}

/** Upstream's verb label: GET, LIST, WATCH, POST, PUT, PATCH, DELETE, DELETECOLLECTION... */
function upstreamVerb(verb: string): string {
  if (verb === 'create') return 'POST';
  if (verb === 'update') return 'PUT';
  return verb.toUpperCase();
}
