/**
 * Content negotiation: which representation a client asked for in Accept (JSON, YAML,
 * meta/v1 Table, PartialObjectMetadata, aggregated discovery) and what a body's
 * Content-Type is.
 */

/** The representation a response should take. */
export interface Representation {
  /** json or yaml serialization. */
  format: 'json' | 'yaml';
  /** What to convert objects into before serializing. */
  as: 'object' | 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList' | 'APIGroupDiscoveryList';
  /** Discovery version asked for (v2 or v2beta1) when as=APIGroupDiscoveryList. */
  discoveryVersion?: string;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

/** Parses an Accept header into media ranges in preference order. */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  const out: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of ps) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim();
      const v = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (k === 'q') q = Number(v) || 0;
      else params[k] = v;
    }
    out.push({ type: type.toLowerCase(), params, q });
  }
  return out.sort((a, b) => b.q - a.q);
}

/**
 * Picks the representation for a response. Protobuf is never served: clients that list it
 * first also list JSON, and get JSON. `discovery` enables aggregated discovery answers.
 */
export function negotiate(accept: string | undefined, opts: { discovery?: boolean } = {}): Representation {
  const ranges = parseAccept(accept);
  for (const r of ranges) {
    const json = r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*';
    const yaml = r.type === 'application/yaml';
    if (!json && !yaml) continue;
    const format = yaml ? 'yaml' : 'json';
    const as = r.params['as'];
    if (!as) return { format, as: 'object' };
    if (as === 'Table' && r.params['g'] === 'meta.k8s.io') return { format, as: 'Table' };
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && r.params['g'] === 'meta.k8s.io')
      return { format, as };
    if (as === 'APIGroupDiscoveryList' && opts.discovery && r.params['g'] === 'apidiscovery.k8s.io' && (r.params['v'] === 'v2' || r.params['v'] === 'v2beta1'))
      return { format, as, discoveryVersion: r.params['v'] };
  }
  return { format: 'json', as: 'object' };
}

/** Body kinds the API server accepts. */
export type BodyType = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

/** Maps a Content-Type to a body type, or undefined if unsupported. */
export function bodyTypeOf(contentType: string | undefined): BodyType | undefined {
  const t = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  switch (t) {
    case '':
    case 'application/json':
    case '*/*':
      return 'json';
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply-patch';
    default:
      return undefined;
  }
}
