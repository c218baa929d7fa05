/**
 * A thin list-and-watch of pods for the simulator: unlike a SharedInformer it keeps no cache
 * of full objects (the pod simulator keeps a compact record per pod), so 100k pods cost
 * tens of MB instead of hundreds. Resumes watches from the last resourceVersion; relists on
 * 410 Gone and reports which pods vanished meanwhile.
 */
import { ApiError, type Status } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import { isGone } from '../client/reflector.js';
import type { RestClient, WatchEvent } from '../client/rest.js';

/** Receives pod changes. `resynced` follows a relist with the uids it returned. */
export interface PodWatchHandler {
  upsert(pod: KubeObject): void;
  remove(pod: KubeObject): void;
  resynced(uids: Set<string>): void;
}

const PODS = { group: '', version: 'v1', resource: 'pods' };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Lists and watches every pod until stopped; `synced` resolves after the first list. */
export class PodWatch {
  private rv = '';
  private syncedResolve!: () => void;
  /** Resolves once the first list was handed to the handler. */
  readonly synced = new Promise<void>((r) => (this.syncedResolve = r));
  /** Counters (diagnostics). */
  lists = 0;
  events = 0;

  constructor(private readonly client: RestClient, private readonly h: PodWatchHandler, private readonly pageSize = 1000) {}

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal, report: (what: string, err: unknown) => void): Promise<void> {
    let needList = true;
    let backoff = 200;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list();
          needList = false;
          this.syncedResolve();
        }
        const t0 = Date.now();
        const before = this.events;
        await this.client.watch(PODS, { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) }, (ev) => this.apply(ev), signal);
        if (this.events === before && Date.now() - t0 < 1000) {
          await sleep(backoff, signal);
          backoff = Math.min(10_000, backoff * 2);
        } else backoff = 200;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          needList = true;
          continue;
        }
        report('pod watch', err);
        await sleep(backoff, signal);
        backoff = Math.min(10_000, backoff * 2);
      }
    }
  }

  private async list(): Promise<void> {
    this.lists++;
    const uids = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list(PODS, { limit: this.pageSize, continue: cont });
      for (const p of page.items) {
        if (p.metadata?.uid) uids.add(p.metadata.uid);
        this.h.upsert(p);
      }
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.rv = rv;
    this.h.resynced(uids);
  }

  private apply(ev: WatchEvent): void {
    if (ev.type === 'ERROR') {
      const s = ev.object as unknown as Status;
      throw new ApiError(s.code ?? 500, s.reason ?? '', s.message ?? 'watch error', s.details);
    }
    this.events++;
    const rv = ev.object?.metadata?.resourceVersion;
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.h.upsert(ev.object);
    else if (ev.type === 'DELETED') this.h.remove(ev.object);
    if (rv) this.rv = rv;
  }
}
