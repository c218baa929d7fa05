/**
 * Container image name normalization (docker reference rules): `busybox` ==
 * `docker.io/library/busybox:latest`; `registry:5000/x` keeps its registry; a missing tag
 * (and no digest) means `latest`.
 */

const DEFAULT_DOMAIN = 'docker.io';

function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  if (i < 0) return { domain: DEFAULT_DOMAIN, path: name };
  const first = name.slice(0, i);
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
    return { domain: first === 'index.docker.io' ? DEFAULT_DOMAIN : first, path: name.slice(i + 1) };
  }
  return { domain: DEFAULT_DOMAIN, path: name };
}

/** The fully qualified name of an image reference, e.g. `nginx:1.25` → `docker.io/library/nginx:1.25`. */
export function normalizeImageName(image: string): string {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at) : '';
  let name = at >= 0 ? image.slice(0, at) : image;
  let tag = '';
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon);
    name = name.slice(0, colon);
  }
  const { domain, path } = splitDomain(name);
  const repo = domain === DEFAULT_DOMAIN && !path.includes('/') ? `library/${path}` : path;
  if (!tag && !digest) tag = ':latest';
  return `${domain}/${repo}${tag}${digest}`;
}

/**
 * Names under which a node may list the image `image` (the reference as written, with
 * `:latest` added as upstream does, the fully qualified name and its familiar short forms),
 * most specific first, without duplicates.
 */
export function imageNameVariants(image: string): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };
  const full = normalizeImageName(image);
  add(full);
  add(image);
  const hasTag = image.lastIndexOf(':') > image.lastIndexOf('/');
  if (!hasTag && !image.includes('@')) add(`${image}:latest`);
  if (full.startsWith(`${DEFAULT_DOMAIN}/`)) {
    const rest = full.slice(DEFAULT_DOMAIN.length + 1);
    add(rest);
    if (rest.startsWith('library/')) add(rest.slice('library/'.length));
  }
  return out;
}
