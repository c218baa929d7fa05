/**
 * Field sets as server-side apply records them (structured-merge-diff fieldpath): a tree
 * of path elements whose nodes may be members. Path elements are strings in the FieldsV1
 * spelling: `f:<field>`, `k:<json of key fields, sorted>`, `v:<json value>`, `i:<index>`.
 */
import { isObject, stableStringify, type JsonObject } from './jsonvalue.js';

/** One step of a field path in FieldsV1 spelling ("f:spec", `k:{"name":"a"}`, `v:"x"`, "i:0"). */
export type PathElement = string;

/** `f:<name>`. */
export function fieldPE(name: string): PathElement {
  return `f:${name}`;
}

/** `k:{...}` for a list-map item from its key fields (sorted by name, as upstream). */
export function keyPE(keys: Record<string, unknown>): PathElement {
  return `k:${stableStringify(keys)}`;
}

/** `v:<json>` for a set item. */
export function valuePE(value: unknown): PathElement {
  return `v:${stableStringify(value)}`;
}

/** `i:<n>` for a list item known only by position. */
export function indexPE(i: number): PathElement {
  return `i:${i}`;
}

const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** Upstream ordering of path elements: fields, then keys, then values, then indices. */
export function comparePE(a: PathElement, b: PathElement): number {
  const ra = RANK[a[0] ?? ''] ?? 4;
  const rb = RANK[b[0] ?? ''] ?? 4;
  if (ra !== rb) return ra - rb;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path element as upstream prints it in conflicts: `.name`, `[k="v",n=1]`, `[="x"]`, `[3]`. */
export function peToString(pe: PathElement): string {
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return `.${body}`;
    case 'k': {
      const keys = JSON.parse(body) as JsonObject;
      return `[${Object.keys(keys)
        .map((k) => `${k}=${scalarString(keys[k])}`)
        .join(',')}]`;
    }
    case 'v':
      return `[=${scalarString(JSON.parse(body))}]`;
    case 'i':
      return `[${body}]`;
    default:
      return '{{invalid path element}}';
  }
}

/** A whole path as upstream prints it (".spec.containers[name=\"a\"].image"). */
export function pathToString(path: PathElement[]): string {
  return path.map(peToString).join('');
}

function scalarString(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : stableStringify(v);
}

/** A set of field paths: a tree whose nodes are members (owned) or only lead to members. */
export class FieldSet {
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  /** A set holding exactly these paths. */
  static of(...paths: PathElement[][]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path as a member (the empty path is ignored: the root is never a member). */
  insert(path: PathElement[]): this {
    if (path.length === 0) return this;
    let n: FieldSet = this;
    for (const pe of path) {
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = new FieldSet()));
      n = c;
    }
    n.member = true;
    return this;
  }

  /** True if the path is a member. */
  has(path: PathElement[]): boolean {
    const n = this.node(path);
    return !!n && path.length > 0 && n.member;
  }

  /** The subtree at a path, if any. */
  node(path: PathElement[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) n = n?.children.get(pe);
    return n;
  }

  /** True when no path is a member. */
  isEmpty(): boolean {
    for (const c of this.children.values()) if (c.member || !c.isEmpty()) return false;
    return true;
  }

  /** A deep copy. */
  clone(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [pe, c] of this.children) s.children.set(pe, c.clone());
    return s;
  }

  /** Members of either set. */
  union(o: FieldSet): FieldSet {
    const s = this.clone();
    s.member = this.member || o.member;
    for (const [pe, c] of o.children) {
      const mine = s.children.get(pe);
      s.children.set(pe, mine ? mine.union(c) : c.clone());
    }
    return s;
  }

  /** Members of this set that are not members of `o`. */
  difference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && !o.member;
    for (const [pe, c] of this.children) {
      const theirs = o.children.get(pe);
      const d = theirs ? c.difference(theirs) : c.clone();
      if (d.member || d.children.size > 0) s.children.set(pe, d);
    }
    return s;
  }

  /** Members of both sets. */
  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && o.member;
    for (const [pe, c] of this.children) {
      const theirs = o.children.get(pe);
      if (!theirs) continue;
      const d = c.intersection(theirs);
      if (d.member || d.children.size > 0) s.children.set(pe, d);
    }
    return s;
  }

  /** Members of this set that are neither members of `o` nor below a member of `o`. */
  recursiveDifference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && !o.member;
    for (const [pe, c] of this.children) {
      const theirs = o.children.get(pe);
      if (theirs?.member) continue;
      const d = theirs ? c.recursiveDifference(theirs) : c.clone();
      if (d.member || d.children.size > 0) s.children.set(pe, d);
    }
    return s;
  }

  /**
   * This set plus every `f:` ancestor of a member as a member itself (upstream
   * EnsureNamedFieldsAreMembers), so that pruning sees struct fields as owned.
   */
  withNamedFieldsAsMembers(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [pe, c] of this.children) {
      const d = c.withNamedFieldsAsMembers();
      if (pe.startsWith('f:') && !d.isEmpty()) d.member = true;
      if (d.member || d.children.size > 0) s.children.set(pe, d);
    }
    return s;
  }

  /** Member paths in upstream order (a node before its children). */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    const walk = (n: FieldSet, prefix: PathElement[]): void => {
      for (const pe of [...n.children.keys()].sort(comparePE)) {
        const c = n.children.get(pe)!;
        const p = [...prefix, pe];
        if (c.member) out.push(p);
        walk(c, p);
      }
    };
    walk(this, []);
    return out;
  }

  /** True when both sets hold the same members. */
  equals(o: FieldSet): boolean {
    return this.difference(o).isEmpty() && o.difference(this).isEmpty();
  }
}

/**
 * The FieldsV1 JSON of a set: one object per path element, `{}` for a member leaf and
 * `".": {}` marking a member that also has children. Keys are in upstream order.
 */
export function encodeFieldsV1(set: FieldSet): JsonObject {
  const enc = (n: FieldSet): JsonObject => {
    const o: JsonObject = {};
    if (n.member && n.children.size > 0) o['.'] = {};
    for (const pe of [...n.children.keys()].sort(comparePE)) {
      const c = n.children.get(pe)!;
      if (!c.member && c.isEmpty()) continue;
      o[pe] = enc(c);
    }
    return o;
  };
  return enc(set);
}

/**
 * Parses FieldsV1 JSON into a set. `k:` elements are normalised (keys re-sorted) so
 * they compare equal to ones this module builds. Throws Error on anything malformed.
 */
export function decodeFieldsV1(fieldsV1: unknown): FieldSet {
  if (!isObject(fieldsV1)) throw new Error('FieldsV1 must be a JSON object');
  const dec = (o: JsonObject, n: FieldSet, root: boolean): void => {
    for (const [k, v] of Object.entries(o)) {
      if (!isObject(v)) throw new Error(`FieldsV1 value for ${JSON.stringify(k)} must be an object`);
      if (k === '.') {
        if (!root) n.member = true;
        continue;
      }
      const pe = normalizePE(k);
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = new FieldSet()));
      if (Object.keys(v).length === 0) c.member = true;
      else dec(v, c, false);
    }
  };
  const s = new FieldSet();
  dec(fieldsV1, s, true);
  return s;
}

function normalizePE(k: string): PathElement {
  const body = k.slice(2);
  switch (k.slice(0, 2)) {
    case 'f:':
      return k;
    case 'k:': {
      let keys: unknown;
      try {
        keys = JSON.parse(body);
      } catch {
        throw new Error(`invalid key path element ${JSON.stringify(k)}`);
      }
      if (!isObject(keys)) throw new Error(`invalid key path element ${JSON.stringify(k)}`);
      return keyPE(keys);
    }
    case 'v:':
      try {
        return valuePE(JSON.parse(body));
      } catch {
        throw new Error(`invalid value path element ${JSON.stringify(k)}`);
      }
    case 'i:':
      if (!/^\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(k)}`);
      return k;
    default:
      throw new Error(`unknown path element ${JSON.stringify(k)}`);
  }
}
