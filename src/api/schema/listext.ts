/**
 * OpenAPI list/map extensions (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
 * `x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`, `x-kubernetes-map-type`)
 * per model field, derived from the patch engines' table (src/apimachinery/patch/mergekeys.ts)
 * by walking each registered built-in kind's type tree.
 */
import { builtinPatchSchema, hasBuiltinPatchSchema, listKeys } from '../../apimachinery/patch/mergekeys.js';
import type { ResourceDef } from '../resource.js';
import type { ModelGraph, ModelType } from './models.js';
import { classOfDef } from './naming.js';

/** Extensions to merge into a property schema, keyed by "Class.field". */
export type FieldExtensions = Map<string, Record<string, unknown>>;

/** Extensions for every field of the given built-in kinds that the patch table describes. */
export function fieldExtensions(defs: ResourceDef[], graph: ModelGraph): FieldExtensions {
  const out: FieldExtensions = new Map();
  // Each class is walked once: the tables mount the same rules wherever a type recurs
  // (containers/initContainers, a pod template under any workload). Kinds with rules go
  // first, core first, so a shared type is met where its own kind describes it.
  const seen = new Set<string>();
  const kinds = defs
    .filter((d) => !d.custom && hasBuiltinPatchSchema(d.group, d.kind))
    .sort((a, b) => (a.group === b.group ? a.kind.localeCompare(b.kind) : a.group === '' ? -1 : b.group === '' ? 1 : a.group.localeCompare(b.group)));
  const metaOnly = defs.find((d) => !d.custom && !hasBuiltinPatchSchema(d.group, d.kind));
  if (metaOnly) kinds.push(metaOnly);
  for (const def of kinds) {
    const cls = classOfDef(def, graph);
    if (!cls) continue;
    const schema = builtinPatchSchema(def.group, def.kind);
    const visit = (c: string, path: string[]): void => {
      const model = graph.get(c);
      if (!model || seen.has(c)) return;
      seen.add(c);
      for (const f of model.fields) {
        let t: ModelType = f.type;
        if (t.kind !== 'array' && t.kind !== 'ref' && t.kind !== 'map') continue;
        const p = [...path, f.name];
        const key = `${c}.${f.name}`;
        if (t.kind === 'array') {
          const info = schema.at(p);
          if (info && !out.has(key)) {
            const ext: Record<string, unknown> = { 'x-kubernetes-list-type': info.listType };
            const keys = listKeys(info);
            if (info.listType === 'map' && keys.length > 0) ext['x-kubernetes-list-map-keys'] = keys;
            if (info.mergeKey) ext['x-kubernetes-patch-merge-key'] = info.mergeKey;
            if (info.strategy) ext['x-kubernetes-patch-strategy'] = info.strategy;
            out.set(key, ext);
          }
          while (t.kind === 'array') t = t.items;
        } else if (!out.has(key) && schema.mapType?.(p) === 'atomic') {
          out.set(key, { 'x-kubernetes-map-type': 'atomic' });
        }
        if (t.kind === 'ref') visit(t.model, p);
      }
    };
    visit(cls, []);
  }
  return out;
}
