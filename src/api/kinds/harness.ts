/**
 * Test support for kind definitions: runs a ResourceDef's strategy the way the API server
 * does (defaults, prepare, validate) on a copy of an object, with a fixed uid and clock.
 * Never used by production code.
 */
import type { KubeObject, ResourceDef, StrategyContext } from '../resource.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fakeContext } from './core/fake_context.js';

/** The prepared object and the validation errors. */
export interface StrategyResult {
  obj: KubeObject;
  errs: FieldError[];
}

/** Fixed creation time used by {@link runCreate}. */
export const CREATED_AT = '2024-05-01T12:00:00Z';

/** Runs the create path: uid/creationTimestamp, default, prepareForCreate, validate. */
export async function runCreate(def: ResourceDef, input: KubeObject, ctx: StrategyContext = fakeContext()): Promise<StrategyResult> {
  const obj = structuredClone(input);
  obj.metadata = { uid: 'uid-1', creationTimestamp: CREATED_AT, ...obj.metadata };
  if (def.subresources?.status) delete obj['status'];
  await def.strategy?.default?.(obj, ctx);
  await def.strategy?.prepareForCreate?.(obj, ctx);
  return { obj, errs: def.strategy?.validate?.(obj) ?? [] };
}

/** Runs the main-resource update path over `old` (status kept from `old` when the kind has a status subresource). */
export async function runUpdate(def: ResourceDef, old: KubeObject, input: KubeObject, ctx: StrategyContext = fakeContext()): Promise<StrategyResult> {
  const obj = structuredClone(input);
  obj.metadata = { ...obj.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp };
  if (def.subresources?.status) {
    if (old['status'] === undefined) delete obj['status'];
    else obj['status'] = structuredClone(old['status']);
  }
  await def.strategy?.default?.(obj, ctx);
  await def.strategy?.prepareForUpdate?.(obj, old, ctx);
  return { obj, errs: [...(def.strategy?.validate?.(obj) ?? []), ...(def.strategy?.validateUpdate?.(obj, old) ?? [])] };
}

/** Runs the status-update path: `status` from `input` over a copy of `old`, then validateStatusUpdate. */
export function runStatusUpdate(def: ResourceDef, old: KubeObject, status: unknown): StrategyResult {
  const obj = structuredClone(old);
  obj['status'] = structuredClone(status);
  return { obj, errs: def.strategy?.validateStatusUpdate?.(obj, old) ?? [] };
}

/** The field paths of `errs`, for compact assertions. */
export function fields(errs: FieldError[]): string[] {
  return errs.map((e) => e.field);
}

/** A minimal valid pod template labelled `labels`. */
export function podTemplate(labels: Record<string, string> = { app: 'web' }, restartPolicy?: string): Record<string, unknown> {
  return {
    metadata: { labels },
    spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'web', image: 'nginx:1.25' }] },
  };
}
