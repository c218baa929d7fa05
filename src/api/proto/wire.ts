/**
 * A small protobuf wire codec driven by the schema in k8s.json (protobufjs Root.toJSON form).
 * Decoding yields plain objects holding only the fields present on the wire (proto2 presence):
 * scalars as JS values (64-bit integers as numbers), bytes as Buffers, repeated fields as arrays,
 * maps as objects. Encoding writes only the fields present in the object.
 */

/** A message type of the schema. */
export interface MsgType {
  /** Full name without a leading dot ("k8s.io.api.apps.v1.Deployment"). */
  name: string;
  fields: FieldDef[];
  byId: Map<number, FieldDef>;
}

/** A field: scalar `type` or message `msg`; `mapKey` set for map fields (type/msg is the value). */
export interface FieldDef {
  name: string;
  id: number;
  type: string;
  msg?: MsgType;
  repeated: boolean;
  mapKey?: string;
  packed: boolean;
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64']);
const VARINT = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64']);

interface JsonNs {
  nested?: Record<string, JsonNs>;
  fields?: Record<string, { type: string; id: number; rule?: string; keyType?: string; options?: { packed?: boolean } }>;
}

/** Builds the message types of a Root.toJSON() namespace tree, resolving type references. */
export function loadTypes(json: JsonNs): Map<string, MsgType> {
  const types = new Map<string, MsgType>();
  const pending: Array<[MsgType, string, NonNullable<JsonNs['fields']>]> = [];
  const walk = (ns: JsonNs, prefix: string): void => {
    for (const [name, child] of Object.entries(ns.nested ?? {})) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (child.fields) {
        const t: MsgType = { name: full, fields: [], byId: new Map() };
        types.set(full, t);
        pending.push([t, full, child.fields]);
      }
      walk(child, full);
    }
  };
  walk(json, '');
  for (const [t, full, fields] of pending) {
    for (const [name, f] of Object.entries(fields)) {
      const def: FieldDef = { name, id: f.id, type: f.type, repeated: f.rule === 'repeated', packed: f.options?.packed !== false, mapKey: f.keyType };
      if (!SCALARS.has(f.type)) {
        def.msg = resolve(types, full, f.type);
        def.type = 'message';
      }
      if (def.mapKey !== undefined && !SCALARS.has(def.mapKey)) throw new Error(`${full}.${name}: unsupported map key ${def.mapKey}`);
      t.fields.push(def);
      t.byId.set(def.id, def);
    }
    t.fields.sort((a, b) => a.id - b.id);
  }
  return types;
}

/** Resolves a type reference from inside message `from`: absolute (".a.b") or scope by scope. */
function resolve(types: Map<string, MsgType>, from: string, ref: string): MsgType {
  if (ref.startsWith('.')) {
    const t = types.get(ref.slice(1));
    if (t) return t;
  } else {
    for (let scope = from; scope; scope = scope.slice(0, Math.max(0, scope.lastIndexOf('.')))) {
      const t = types.get(`${scope}.${ref}`);
      if (t) return t;
    }
    const t = types.get(ref);
    if (t) return t;
  }
  throw new Error(`${from}: unknown type ${ref}`);
}

// ---- decoding ----

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as [low 32 bits, high 32 bits], both unsigned. */
  varint(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
    }
    throw new RangeError('varint too long');
  }

  length(): number {
    const [lo, hi] = this.varint();
    if (hi !== 0 || lo > this.end - this.pos) throw new RangeError('length out of range');
    return lo;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.advance(this.length());
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new RangeError(`invalid wire type ${wire}`);
    }
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw new RangeError('truncated field');
    this.pos += n;
  }
}

function scalarFromVarint(type: string, [lo, hi]: [number, number]): unknown {
  switch (type) {
    case 'bool':
      return lo !== 0 || hi !== 0;
    case 'int32':
      return lo | 0;
    case 'uint32':
      return lo;
    case 'int64':
      return (hi | 0) * 0x1_0000_0000 + lo;
    default:
      return hi * 0x1_0000_0000 + lo;
  }
}

function readValue(r: Reader, f: FieldDef, wire: number, depth: number): unknown {
  if (f.msg) {
    if (wire !== 2) throw new RangeError(`field ${f.name}: wire type ${wire} for a message`);
    const n = r.length();
    const v = decodeMessage(f.msg, r.buf, r.pos, r.pos + n, depth + 1);
    r.pos += n;
    return v;
  }
  if (VARINT.has(f.type)) {
    if (wire !== 0) throw new RangeError(`field ${f.name}: wire type ${wire} for ${f.type}`);
    return scalarFromVarint(f.type, r.varint());
  }
  if (wire !== 2) throw new RangeError(`field ${f.name}: wire type ${wire} for ${f.type}`);
  const n = r.length();
  const b = r.buf.subarray(r.pos, r.pos + n);
  r.pos += n;
  if (f.type === 'string') return b.toString('utf8');
  return b;
}

/** Decodes `buf[start, end)` as message `t`; throws RangeError on malformed input. */
export function decodeMessage(t: MsgType, buf: Buffer, start = 0, end = buf.length, depth = 0): Record<string, unknown> {
  if (depth > 100) throw new RangeError('message nested too deeply');
  const out: Record<string, unknown> = {};
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const [key, khi] = r.varint();
    const id = key >>> 3;
    const wire = key & 7;
    if (khi !== 0 || id === 0) throw new RangeError('invalid field number');
    const f = t.byId.get(id);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.mapKey !== undefined) {
      if (wire !== 2) throw new RangeError(`field ${f.name}: wire type ${wire} for a map`);
      const n = r.length();
      const er = new Reader(buf, r.pos, r.pos + n);
      r.pos += n;
      let k: unknown = f.mapKey === 'string' ? '' : 0;
      let v: unknown;
      const kf: FieldDef = { name: 'key', id: 1, type: f.mapKey, repeated: false, packed: false };
      while (er.pos < er.end) {
        const [ek] = er.varint();
        if (ek >>> 3 === 1) k = readValue(er, kf, ek & 7, depth);
        else if (ek >>> 3 === 2) v = readValue(er, f, ek & 7, depth);
        else er.skip(ek & 7);
      }
      if (v === undefined) v = f.msg ? {} : f.type === 'string' ? '' : f.type === 'bytes' ? Buffer.alloc(0) : f.type === 'bool' ? false : 0;
      ((out[f.name] ??= {}) as Record<string, unknown>)[String(k)] = v;
    } else if (f.repeated) {
      const arr = (out[f.name] ??= []) as unknown[];
      if (wire === 2 && VARINT.has(f.type)) {
        const n = r.length();
        const pr = new Reader(buf, r.pos, r.pos + n);
        r.pos += n;
        while (pr.pos < pr.end) arr.push(scalarFromVarint(f.type, pr.varint()));
      } else arr.push(readValue(r, f, wire, depth));
    } else if (f.msg && out[f.name] !== undefined && wire === 2) {
      // A repeated occurrence of a singular message merges into the first.
      const n = r.length();
      mergeInto(out[f.name] as Record<string, unknown>, decodeMessage(f.msg, buf, r.pos, r.pos + n, depth + 1));
      r.pos += n;
    } else {
      out[f.name] = readValue(r, f, wire, depth);
    }
  }
  return out;
}

function mergeInto(a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(b)) {
    const cur = a[k];
    if (Array.isArray(cur) && Array.isArray(v)) cur.push(...v);
    else if (cur && v && typeof cur === 'object' && typeof v === 'object' && !Buffer.isBuffer(cur)) mergeInto(cur as Record<string, unknown>, v as Record<string, unknown>);
    else a[k] = v;
  }
}

// ---- encoding ----

function varintBytes(out: number[], lo: number, hi: number): void {
  while (hi !== 0 || lo > 0x7f) {
    out.push((lo & 0x7f) | 0x80);
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out.push(lo);
}

function varintOf(type: string, v: unknown): number[] {
  const out: number[] = [];
  if (type === 'bool') varintBytes(out, v ? 1 : 0, 0);
  else {
    const n = Math.trunc(Number(v));
    if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${String(v)}`);
    const b = BigInt.asUintN(64, BigInt(n));
    varintBytes(out, Number(b & 0xffff_ffffn), Number(b >> 32n));
  }
  return out;
}

function tagOf(id: number, wire: number): number[] {
  const out: number[] = [];
  varintBytes(out, ((id << 3) | wire) >>> 0, 0);
  return out;
}

function lengthDelimited(id: number, payload: Buffer): Buffer {
  const len: number[] = [];
  varintBytes(len, payload.length, 0);
  return Buffer.concat([Buffer.from(tagOf(id, 2)), Buffer.from(len), payload]);
}

function encodeValue(f: FieldDef, id: number, v: unknown): Buffer {
  if (f.msg) return lengthDelimited(id, encodeMessage(f.msg, v as Record<string, unknown>));
  if (VARINT.has(f.type)) return Buffer.from([...tagOf(id, 0), ...varintOf(f.type, v)]);
  if (f.type === 'string') return lengthDelimited(id, Buffer.from(String(v), 'utf8'));
  return lengthDelimited(id, Buffer.from(v as Uint8Array));
}

/** Encodes a decoded-form object (see decodeMessage) as message `t`. */
export function encodeMessage(t: MsgType, obj: Record<string, unknown>): Buffer {
  const parts: Buffer[] = [];
  for (const f of t.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.mapKey !== undefined) {
      const kf: FieldDef = { name: 'key', id: 1, type: f.mapKey, repeated: false, packed: false };
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const key = f.mapKey === 'string' ? k : Number(k);
        parts.push(lengthDelimited(f.id, Buffer.concat([encodeValue(kf, 1, key), encodeValue(f, 2, x)])));
      }
    } else if (f.repeated) {
      const arr = v as unknown[];
      if (f.packed && VARINT.has(f.type) && arr.length) parts.push(lengthDelimited(f.id, Buffer.from(arr.flatMap((x) => varintOf(f.type, x)))));
      else for (const x of arr) parts.push(encodeValue(f, f.id, x));
    } else {
      parts.push(encodeValue(f, f.id, v));
    }
  }
  return Buffer.concat(parts);
}
