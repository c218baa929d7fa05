/**
 * scheduling.k8s.io/v1 PriorityClass: value immutable, values above 1e9 and the
 * "system-" prefix reserved for the built-in classes, at most one globalDefault (checked
 * against stored classes), built-in classes undeletable. Table: NAME VALUE GLOBAL-DEFAULT
 * AGE PREEMPTIONPOLICY.
 */
import type { KubeObject, ResourceDef, StrategyContext } from '../resource.js';
import { fieldErrors, forbidden, type FieldError } from '../../apimachinery/errors.js';
import { validateEnum, validateImmutable } from '../../apimachinery/validation.js';
import { num, setDefault } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';

/** Highest priority a user-defined class may have. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** Prefix reserved for the built-in classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';

/** A built-in priority class: name, value and description. */
export interface SystemPriorityClass {
  name: string;
  value: number;
  description: string;
}

/** The built-in classes the API server creates at startup. */
export const SYSTEM_PRIORITY_CLASSES: readonly SystemPriorityClass[] = [
  {
    name: 'system-node-critical',
    value: 2_000_001_000,
    description: 'For pods a node cannot work without; they are the last to be evicted or preempted.',
  },
  {
    name: 'system-cluster-critical',
    value: 2_000_000_000,
    description: 'For add-ons the cluster depends on; such pods may still be evicted in favour of node-critical ones.',
  },
];

const GROUP = 'scheduling.k8s.io';
const RESOURCE = 'priorityclasses';

/** Fills defaults: value 0 when absent (always serialized upstream), preemptionPolicy PreemptLowerPriority. */
export function defaultPriorityClass(o: KubeObject): void {
  setDefault(o, 'value', 0);
  setDefault(o, 'preemptionPolicy', 'PreemptLowerPriority');
}

/** Validates a PriorityClass: reserved names and values, preemptionPolicy. */
export function validatePriorityClass(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = o.metadata.name ?? '';
  const value = num(o.value) ?? 0;
  if (o.value !== undefined && (typeof o.value !== 'number' || !Number.isInteger(o.value))) {
    errs.push(fieldErrors.typeInvalid('value', o.value, 'must be an integer'));
  }
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const reason = systemClassMismatch(name, value, o.globalDefault === true);
    if (reason) {
      errs.push(fieldErrors.forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${reason}`));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  errs.push(...validateEnum(o.preemptionPolicy ?? undefined, ['Never', 'PreemptLowerPriority'], 'preemptionPolicy'));
  return errs;
}

/** Why (name, value, globalDefault) is not a built-in class; undefined when it is one. */
function systemClassMismatch(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** Update rules: value and preemptionPolicy are immutable. */
export function validatePriorityClassUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if ((num(o.value) ?? 0) !== (num(old.value) ?? 0)) errs.push(fieldErrors.forbidden('value', 'may not be changed in an update.'));
  errs.push(...validateImmutable(o.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

/**
 * The Priority admission rule: a class may become globalDefault only when no other class
 * is. Throws 403 Forbidden naming the existing default.
 */
export async function checkSingleGlobalDefault(o: KubeObject, ctx: StrategyContext, updating: boolean): Promise<void> {
  if (o.globalDefault !== true) return;
  const existing = (await ctx.list(GROUP, RESOURCE)).find((pc) => pc.globalDefault === true && (!updating || pc.metadata.name !== o.metadata.name));
  if (!existing) return;
  const name = o.metadata.name ?? '';
  throw forbidden(
    `${RESOURCE}.${GROUP} "${name}" is forbidden: PriorityClass ${existing.metadata.name ?? ''} is already marked as default. Only one default can exist`,
    { name, group: GROUP, kind: RESOURCE },
  );
}

/** priorityclasses.scheduling.k8s.io/v1 (cluster-scoped, no spec). */
export const priorityClassResource: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'PriorityClass',
  plural: RESOURCE,
  singular: 'priorityclass',
  namespaced: false,
  shortNames: ['pc'],
  strategy: {
    generationFields: [],
    default: (o) => defaultPriorityClass(o),
    prepareForCreate: (o, ctx) => checkSingleGlobalDefault(o, ctx, false),
    prepareForUpdate: (o, _old, ctx) => checkSingleGlobalDefault(o, ctx, true),
    validate: validatePriorityClass,
    validateUpdate: validatePriorityClassUpdate,
    prepareForDelete(o) {
      const name = o.metadata.name ?? '';
      if (!o.metadata.deletionTimestamp && SYSTEM_PRIORITY_CLASSES.some((c) => c.name === name)) {
        throw forbidden(`${RESOURCE}.${GROUP} "${name}" is forbidden: this is a system priority class and cannot be deleted`, { name, group: GROUP, kind: RESOURCE });
      }
      return false;
    },
  },
  openapiName: 'io.k8s.api.scheduling.v1.PriorityClass',
  table: {
    columns: [
      nameColumn,
      column('Value', 'integer', 'Priority of pods using this class.'),
      column('Global-Default', 'boolean', 'Whether pods without a class get this one.'),
      ageColumn,
      column('PreemptionPolicy', 'string', 'Whether pods of this class may preempt lower-priority pods.'),
    ],
    cells: (o, now) => [
      o.metadata.name,
      num(o.value) ?? 0,
      o.globalDefault === true,
      ageCell(o, now),
      typeof o.preemptionPolicy === 'string' ? o.preemptionPolicy : '<unset>',
    ],
  },
};

/** PriorityClass (scheduling.k8s.io/v1). */
export function schedulingResources(): ResourceDef[] {
  return [priorityClassResource];
}
