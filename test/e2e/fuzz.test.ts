/**
 * Seeded fuzzing of a real `k8ts server` process: after recording a known set of objects,
 * a few thousand malformed or random requests (garbage bodies, truncated and deeply nested
 * JSON, huge numbers, wrong types in every field, odd Content-Types, garbage query
 * parameters, random paths and methods, bad patches, `__proto__` keys). Then: no 5xx
 * (except where upstream answers one), the server is alive and ready, every recorded
 * object is unchanged, and nothing was polluted. K8TS_FUZZ_SEED / K8TS_FUZZ_COUNT override
 * the seed (default 0x5eed) and the number of requests (default 3000).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { startServer, type TestServer } from '../util/cluster.js';
import { credsOf, requestOptions, type Creds } from '../util/http.js';

const SEED = Number(process.env['K8TS_FUZZ_SEED'] ?? 0x5eed);
const COUNT = Number(process.env['K8TS_FUZZ_COUNT'] ?? 3000);
const BUDGET_MS = 45_000;
const CONCURRENCY = 6;
const KEEP = 'fz-keep';
const PLAY = 'fz-play';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const chance = (p: number): boolean => rnd() < p;
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
const printable = (n: number, alphabet = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'): string => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sent last (may be heavy, e.g. deep nesting), so a crash there hides nothing else. */
  heavy?: boolean;
  gen: string;
}
interface Res {
  status?: number;
  text: string;
  error?: string;
  contentType?: string;
}

// ---- valid templates, mutated by the generators ----------------------------------------
const cm = (name: string): any => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'fz' }, annotations: { note: 'x' } }, data: { a: '1', b: 'two' } });
const pod = (name: string): any => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'fz' } },
  spec: {
    containers: [{ name: 'c', image: 'nginx:1.27', command: ['sh', '-c'], args: ['sleep 1'], env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '100m', memory: '64Mi' } }, volumeMounts: [{ name: 'v', mountPath: '/v' }], readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 5 } }],
    volumes: [{ name: 'v', emptyDir: {} }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, nodeSelector: { k: 'v' },
    tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
  },
});
const deploy = (name: string): any => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
  spec: {
    replicas: 2, selector: { matchLabels: { app: name } }, revisionHistoryLimit: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'X', value: 'y' }] }] } },
  },
});
const svc = (name: string): any => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], type: 'ClusterIP' } });

const KINDS = [
  { make: cm, coll: (ns: string) => `/api/v1/namespaces/${ns}/configmaps` },
  { make: pod, coll: (ns: string) => `/api/v1/namespaces/${ns}/pods` },
  { make: deploy, coll: (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments` },
  { make: svc, coll: (ns: string) => `/api/v1/namespaces/${ns}/services` },
];
/** The recorded objects: path -> the template they were created from. */
const RECORDED: Record<string, any> = {
  [`/api/v1/namespaces/${KEEP}`]: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KEEP, labels: { keep: 'yes' } } },
  [`/api/v1/namespaces/${KEEP}/configmaps/cm-a`]: cm('cm-a'),
  [`/api/v1/namespaces/${KEEP}/configmaps/cm-b`]: { ...cm('cm-b'), data: { big: 'y'.repeat(5000) } },
  [`/apis/apps/v1/namespaces/${KEEP}/deployments/web`]: deploy('web'),
  [`/api/v1/namespaces/${KEEP}/services/svc`]: svc('svc'),
};
const KEEP_PATHS = Object.keys(RECORDED).filter((p) => p.includes('/configmaps/') || p.includes('/deployments/') || p.includes('/services/'));

/** Every path inside a JSON value (root excluded). */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const out: (string | number)[][] = [];
  for (const [k, c] of Object.entries(v)) {
    const p = [...at, Array.isArray(v) ? Number(k) : k];
    out.push(p, ...pathsOf(c, p));
  }
  return out;
}
function setAt(obj: any, path: (string | number)[], value: unknown): any {
  const copy = structuredClone(obj);
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k];
  cur[path[path.length - 1]!] = value;
  return copy;
}
function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}
/** A value of another JSON type than `orig`; never null when `noNull`. */
function wrongValue(orig: unknown, noNull: boolean): unknown {
  const options: unknown[] = ['fuzz', 12345, -1.5, true, [1, 'x'], { k: { n: 1 } }, 1e300, ''];
  if (!noNull) options.push(null);
  const others = options.filter((o) => kindOf(o) !== kindOf(orig));
  return pick(others);
}

const HUGE = ['1e400', '-1e400', '99999999999999999999', '2147483648', '-2147483649', '9007199254740993', '1.5', '-0', '1e-400', '0.0000001', '123456789012345678901234567890'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const CONTENT_TYPES = [
  'application/json', 'application/yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
  'application/apply-patch+yaml', 'application/vnd.kubernetes.protobuf', 'application/vnd.kubernetes.protobuf;stream=watch', 'text/plain', 'application/xml',
  'multipart/form-data; boundary=zz', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', '*/*', ';;;==', 'application/', 'x'.repeat(300),
];
const ACCEPTS = ['application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json', 'application/vnd.kubernetes.protobuf', 'application/yaml', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', 'text/html', '*/*;q=0', 'application/json;q=abc', ';;,,', 'application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io'];
const GARBAGE_SELECTORS = ['=', '!', 'a=b=c', 'a in (', 'a notin ()', '!!a', 'a,,b', '(', 'a==', 'x'.repeat(400), 'a in (b,c', 'app=fz,', 'key!=', '=value', 'a b', '%%', 'metadata.name=', 'spec.nodeName==x,y', 'status.phase!=', 'foo.bar=baz', 'a=' + 'b'.repeat(64)];
const QUERY_VALUES = ['-1', '0', 'abc', '', '1e309', '99999999999999999999', '1.5', ' 1', 'true', 'null', '%00', 'All', 'Exact', 'NotOlderThan', 'Strict', 'x'.repeat(200)];
const QUERY_KEYS = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'watch', 'allowWatchBookmarks', 'sendInitialEvents', 'includeObject', 'pretty', 'fieldManager', 'fieldValidation', 'dryRun', 'force', 'gracePeriodSeconds', 'propagationPolicy', 'orphanDependents', 'container', 'follow', 'tailLines'];
const SEGMENTS = ['api', 'apis', 'v1', 'apps', 'batch', 'namespaces', PLAY, 'fz-rand', 'configmaps', 'pods', 'deployments', 'services', 'secrets', 'nodes', 'status', 'scale', 'log', 'exec', 'attach', 'portforward', 'proxy', 'binding', 'eviction', 'ephemeralcontainers', 'watch', 'openapi', 'v2', 'v3', 'version', 'healthz', 'readyz', '..', '.', '%2e%2e', '%00', '%2F', '', '%zz', '%', '%C3%A9', '%ff', 'scratch'];

function query(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = pick(QUERY_KEYS);
    const v = chance(0.4) ? pick(GARBAGE_SELECTORS) : chance(0.8) ? pick(QUERY_VALUES) : printable(int(20));
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
const json = (v: unknown): string => JSON.stringify(v);
const stale = (o: any): any => ({ ...o, metadata: { ...(o.metadata ?? {}), resourceVersion: '1' } });

/** One random request. Requests on recorded objects are built so that they cannot succeed. */
function generate(i: number): Req {
  const kind = pick(KINDS);
  const name = `fz-${i}`;
  const keep = pick(KEEP_PATHS);
  const keepTpl = RECORDED[keep];
  switch (int(13)) {
    case 0: // random bytes
      return { gen: 'bytes', method: pick(['POST', 'PUT', 'PATCH']), path: chance(0.5) ? kind.coll(PLAY) : keep, headers: { 'Content-Type': pick(CONTENT_TYPES) }, body: bytes(int(4096)) };
    case 1: { // truncated JSON (never valid JSON: cut before the closing brace)
      const full = json(kind.make(name));
      const body = full.slice(0, int(full.length - 1));
      return chance(0.5)
        ? { gen: 'truncated', method: 'POST', path: kind.coll(PLAY), headers: { 'Content-Type': 'application/json' }, body }
        : { gen: 'truncated', method: pick(['PUT', 'PATCH']), path: keep, headers: { 'Content-Type': pick(['application/json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json']) }, body };
    }
    case 2: { // deep nesting (rarer: each is up to 600 kB)
      if (chance(0.8)) return generate(i);
      const n = pick([1000, 10_000, 100_000]);
      const deep = chance(0.5) ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
      const ct = pick(['application/json', 'application/yaml', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/json-patch+json']);
      const body = pick([deep, `{"metadata":{"name":"${name}","resourceVersion":"1"},"data":{"x":${deep}}}`, `[{"op":"add","path":"/metadata/annotations/x","value":${deep}}]`]);
      return { gen: 'deep', heavy: true, method: ct === 'application/json' || ct === 'application/yaml' ? 'POST' : 'PATCH', path: ct.includes('patch') ? keep : `/api/v1/namespaces/${PLAY}/configmaps`, headers: { 'Content-Type': ct }, body };
    }
    case 3: { // huge numbers in numeric fields
      const num = pick(HUGE);
      const d = json({ ...deploy(name), spec: { ...deploy(name).spec, replicas: 0 } }).replace('"replicas":0', `"replicas":${num}`);
      const p = json(pod(name)).replace('"terminationGracePeriodSeconds":30', `"terminationGracePeriodSeconds":${num}`).replace('"containerPort":80', `"containerPort":${pick(HUGE)}`);
      if (chance(0.3)) return { gen: 'huge', method: 'PATCH', path: `/apis/apps/v1/namespaces/${KEEP}/deployments/web`, headers: { 'Content-Type': 'application/merge-patch+json' }, body: `{"metadata":{"resourceVersion":"1","generation":${num}},"spec":{"replicas":${num}}}` };
      return chance(0.5)
        ? { gen: 'huge', method: 'POST', path: `/apis/apps/v1/namespaces/${PLAY}/deployments`, headers: { 'Content-Type': 'application/json' }, body: d }
        : { gen: 'huge', method: 'POST', path: `/api/v1/namespaces/${PLAY}/pods`, headers: { 'Content-Type': 'application/json' }, body: p };
    }
    case 4:
    case 5: { // wrong type in one field of a Pod or Deployment (create), or of a recorded object (PUT with a stale resourceVersion)
      if (chance(0.5)) {
        const tpl = (chance(0.5) ? pod : deploy)(name);
        const p = pick(pathsOf(tpl));
        const body = setAt(tpl, p, wrongValue(p.reduce((o: any, k) => o[k], tpl), false));
        return { gen: `wrongtype:${p.join('.')}`, method: 'POST', path: tpl.kind === 'Pod' ? `/api/v1/namespaces/${PLAY}/pods` : `/apis/apps/v1/namespaces/${PLAY}/deployments`, headers: { 'Content-Type': 'application/json' }, body: json(body) };
      }
      const tpl = stale({ ...keepTpl, metadata: { ...keepTpl.metadata, namespace: KEEP } });
      const p = pick(pathsOf(tpl).filter((x) => x.join('.') !== 'metadata.resourceVersion' || chance(0.1)));
      return { gen: `wrongtype-put:${p.join('.')}`, method: 'PUT', path: keep, headers: { 'Content-Type': 'application/json' }, body: json(setAt(tpl, p, wrongValue(p.reduce((o: any, k) => o[k], tpl), true))) };
    }
    case 6: { // odd Content-Types, protobuf garbage
      const ct = pick(CONTENT_TYPES);
      const body = ct.includes('protobuf') ? Buffer.concat([Buffer.from('k8s\0'), bytes(int(512))]) : chance(0.5) ? json(stale(kind.make(name))) : bytes(int(256));
      return { gen: `ctype:${ct.slice(0, 40)}`, method: pick(['POST', 'PUT', 'PATCH']), path: chance(0.5) ? kind.coll(PLAY) : keep, headers: { 'Content-Type': ct }, body };
    }
    case 7:
    case 8: { // garbage query parameters on reads, watches and play-namespace deletes
      const method = chance(0.85) ? 'GET' : 'DELETE';
      const base = method === 'DELETE' ? pick([kind.coll(PLAY), `${kind.coll(PLAY)}/scratch`]) : pick([kind.coll(PLAY), kind.coll(KEEP), keep, '/api/v1/configmaps', '/apis/apps/v1/deployments', '/api/v1/namespaces', '/api/v1/pods', `/api/v1/namespaces/${PLAY}/pods/scratch/log`]);
      const q = query(1 + int(4));
      const watch = chance(0.3) ? `${q ? '&' : '?'}watch=${pick(['true', '1', 'false', 'yes', 'garbage'])}` : '';
      return { gen: 'query', method, path: base + q + watch, headers: chance(0.3) ? { Accept: pick(ACCEPTS) } : {} };
    }
    case 9: { // random paths and methods (recorded objects' names are not in the vocabulary)
      const segs = Array.from({ length: 1 + int(8) }, () => (chance(0.1) ? encodeURIComponent(printable(1 + int(12))) : pick(SEGMENTS)));
      const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO', 'GETT']);
      const body = ['POST', 'PUT', 'PATCH'].includes(method) && chance(0.7) ? (chance(0.5) ? json(kind.make(name)) : bytes(int(200))) : undefined;
      return { gen: 'path', method, path: '/' + segs.join('/') + (chance(0.3) ? query(int(3)) : ''), headers: body ? { 'Content-Type': pick(CONTENT_TYPES) } : {}, body };
    }
    case 10: { // JSON patches with bad ops: valid ops first, then one that must fail
      const good = [{ op: 'replace', path: '/metadata/labels', value: { changed: 'yes' } }, { op: 'add', path: '/metadata/annotations/fz', value: 'x' }, { op: 'remove', path: '/metadata/labels' }];
      const bad = [{ op: 'frob', path: '/a' }, { op: 'add' }, { op: 'remove', path: '/nonexistent-xyz/abc' }, { op: 'replace', path: 'metadata/name', value: 'x' }, { op: 'test', path: '/metadata/uid', value: 'not-the-uid' },
        { op: 'move', from: '/nonexistent-xyz', path: '/metadata/labels/y' }, { op: 'copy', from: '/nope', path: '/metadata/z' }, { op: 'replace', path: '/metadata/resourceVersion', value: '1' },
        { op: 'add', path: '/__proto__/polluted', value: 'yes' }, { op: 'add', path: '/metadata/labels/~2bad', value: 1 }, { op: 'test', path: '/spec/nonexistent-xyz', value: 1 }, { op: 'remove', path: '/metadata/labels/' + 'x'.repeat(300) }, { op: 'add', path: '/metadata/labels/0/-', value: 'x' }];
      const ops = [...Array.from({ length: int(3) }, () => pick(good)), pick(bad)];
      const body = chance(0.85) ? json(ops) : pick(['{}', '"str"', 'null', '5', '[1,2]', '[{"op":null}]', '[[]]']);
      return { gen: 'jsonpatch', method: 'PATCH', path: chance(0.8) ? keep : `${kind.coll(PLAY)}/scratch`, headers: { 'Content-Type': 'application/json-patch+json' }, body };
    }
    case 11: { // strategic merge patches with $patch garbage (and a stale resourceVersion on recorded objects)
      const directive = pick([printable(int(10)), 5, null, { x: 1 }, ['delete'], 'DELETE', 'merge ', 'retainKeys']);
      const variants = [
        { $patch: directive, metadata: { resourceVersion: '1' } },
        { metadata: { resourceVersion: '1', labels: { $patch: directive, a: 'b' } } },
        { metadata: { resourceVersion: '1' }, spec: { template: { spec: { containers: [{ $patch: directive, name: 'c' }] } } } },
        { metadata: { resourceVersion: '1' }, spec: { $retainKeys: directive, replicas: 1 } },
        { metadata: { resourceVersion: '1' }, spec: { template: { spec: { '$setElementOrder/containers': directive, containers: [{ name: 'c' }] } } } },
        { metadata: { resourceVersion: '1' }, spec: { template: { spec: { containers: [{ name: 'c', '$deleteFromPrimitiveList/args': directive }] } } } },
        { metadata: { resourceVersion: '1' }, data: { $patch: directive } },
      ];
      return { gen: 'smp', method: 'PATCH', path: chance(0.8) ? keep : `${kind.coll(PLAY)}/scratch`, headers: { 'Content-Type': 'application/strategic-merge-patch+json' }, body: json(pick(variants)) };
    }
    case 12: { // apply patches with garbage YAML, and __proto__ keys everywhere
      const yamlBodies = [
        printable(int(300), 'ab: -[]{}&*!|>\'"%@`#,?\n\t '),
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  resourceVersion: "1"\ndata:\n\ta: tab\n`,
        `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
        `--- !!binary ${bytes(30).toString('base64')}\n`,
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, resourceVersion: "1"}\ndata: {a: !!js/function 'function(){}'}\n`,
        `apiVersion: v1\napiVersion: v1\nkind: ConfigMap\n`,
        `? [complex, key]\n: value\n`,
        `---\na: 1\n---\nb: 2\n`,
        `<<: {apiVersion: v1, kind: ConfigMap}\nmetadata: {resourceVersion: "1"}\n`,
        `__proto__: {polluted: yes}\napiVersion: v1\nkind: ConfigMap\nmetadata: {resourceVersion: "1", __proto__: {polluted: yes}}\n`,
      ];
      if (chance(0.6)) {
        const fm = pick(['', '?fieldManager=fz', `?fieldManager=${'m'.repeat(200)}`, '?fieldManager=fz&force=true', '?force=garbage&fieldManager=fz']);
        return { gen: 'apply', method: 'PATCH', path: keep + fm, headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: pick(yamlBodies) };
      }
      const key = pick(PROTO_KEYS);
      const bodies = [
        `{"${key}":{"polluted":"yes"},"metadata":{"name":"${name}","${key}":{"polluted":"yes"}},"data":{"${key}":"x"}}`,
        `{"metadata":{"resourceVersion":"1","labels":{"${key}":{"polluted":"yes"}}},"${key}":{"polluted":"yes","data":{"x":"y"}}}`,
      ];
      return chance(0.5)
        ? { gen: `proto-create:${key}`, method: 'POST', path: `/api/v1/namespaces/${PLAY}/configmaps`, headers: { 'Content-Type': pick(['application/json', 'application/yaml']) }, body: bodies[0]! }
        : { gen: `proto-patch:${key}`, method: 'PATCH', path: keep, headers: { 'Content-Type': pick(['application/merge-patch+json', 'application/strategic-merge-patch+json']) }, body: bodies[1]! };
    }
  }
  throw new Error('unreachable');
}

/** Dry-run writes on recorded objects: valid, answered 2xx, and never persisted. */
function dryRunWrite(keep: string, current: any): Req {
  const body = { ...current, metadata: { ...current.metadata, labels: { dry: 'run' } }, ...(current.data ? { data: { dry: 'run' } } : {}) };
  return pick<Req>([
    { gen: 'dryrun-put', method: 'PUT', path: `${keep}?dryRun=All`, headers: { 'Content-Type': 'application/json' }, body: json(body) },
    { gen: 'dryrun-patch', method: 'PATCH', path: `${keep}?dryRun=All`, headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{"metadata":{"labels":{"dry":"run"}}}' },
    { gen: 'dryrun-delete', method: 'DELETE', path: `${pick([keep, `/api/v1/namespaces/${KEEP}`])}?dryRun=All` },
  ]);
}

// ---- the client ------------------------------------------------------------------------
const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** Sends one request; watch-like answers are read for 150 ms, then the stream is dropped. */
function send(c: Creds, r: Req): Promise<Res> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (res: Res) => {
      if (!settled) {
        settled = true;
        resolve(res);
      }
    };
    const headers: Record<string, string> = { Accept: 'application/json', ...(r.headers ?? {}) };
    if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body));
    let req: ReturnType<typeof https.request>;
    try {
      req = https.request(requestOptions(c, r.method, r.path, { headers, agent }), (res) => {
        const chunks: Buffer[] = [];
        const finish = () => done({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') });
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', finish);
        res.on('error', finish);
        res.on('aborted', finish);
        if (res.statusCode === 200 && !res.headers['content-length']) {
          setTimeout(() => {
            finish();
            req.destroy();
          }, 150);
        }
      });
    } catch (e) {
      // The client refused to send it (e.g. a method Node will not write): not a server matter.
      return done({ text: '', error: `client: ${(e as Error).message}` });
    }
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', (e) => done({ text: '', error: e.message }));
    req.end(r.body);
  });
}

/** Why a response is wrong, or undefined. Upstream answers a few 5xx itself: those pass. */
function problem(r: Req, res: Res): string | undefined {
  if (res.error?.startsWith('client: ')) return undefined;
  // A method Node's HTTP parser does not know never reaches k8ts: Node answers 400 and
  // destroys the TLS socket at once, which can drop that 400 (see the report).
  if (res.status === undefined && !http.METHODS.includes(r.method) && /socket hang up|ECONNRESET/.test(res.error ?? '')) return undefined;
  if (res.status === undefined) return `no HTTP response: ${res.error}`;
  if (res.status < 100 || res.status > 599) return `invalid status ${res.status}`;
  let st: any;
  try {
    st = res.contentType?.startsWith('application/json') && res.status >= 400 && r.method !== 'HEAD' ? JSON.parse(res.text) : undefined;
  } catch {
    return `${res.status} with a body that is not JSON: ${res.text.slice(0, 200)}`;
  }
  if (st && (st.kind !== 'Status' || st.code !== res.status)) return `${res.status} whose body is not a matching Status: ${res.text.slice(0, 200)}`;
  if (res.status >= 500) {
    // Upstream: untyped strategic-merge errors (unknown directive, $setElementOrder not
    // matching, a list item without its merge key) fall through to a 500 with no reason;
    // a resourceVersion from the future is 504 Timeout "Too large resource version".
    const smp500 = /^(unknown patch type|The order in patch list|map: .* does not contain declared merge key)/;
    if (r.headers?.['Content-Type'] === 'application/strategic-merge-patch+json' && st?.reason === '' && smp500.test(st.message ?? '')) return undefined;
    if (res.status === 504 && st?.reason === 'Timeout' && /Too large resource version/.test(st.message)) return undefined;
    return `${res.status}: ${res.text.slice(0, 300)}`;
  }
  // Watch streams: an ERROR event must not carry a 5xx either.
  for (const line of res.status === 200 && /[?&]watch=(true|1)\b/.test(r.path) ? res.text.split('\n') : []) {
    if (!line.includes('"ERROR"')) continue;
    try {
      const ev = JSON.parse(line);
      if (ev.type === 'ERROR' && ev.object?.code >= 500) return `watch ERROR event ${line.slice(0, 300)}`;
    } catch {
      /* a line cut by the 150 ms read */
    }
  }
  return undefined;
}

function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : ` body(${Buffer.byteLength(r.body)}B)=${JSON.stringify(r.body.toString().slice(0, 160))}`;
  return `[${r.gen}] ${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers ?? {}).slice(0, 120)}${body}`;
}

// ---- the test --------------------------------------------------------------------------
describe(`fuzzing k8ts server (seed ${SEED}, ${COUNT} requests)`, { concurrency: false }, () => {
  let server: TestServer;
  let c: Creds;
  const recorded = new Map<string, any>();
  const problems: string[] = [];
  /** Mutating requests that succeeded (diagnostics for a changed recorded object). */
  const succeeded: string[] = [];
  let sent = 0;
  let elapsed = 0;

  before(async () => {
    // The API server alone: controllers would change the recorded objects (Deployment status,
    // revision annotations) and turn the fuzzer's stale dry-run PUTs into honest 409s.
    server = await startServer({ extraArgs: ['--controllers', '', '--disable-scheduler'] });
    c = await credsOf(server.kubeconfig);
    const mustCreate = async (path: string, body: unknown) => {
      const res = await send(c, { gen: 'setup', method: 'POST', path, headers: { 'Content-Type': 'application/json' }, body: json(body) });
      assert.equal(res.status, 201, `${path}: ${res.text}`);
    };
    await mustCreate('/api/v1/namespaces', RECORDED[`/api/v1/namespaces/${KEEP}`]);
    await mustCreate('/api/v1/namespaces', { metadata: { name: PLAY } });
    for (const path of KEEP_PATHS) await mustCreate(path.slice(0, path.lastIndexOf('/')), RECORDED[path]);
    for (const k of KINDS) await mustCreate(k.coll(PLAY), k.make('scratch'));
    for (const path of Object.keys(RECORDED)) {
      const res = await send(c, { gen: 'record', method: 'GET', path });
      assert.equal(res.status, 200, res.text);
      recorded.set(path, JSON.parse(res.text));
    }

    const plan: Req[] = [];
    for (let i = 0; i < COUNT; i++) {
      const keep = pick(KEEP_PATHS);
      plan.push(chance(0.03) ? dryRunWrite(keep, recorded.get(keep)) : generate(i));
    }
    const ordered = [...plan.filter((r) => !r.heavy), ...plan.filter((r) => r.heavy)];
    const deadline = Date.now() + BUDGET_MS;
    let next = 0;
    let dead = false;
    const worker = async () => {
      while (next < ordered.length && Date.now() < deadline && !dead) {
        const r = ordered[next++]!;
        const res = await send(c, r);
        sent++;
        const why = problem(r, res);
        if (why) problems.push(`${why}\n    request: ${describeReq(r)}`);
        if (res.status !== undefined && res.status < 300 && r.method !== 'GET' && r.method !== 'HEAD' && !r.gen.startsWith('dryrun')) succeeded.push(`${res.status} ${describeReq(r)}`);
        if (r.gen.startsWith('dryrun') && res.status !== undefined && res.status >= 300) problems.push(`dry run answered ${res.status}: ${res.text.slice(0, 200)}\n    request: ${describeReq(r)}`);
        if (server.process.exitCode !== null || server.process.signalCode !== null) {
          dead = true;
          const fatal = server.output().split('\n').filter((l) => /FATAL|Error|error/.test(l)).slice(-3).join(' | ');
          problems.push(`the server died (${server.process.exitCode ?? server.process.signalCode}) around request ${describeReq(r)}: ${fatal}`);
        }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    elapsed = Date.now() - t0;
  });
  after(async () => {
    agent.destroy();
    await server?.stop();
  });

  test('sent the planned requests within the time budget', (t) => {
    t.diagnostic(`sent ${sent} requests in ${elapsed} ms; ${succeeded.length} writes succeeded; ${problems.length} bad answers`);
    assert.ok(sent >= Math.min(COUNT, 1000), `only ${sent} of ${COUNT} requests were sent`);
  });

  test('every answer is a valid HTTP response below 500 (except upstream-correct 5xx)', () => {
    assert.equal(problems.length, 0, `${problems.length} bad answers (seed ${SEED}):\n${problems.slice(0, 40).join('\n')}`);
  });

  test('the server process is alive and ready', async () => {
    assert.equal(server.process.exitCode, null, server.output().slice(-2000));
    assert.equal(server.process.signalCode, null, server.output().slice(-2000));
    const res = await send(c, { gen: 'check', method: 'GET', path: '/readyz' });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
  });

  test('every recorded object is unchanged', async () => {
    const changed: string[] = [];
    for (const [path, before] of recorded) {
      const res = await send(c, { gen: 'check', method: 'GET', path });
      const now = res.status === 200 ? JSON.parse(res.text) : undefined;
      const same = now && now.metadata.resourceVersion === before.metadata.resourceVersion && json(now.spec) === json(before.spec) && json(now.data) === json(before.data) && json(now.metadata) === json(before.metadata);
      if (!same) changed.push(`${path}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const suspects = succeeded.filter((s) => s.includes(KEEP) || !/\/namespaces\//.test(s));
    assert.deepEqual(changed, [], `recorded objects changed (seed ${SEED}); successful writes that could have done it:\n${suspects.slice(0, 30).join('\n')}`);
  });

  test('no prototype pollution: fresh objects carry no injected fields', async () => {
    const created = await send(c, { gen: 'check', method: 'POST', path: `/api/v1/namespaces/${PLAY}/configmaps`, headers: { 'Content-Type': 'application/json' }, body: json(cm('after-fuzz')) });
    assert.equal(created.status, 201, created.text);
    for (const path of [`/api/v1/namespaces/${PLAY}/configmaps/after-fuzz`, '/api/v1/namespaces', '/version', `/api/v1/namespaces/${KEEP}/configmaps`]) {
      const res = await send(c, { gen: 'check', method: 'GET', path });
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.text, /polluted/, path);
    }
    const obj = JSON.parse(created.text);
    assert.deepEqual(Object.keys(obj).sort(), ['apiVersion', 'data', 'kind', 'metadata']);
  });
});
