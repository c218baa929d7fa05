/**
 * Kubernetes protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf, sent by
 * kubectl's typed clients): the `k8s\0` magic, a runtime.Unknown envelope holding apiVersion/kind
 * and the object's bytes, decoded into the object's Kubernetes JSON form, and back.
 *
 * The JSON form is what Go's encoding/json gives for the decoded Go struct: gogo-protobuf writes
 * every non-pointer field, so zero values of value fields with omitempty are dropped (they mean
 * "unset"), while pointer fields and fields without omitempty keep them; embedded structs tagged
 * json:",inline" are merged into their parent. Zero Time/IntOrString/RawExtension values, which
 * Go treats as unset, are left out rather than written as null/0.
 */
import { ApiError, badRequest } from '../../apimachinery/errors.js';
import { kindType, META_PKG, protoSchema, type ProtoSchema } from './schema.js';
import { decodeMessage, encodeMessage, type FieldDef, type MsgType } from './wire.js';
import { formatGoDuration, formatMicroTime, formatTime, parseGoDuration, parseTime } from './wellknown.js';

/** The 4 bytes that start every Kubernetes protobuf object: "k8s\0". */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** The protobuf media type. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';
const TIME = `${META_PKG}.Time`;
const MICROTIME = `${META_PKG}.MicroTime`;
const DURATION = `${META_PKG}.Duration`;
const FIELDSV1 = `${META_PKG}.FieldsV1`;
const RAWEXT = 'k8s.io.apimachinery.pkg.runtime.RawExtension';
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const INTSTR = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
/** Nesting limit for protobuf objects inside RawExtensions. */
const MAX_DEPTH = 8;

type Obj = Record<string, unknown>;

/** True when a Content-Type header names the Kubernetes protobuf media type (any parameters). */
export function isProtobufContentType(ct: string | undefined): boolean {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

/**
 * Decodes a protobuf request body into the object's JSON form with apiVersion/kind from the
 * envelope. Bad magic, an unknown kind or malformed bytes throw ApiError 400 BadRequest.
 */
export function decodeProtobufObject(body: Buffer): Obj {
  return decodeAt(body, 0);
}

function decodeAt(body: Buffer, depth: number): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  if (depth > MAX_DEPTH) throw badRequest('protobuf objects nested too deeply');
  const s = protoSchema();
  try {
    const env = decodeMessage(s.types.get(UNKNOWN)!, body, 4) as {
      typeMeta?: { apiVersion?: string; kind?: string };
      raw?: Buffer;
      contentEncoding?: string;
      contentType?: string;
    };
    const apiVersion = env.typeMeta?.apiVersion ?? '';
    const kind = env.typeMeta?.kind ?? '';
    if (!kind) throw badRequest("Object 'Kind' is missing in protobuf body");
    if (!apiVersion) throw badRequest("Object 'apiVersion' is missing in protobuf body");
    if (env.contentEncoding) throw badRequest(`unsupported content encoding ${JSON.stringify(env.contentEncoding)} in protobuf body`);
    const raw = env.raw ?? Buffer.alloc(0);
    if (env.contentType && env.contentType.split(';')[0]!.trim() === 'application/json') {
      const v = JSON.parse(raw.toString('utf8')) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest('protobuf envelope holds a non-object JSON value');
      return { ...(v as Obj), apiVersion, kind };
    }
    const t = kindType(s, apiVersion, kind);
    if (!t) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
    const msg = decodeMessage(t, raw);
    return { apiVersion, kind, ...messageToJSON({ s, depth }, t, msg, {}) };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`unable to decode protobuf body: ${(e as Error).message}`);
  }
}

interface Ctx {
  s: ProtoSchema;
  depth: number;
}

function fieldFlags(s: ProtoSchema, t: MsgType, name: string): string {
  const go = s.go[t.name];
  return go && go !== '[]' ? (go[name] ?? '') : '';
}

function jsonName(f: FieldDef, flags: string): string {
  const eq = flags.indexOf('=');
  return eq < 0 ? f.name : flags.slice(eq + 1);
}

function messageToJSON(c: Ctx, t: MsgType, m: Obj, out: Obj): Obj {
  for (const f of t.fields) {
    if (!Object.hasOwn(m, f.name)) continue;
    const v = m[f.name];
    if (v === undefined || v === null) continue;
    const flags = fieldFlags(c.s, t, f.name);
    if (flags.includes('x')) continue;
    const key = jsonName(f, flags);
    if (f.mapKey !== undefined) {
      const entries = Object.entries(v as Obj);
      if (entries.length) out[key] = Object.fromEntries(entries.map(([k, x]) => [k, valueToJSON(c, f, x).value]));
    } else if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length) out[key] = arr.map((x) => valueToJSON(c, f, x).value);
    } else if (flags.includes('i') && f.msg) {
      messageToJSON(c, f.msg, v as Obj, out);
    } else {
      const { value, zero } = valueToJSON(c, f, v);
      if (value !== undefined && (!zero || /[pe]/.test(flags))) out[key] = value;
    }
  }
  return out;
}


/** One value's JSON form; `zero` marks Go zero values, `value: undefined` ones with no JSON form. */
function valueToJSON(c: Ctx, f: FieldDef, v: unknown): { value: unknown; zero: boolean } {
  const rt = f.msg;
  if (rt) {
    const m = v as Obj;
    switch (rt.name) {
      case TIME: {
        const sec = Number(m['seconds'] ?? 0);
        return { value: sec === 0 && !m['nanos'] ? undefined : formatTime(sec), zero: false };
      }
      case MICROTIME: {
        const sec = Number(m['seconds'] ?? 0);
        const nanos = Number(m['nanos'] ?? 0);
        return { value: sec === 0 && nanos === 0 ? undefined : formatMicroTime(sec, nanos), zero: false };
      }
      case DURATION:
        return { value: formatGoDuration(BigInt(String(m['duration'] ?? 0))), zero: false };
      case QUANTITY:
        return { value: (m['string'] as string | undefined) || '0', zero: false };
      case INTSTR:
        if (Number(m['type'] ?? 0) === 1) return { value: (m['strVal'] as string | undefined) ?? '', zero: false };
        return { value: Number(m['intVal'] ?? 0), zero: !m['intVal'] };
      case RAWEXT:
        return { value: rawJSON(c, m['raw']), zero: false };
      case FIELDSV1:
        return { value: rawJSON(c, m['Raw']), zero: false };
    }
    const json = messageToJSON(c, rt, m, {});
    if (c.s.go[rt.name] === '[]') return { value: json['items'] ?? [], zero: false };
    return { value: json, zero: false };
  }
  if (f.type === 'bytes') {
    const b = v as Buffer;
    return { value: b.toString('base64'), zero: b.length === 0 };
  }
  return { value: v, zero: v === '' || v === 0 || v === false };
}

/** RawExtension/FieldsV1 bytes: JSON, or a nested protobuf object; empty is no value. */
function rawJSON(c: Ctx, raw: unknown): unknown {
  if (raw === undefined || raw === null) return undefined;
  const b = raw as Buffer;
  if (b.length === 0) return undefined;
  if (b.length >= 4 && b.subarray(0, 4).equals(PROTOBUF_MAGIC)) return decodeAt(b, c.depth + 1);
  return JSON.parse(b.toString('utf8')) as unknown;
}

/**
 * Encodes an object (with apiVersion and kind) as a Kubernetes protobuf body: magic + Unknown
 * envelope. Only fields present in `obj` are written. Throws ApiError 400 for unknown kinds and
 * values of the wrong shape.
 */
export function encodeProtobufObject(obj: Obj): Buffer {
  const s = protoSchema();
  const apiVersion = obj['apiVersion'];
  const kind = obj['kind'];
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw badRequest('object has no apiVersion/kind');
  const t = kindType(s, apiVersion, kind);
  if (!t) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  try {
    const raw = encodeMessage(t, messageFromJSON(s, t, obj, kind));
    const env = encodeMessage(s.types.get(UNKNOWN)!, { typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' });
    return Buffer.concat([PROTOBUF_MAGIC, env]);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`unable to encode ${kind} as protobuf: ${(e as Error).message}`);
  }
}

function messageFromJSON(s: ProtoSchema, t: MsgType, obj: Obj, path: string): Obj {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new TypeError(`${path}: expected an object`);
  const out: Obj = {};
  for (const f of t.fields) {
    const flags = fieldFlags(s, t, f.name);
    if (flags.includes('x')) continue;
    if (flags.includes('i') && f.msg) {
      const sub = messageFromJSON(s, f.msg, obj, path);
      if (Object.keys(sub).length) out[f.name] = sub;
      continue;
    }
    const key = jsonName(f, flags);
    const v = obj[key];
    if (v === undefined || v === null) continue;
    const p = `${path}.${key}`;
    if (f.mapKey !== undefined) {
      if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${p}: expected an object`);
      out[f.name] = Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [k, valueFromJSON(s, f, x, `${p}.${k}`)]));
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new TypeError(`${p}: expected an array`);
      out[f.name] = v.map((x, i) => valueFromJSON(s, f, x, `${p}[${i}]`));
    } else {
      out[f.name] = valueFromJSON(s, f, v, p);
    }
  }
  return out;
}

function valueFromJSON(s: ProtoSchema, f: FieldDef, v: unknown, path: string): unknown {
  const rt = f.msg;
  const want = (type: string): void => {
    if (typeof v !== type) throw new TypeError(`${path}: expected a ${type}`);
  };
  if (rt) {
    switch (rt.name) {
      case TIME:
        want('string');
        return { seconds: parseTime(v as string).seconds };
      case MICROTIME: {
        want('string');
        const { seconds, nanos } = parseTime(v as string);
        return { seconds, nanos: Math.floor(nanos / 1000) * 1000 };
      }
      case DURATION:
        want('string');
        return { duration: Number(parseGoDuration(v as string)) };
      case QUANTITY:
        if (typeof v !== 'string' && typeof v !== 'number') throw new TypeError(`${path}: expected a quantity`);
        return { string: String(v) };
      case INTSTR:
        if (typeof v === 'number') return { type: 0, intVal: v };
        want('string');
        return { type: 1, strVal: v };
      case RAWEXT:
        return { raw: Buffer.from(JSON.stringify(v)) };
      case FIELDSV1:
        return { Raw: Buffer.from(JSON.stringify(v)) };
    }
    if (s.go[rt.name] === '[]') return messageFromJSON(s, rt, { items: v }, path);
    return messageFromJSON(s, rt, v as Obj, path);
  }
  if (f.type === 'bytes') {
    want('string');
    return Buffer.from(v as string, 'base64');
  }
  if (f.type === 'string') want('string');
  else if (f.type === 'bool') want('boolean');
  else if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${path}: expected a number`);
  return v;
}
