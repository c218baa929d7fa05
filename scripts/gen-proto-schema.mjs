#!/usr/bin/env node
/**
 * Generates src/api/proto/k8s.json, the protobuf schema k8ts uses to decode request bodies sent
 * as application/vnd.kubernetes.protobuf.
 *
 * Usage: node scripts/gen-proto-schema.mjs [path/to/kubectl]
 * (default: the newest /usr/lib/google-cloud-sdk/bin/kubectl.1.*)
 *
 * Sources, both read from a kubectl binary (no .proto files are shipped by any npm package):
 *  1. The gzipped FileDescriptorProtos of k8s.io/api/<group>/<version>/generated.proto and the
 *     k8s.io/apimachinery ones, which gogo-protobuf registers in every Kubernetes Go binary. They
 *     give message names, field names and field numbers.
 *  2. The Go runtime type information of the API structs (struct tags and field kinds). Proto
 *     descriptors cannot tell a Go pointer field (`*int32`, where an explicit 0 means something)
 *     from a value field (`int32`, always written by gogo, where 0 means "unset"), nor show which
 *     fields JSON inlines (`json:",inline"`), renames or omits when empty. That is recorded in the
 *     output's "go" table: message full name -> field name -> flags:
 *       p  Go pointer: keep the value even when it is zero
 *       e  no omitempty: keep zero values (JSON always carries the field)
 *       i  embedded with json:",inline": merge the sub-object's fields into the parent
 *       x  json:"-": not part of the JSON form
 *       =n the JSON name is n
 *     and "[]" for messages whose Go type is a slice (the proto wraps it as `repeated items`).
 *
 * The output keeps only messages reachable from the API kinds (messages with ObjectMeta metadata)
 * of the stable group versions, plus runtime.Unknown; no options, no comments. Deterministic.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'src/api/proto/k8s.json');

/** Group versions (k8s.io/api/<dir>/<version>) whose kinds are included. */
const API_VERSIONS = [
  'core/v1', 'apps/v1', 'batch/v1', 'autoscaling/v1', 'autoscaling/v2', 'coordination/v1', 'discovery/v1',
  'events/v1', 'networking/v1', 'node/v1', 'policy/v1', 'rbac/v1', 'scheduling/v1', 'storage/v1',
  'certificates/v1', 'admissionregistration/v1', 'apiextensions/v1', 'flowcontrol/v1', 'authentication/v1',
  'authorization/v1',
];
const MACHINERY = ['apis/meta/v1', 'runtime', 'runtime/schema', 'api/resource', 'util/intstr'];
const WANTED = new Set([
  ...API_VERSIONS.map((v) => `k8s.io/api/${v}/generated.proto`),
  ...MACHINERY.map((m) => `k8s.io/apimachinery/pkg/${m}/generated.proto`),
]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** Extra roots besides the kinds: the envelope, and option kinds that clients send as bodies. */
const EXTRA_ROOTS = ['k8s.io.apimachinery.pkg.runtime.Unknown', `${META}.DeleteOptions`];
/** Messages with a custom JSON form; the decoder handles them, no Go struct info needed. */
const SPECIAL = new Set([
  `${META}.Time`, `${META}.MicroTime`, `${META}.Duration`, `${META}.FieldsV1`,
  'k8s.io.apimachinery.pkg.runtime.RawExtension', 'k8s.io.apimachinery.pkg.runtime.Unknown',
  'k8s.io.apimachinery.pkg.api.resource.Quantity', 'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
]);

function pickBinary() {
  if (process.argv[2]) return process.argv[2];
  const dir = '/usr/lib/google-cloud-sdk/bin';
  const found = readdirSync(dir)
    .map((f) => /^kubectl\.1\.(\d+)$/.exec(f))
    .filter(Boolean)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  if (!found.length) throw new Error(`no kubectl.1.* in ${dir}; pass a kubectl binary`);
  return join(dir, found[0][0]);
}

/** Every gzip member with an empty header that inflates to a k8s.io FileDescriptorProto. */
function extractDescriptors(bin) {
  const magic = Buffer.from('1f8b080000000000', 'hex');
  const files = new Map();
  for (let i = bin.indexOf(magic); i >= 0; i = bin.indexOf(magic, i + 1)) {
    let raw;
    try {
      // Raw inflate of one member (gunzip would also swallow an adjacent member).
      raw = inflateRawSync(bin.subarray(i + 10, i + 10 + (4 << 20)));
    } catch {
      continue;
    }
    let fd;
    try {
      fd = descriptor.FileDescriptorProto.decode(raw);
    } catch {
      continue;
    }
    if (typeof fd.name === 'string' && fd.name.startsWith('k8s.io/') && !files.has(fd.name)) files.set(fd.name, fd);
  }
  return files;
}

// ---- Go runtime type information (ELF, amd64, Go >= 1.20 ABI) ----

/** Minimal ELF64 section table. */
function elfSections(bin) {
  if (bin.readUInt32BE(0) !== 0x7f454c46 || bin[4] !== 2) throw new Error('not an ELF64 binary');
  const shoff = Number(bin.readBigUInt64LE(0x28));
  const entsize = bin.readUInt16LE(0x3a);
  const num = bin.readUInt16LE(0x3c);
  const strndx = bin.readUInt16LE(0x3e);
  const secs = [];
  for (let i = 0; i < num; i++) {
    const o = shoff + i * entsize;
    secs.push({ nameOff: bin.readUInt32LE(o), addr: Number(bin.readBigUInt64LE(o + 16)), off: Number(bin.readBigUInt64LE(o + 24)), size: Number(bin.readBigUInt64LE(o + 32)) });
  }
  const names = secs[strndx];
  for (const s of secs) s.name = bin.toString('latin1', names.off + s.nameOff, bin.indexOf(0, names.off + s.nameOff));
  return secs;
}

/**
 * Finds the struct types whose fields carry protobuf tags. Returns a map from proto message full
 * name (Go package path with dots + type name) to its fields. Type data lives in .rodata, whose
 * start is the module's types base for name offsets.
 */
function goStructs(bin) {
  const ro = elfSections(bin).find((s) => s.name === '.rodata');
  if (!ro) throw new Error('no .rodata section');
  const end = ro.addr + ro.size;
  const inRo = (a) => a >= ro.addr && a < end;
  const at = (a) => a - ro.addr + ro.off;
  const u64 = (a) => Number(bin.readBigUInt64LE(at(a)));
  const varint = (o) => {
    let v = 0;
    let s = 0;
    let b;
    do {
      b = bin[o++];
      v += (b & 0x7f) * 2 ** s;
      s += 7;
    } while (b & 0x80);
    return [v, o];
  };
  const readName = (a) => {
    if (!inRo(a)) return null;
    const o = at(a);
    const flags = bin[o];
    if (flags & 0xf0) return null;
    const [n, p] = varint(o + 1);
    if (n > 256) return null;
    const name = bin.toString('latin1', p, p + n);
    if (!(flags & 2)) return { name, tag: '' };
    const [tn, q] = varint(p + n);
    if (tn > 2048) return null;
    return { name, tag: bin.toString('latin1', q, q + tn) };
  };
  const out = new Map();
  // A structType is abi.Type (48 bytes), PkgPath name (8), Fields slice (ptr, len, cap);
  // an uncommonType (PkgPath nameOff first) follows when tflag&1.
  for (let a = ro.addr + 56; a + 32 < end; a += 8) {
    const o = at(a);
    const len = Number(bin.readBigUInt64LE(o + 8));
    if (len < 1 || len > 400 || Number(bin.readBigUInt64LE(o + 16)) !== len) continue;
    const fp = Number(bin.readBigUInt64LE(o));
    if (!inRo(fp) || fp % 8) continue;
    const t = a - 56;
    const tflag = bin[at(t) + 20];
    if ((bin[at(t) + 23] & 0x1f) !== 25 || !(tflag & 1)) continue;
    const fields = [];
    for (let i = 0; i < len; i++) {
      const f = fp + i * 24;
      const nm = readName(u64(f));
      const ty = u64(f + 8);
      if (!nm || !inRo(ty)) break;
      fields.push({ ...nm, kind: bin[at(ty) + 23] & 0x1f });
    }
    if (fields.length !== len || !fields.some((f) => f.tag.includes('protobuf:"'))) continue;
    const tname = readName(ro.addr + bin.readInt32LE(at(t) + 40));
    const pkg = readName(ro.addr + bin.readInt32LE(at(t) + 80));
    if (!tname || !pkg) continue;
    const full = `${pkg.name.replace(/\//g, '.')}.${tname.name.replace(/^\*/, '').replace(/^.*\./, '')}`;
    if (!out.has(full)) out.set(full, fields);
  }
  return out;
}

const KIND_PTR = 22;
const SCALAR_OR_SPECIAL = (field) => !field.resolvedType || SPECIAL.has(field.resolvedType.fullName.slice(1));

/** The flags string for one proto field from its Go struct field. */
function goFlags(field, gofield, mapEntries) {
  const json = /(?:^| )json:"([^"]*)"/.exec(gofield.tag)?.[1];
  if (json === undefined) return 'x';
  if (json === '-') return 'x';
  const [jname, ...opts] = json.split(',');
  let flags = '';
  if (opts.includes('inline')) return 'i';
  const isMap = field.resolvedType && mapEntries.has(field.resolvedType.fullName.slice(1));
  if (field.repeated || isMap) return jname && jname !== field.name ? `=${jname}` : '';
  if (SCALAR_OR_SPECIAL(field)) {
    if (gofield.kind === KIND_PTR) flags += 'p';
    else if (!opts.includes('omitempty')) flags += 'e';
  }
  if (jname && jname !== field.name) flags += `=${jname}`;
  return flags;
}

function main() {
  const binPath = pickBinary();
  const bin = readFileSync(binPath);
  const files = extractDescriptors(bin);
  const chosen = [...files.keys()].filter((n) => WANTED.has(n)).sort();
  const missing = [...WANTED].filter((n) => !files.has(n) && !n.includes('apiextensions'));
  if (missing.length) throw new Error(`descriptors not found in ${binPath}: ${missing.join(', ')}`);
  const set = descriptor.FileDescriptorSet.create({ file: chosen.map((n) => files.get(n)) });
  // protobufjs keeps map entry messages as repeated fields of nested types: note them to emit maps.
  const mapEntries = new Set();
  const noteEntries = (prefix, msgs) => {
    for (const m of msgs) {
      const name = `${prefix}.${m.name}`;
      if (m.options?.mapEntry) mapEntries.add(name);
      noteEntries(name, m.nestedType ?? []);
    }
  };
  for (const fd of set.file) noteEntries(fd.package, fd.messageType);
  const full = protobuf.Root.fromDescriptor(set);
  full.resolveAll();

  // Roots: every message with `metadata` of type ObjectMeta in an API package, plus extras.
  const roots = [...EXTRA_ROOTS];
  const walk = (ns) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        const md = obj.fields.metadata;
        if (md && md.resolvedType?.fullName === `.${META}.ObjectMeta` && obj.fullName.startsWith('.k8s.io.api.')) roots.push(obj.fullName.slice(1));
      }
      if (obj.nestedArray) walk(obj);
    }
  };
  walk(full);

  const reach = new Set();
  const queue = roots.map((r) => full.lookupType(r));
  while (queue.length) {
    const t = queue.pop();
    const name = t.fullName.slice(1);
    if (reach.has(name)) continue;
    reach.add(name);
    for (const f of t.fieldsArray) {
      if (!(f.resolvedType instanceof protobuf.Type)) continue;
      const entry = f.resolvedType;
      if (mapEntries.has(entry.fullName.slice(1))) {
        if (entry.fields.value.resolvedType) queue.push(entry.fields.value.resolvedType);
      } else queue.push(entry);
    }
  }

  const go = goStructs(bin);
  const goTable = {};
  const noGo = [];
  const outRoot = new protobuf.Root();
  for (const name of [...reach].sort()) {
    const t = full.lookupType(name);
    const pkg = name.slice(0, name.lastIndexOf('.'));
    const nt = new protobuf.Type(t.name);
    const typeRef = (rt) => {
      const target = rt.fullName.slice(1);
      return target.slice(0, target.lastIndexOf('.')) === pkg ? rt.name : `.${target}`;
    };
    for (const f of [...t.fieldsArray].sort((a, b) => a.id - b.id)) {
      const entry = f.resolvedType && mapEntries.has(f.resolvedType.fullName.slice(1)) ? f.resolvedType : undefined;
      if (entry) {
        const v = entry.fields.value;
        nt.add(new protobuf.MapField(f.name, f.id, entry.fields.key.type, v.resolvedType ? typeRef(v.resolvedType) : v.type));
        continue;
      }
      const type = f.resolvedType ? typeRef(f.resolvedType) : f.type;
      // proto2 repeated scalars are unpacked: keep that for encoding.
      const packable = f.repeated && !f.resolvedType && !['string', 'bytes'].includes(f.type);
      nt.add(new protobuf.Field(f.name, f.id, type, f.repeated ? 'repeated' : undefined, undefined, packable ? { packed: false } : undefined));
    }
    outRoot.define(pkg).add(nt);
    if (SPECIAL.has(name)) continue;
    const gofields = go.get(name);
    if (mapEntries.has(name)) throw new Error(`map entry ${name} reached as a message`);
    if (!gofields) {
      const fa = t.fieldsArray;
      if (fa.length === 1 && fa[0].name === 'items' && fa[0].repeated) goTable[name] = '[]';
      else noGo.push(name);
      continue;
    }
    const byNum = new Map();
    for (const g of gofields) {
      const m = /(?:^| )protobuf:"[a-z0-9]+,(\d+),/.exec(g.tag);
      if (m) byNum.set(Number(m[1]), g);
    }
    const entry = {};
    for (const f of [...t.fieldsArray].sort((a, b) => a.id - b.id)) {
      const g = byNum.get(f.id);
      if (!g) {
        noGo.push(`${name}.${f.name}`);
        continue;
      }
      const flags = goFlags(f, g, mapEntries);
      if (flags) entry[f.name] = flags;
    }
    if (Object.keys(entry).length) goTable[name] = entry;
  }
  // Types made here default to proto2; "edition" on each one is redundant for decoding and the
  // only proto2 difference that matters for encoding (unpacked repeated scalars) is explicit.
  const strip = (o) => {
    if (Array.isArray(o) || o === null || typeof o !== 'object') return o;
    const r = {};
    for (const [k, v] of Object.entries(o)) if (k !== 'edition') r[k] = strip(v);
    return r;
  };
  let version = 'unknown version';
  try {
    version = JSON.parse(execFileSync(binPath, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })).clientVersion.gitVersion;
  } catch {
    /* keep "unknown version" */
  }
  const about = `generated by scripts/gen-proto-schema.mjs from the descriptors and Go type data in kubectl ${version}`;
  const json = { about, nested: strip(outRoot.toJSON()).nested, go: goTable };
  const text = `${JSON.stringify(json)}\n`;
  writeFileSync(OUT, text);
  const kinds = roots.length;
  process.stderr.write(
    `gen-proto-schema: ${binPath}: ${files.size} descriptors, ${chosen.length} used, ${kinds} roots, ` +
      `${reach.size} messages, ${go.size} Go structs; wrote ${OUT} (${text.length} bytes)\n`,
  );
  if (noGo.length) process.stderr.write(`gen-proto-schema: no Go struct info for: ${noGo.join(', ')}\n`);
}

main();
