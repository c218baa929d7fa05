/**
 * Parses a request path into the pieces the REST layer routes on, like upstream's
 * RequestInfo: API prefix, group, version, namespace, resource, name, subresource, verb.
 */

/** What a resource request is about. `isResourceRequest` false means a non-resource path. */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** get list watch create update patch delete deletecollection (or the HTTP method lower-cased for non-resource paths). */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** Path segments after the subresource (e.g. pod proxy paths). */
  rest: string[];
}

/**
 * Parses `method` + `pathname` + `watch` query flag. Throws nothing: malformed resource
 * paths come back as non-resource requests (answered 404 by the router).
 */
export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: method.toLowerCase(),
    apiPrefix: '',
    group: '',
    version: '',
    namespace: '',
    resource: '',
    name: '',
    subresource: '',
    rest: [],
  };
  const parts = pathname.split('/').filter((p) => p !== '').map(safeDecode);
  if (parts.length === 0 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  info.apiPrefix = parts[0] as 'api' | 'apis';
  let i = 1;
  if (info.apiPrefix === 'apis') {
    if (parts.length < 3) return info; // /apis, /apis/<group>: discovery
    info.group = parts[1]!;
    i = 2;
  } else if (parts.length < 2) {
    return info; // /api
  }
  info.version = parts[i]!;
  i++;
  let rest = parts.slice(i);
  if (rest.length === 0) return info; // /api/v1: discovery
  info.isResourceRequest = true;
  const isWatch = query.get('watch') === 'true' || query.get('watch') === '1';
  // Old-style /watch/ prefix.
  if (rest[0] === 'watch') {
    rest = rest.slice(1);
    info.verb = 'watch';
  }
  if (rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')) {
    // A namespace's own subresources: /namespaces/<name>/status|finalize.
    info.resource = 'namespaces';
    info.name = rest[1]!;
    info.subresource = rest[2]!;
    rest = [];
  } else if (rest[0] === 'namespaces' && rest.length >= 3) {
    info.namespace = rest[1]!;
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length === 2) {
    info.resource = 'namespaces';
    info.name = rest[1]!;
    rest = [];
  }
  if (!info.resource) {
    info.resource = rest[0] ?? '';
    info.name = rest[1] ?? '';
    info.subresource = rest[2] ?? '';
    info.rest = rest.slice(3);
  } else if (rest.length) {
    info.subresource = rest[0]!;
    info.rest = rest.slice(1);
  }
  if (info.verb === 'watch') return info;
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') info.verb = info.name ? 'get' : isWatch ? 'watch' : 'list';
  else if (m === 'POST') info.verb = 'create';
  else if (m === 'PUT') info.verb = 'update';
  else if (m === 'PATCH') info.verb = 'patch';
  else if (m === 'DELETE') info.verb = info.name ? 'delete' : 'deletecollection';
  if (info.verb === 'get' && isWatch) info.verb = 'watch';
  return info;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
