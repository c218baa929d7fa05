/**
 * autoscaling/v2 HorizontalPodAutoscaler: defaults (minReplicas 1, CPU at 80% when no
 * metric is given, scaling behavior filled in when present), validation of the target,
 * replica bounds, metrics and behavior, the status subresource, and the table (NAME
 * REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE).
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { isValidPathSegmentName, validateEnum, validateWith } from '../../apimachinery/validation.js';
import { ensureObj, isObj, num, obj, objs, setDefault, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { canonicalQuantity } from './core/quantity.js';
import { int, validateStatusCounters } from './common.js';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
/** The spec field holding each metric source type. */
const SOURCE_FIELD: Record<string, string> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  ContainerResource: 'containerResource',
  External: 'external',
};
const MAX_STABILIZATION_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

function scaleUpDefaults(): Record<string, unknown> {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

function scaleDownDefaults(): Record<string, unknown> {
  return { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Fills autoscaling/v2 defaults in place. */
export function defaultHorizontalPodAutoscaler(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  if (isObj(spec.behavior)) {
    for (const [dir, dflt] of [
      ['scaleUp', scaleUpDefaults()],
      ['scaleDown', scaleDownDefaults()],
    ] as const) {
      const rules = ensureObj(spec.behavior, dir);
      for (const [k, v] of Object.entries(dflt)) setDefault(rules, k, v);
    }
  }
}

function validateTarget(target: unknown, path: string): FieldError[] {
  const t = obj(target);
  const errs = validateEnum(t.type ?? '', ['AverageValue', 'Utilization', 'Value'], `${path}.type`);
  if (t.type === 'Utilization' && t.averageUtilization == null) errs.push(fieldErrors.required(`${path}.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (t.type === 'Value' && t.value == null) errs.push(fieldErrors.required(`${path}.value`, 'must set either a target value for metric or a per-pod target'));
  if (t.type === 'AverageValue' && t.averageValue == null) errs.push(fieldErrors.required(`${path}.averageValue`, 'must set either a target value for metric or a per-pod target'));
  const util = num(t.averageUtilization);
  if (util !== undefined && util < 1) errs.push(fieldErrors.invalid(`${path}.averageUtilization`, util, 'must be greater than 0'));
  return errs;
}

function validateMetric(metric: unknown, path: string): FieldError[] {
  const m = obj(metric);
  const errs: FieldError[] = [];
  if (!m.type) return [fieldErrors.required(`${path}.type`, 'must specify a metric source type')];
  if (!METRIC_TYPES.includes(m.type as string)) return [fieldErrors.notSupported(`${path}.type`, m.type, METRIC_TYPES)];
  const expected = SOURCE_FIELD[m.type as string]!;
  for (const f of Object.values(SOURCE_FIELD)) {
    if (f !== expected && m[f] != null) errs.push(fieldErrors.forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  }
  const source = m[expected];
  if (!isObj(source)) return [...errs, fieldErrors.required(`${path}.${expected}`, 'must populate information for the given metric source')];
  const sp = `${path}.${expected}`;
  if (m.type === 'Resource' || m.type === 'ContainerResource') {
    if (!source.name) errs.push(fieldErrors.required(`${sp}.name`, 'must specify a resource name'));
    if (m.type === 'ContainerResource' && !source.container) errs.push(fieldErrors.required(`${sp}.container`, 'must specify a container'));
  } else if (!obj(source.metric).name) {
    errs.push(fieldErrors.required(`${sp}.metric.name`, 'must specify a metric name'));
  }
  if (m.type === 'Object') {
    const ref = obj(source.describedObject);
    if (!ref.kind) errs.push(fieldErrors.required(`${sp}.describedObject.kind`));
    if (!ref.name) errs.push(fieldErrors.required(`${sp}.describedObject.name`));
  }
  return [...errs, ...validateTarget(source.target, `${sp}.target`)];
}

function validateScalingRules(rules: unknown, path: string): FieldError[] {
  if (!isObj(rules)) return [];
  const errs: FieldError[] = [];
  const window = num(rules.stabilizationWindowSeconds);
  if (window !== undefined && window < 0) errs.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
  if (window !== undefined && window > MAX_STABILIZATION_SECONDS) {
    errs.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_SECONDS}`));
  }
  errs.push(...validateEnum(rules.selectPolicy ?? undefined, ['Disabled', 'Max', 'Min'], `${path}.selectPolicy`));
  const policies = objs(rules.policies);
  if (policies.length === 0 && rules.selectPolicy !== 'Disabled') errs.push(fieldErrors.required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    errs.push(...validateEnum(p.type ?? '', ['Percent', 'Pods'], `${pp}.type`));
    if ((num(p.value) ?? 0) <= 0) errs.push(fieldErrors.invalid(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    const period = num(p.periodSeconds) ?? 0;
    if (period <= 0) errs.push(fieldErrors.invalid(`${pp}.periodSeconds`, period, 'must be greater than zero'));
    if (period > MAX_PERIOD_SECONDS) errs.push(fieldErrors.invalid(`${pp}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/** Validates a HorizontalPodAutoscaler spec. */
export function validateHorizontalPodAutoscaler(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const min = num(spec.minReplicas);
  const max = num(spec.maxReplicas) ?? 0;
  if (min !== undefined && min < 1) errs.push(fieldErrors.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const ref = obj(spec.scaleTargetRef);
  for (const f of ['kind', 'name']) {
    if (!ref[f]) errs.push(fieldErrors.required(`spec.scaleTargetRef.${f}`));
    else errs.push(...validateWith(isValidPathSegmentName, ref[f], `spec.scaleTargetRef.${f}`));
  }
  objs(spec.metrics).forEach((m, i) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  if (isObj(spec.behavior)) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

function q(v: unknown): string {
  return String(canonicalQuantity(v));
}

/** The TARGETS cell (upstream formatHPAMetrics): "cpu: 10%/80%", "<unknown>/500m", first two then "+ N more...". */
export function formatHPAMetrics(o: KubeObject): string {
  const specs = objs(obj(o.spec).metrics);
  const statuses = objs(obj(o.status).currentMetrics);
  if (specs.length === 0) return '<none>';
  const list = specs.map((spec, i) => {
    const status = statuses[i];
    const field = SOURCE_FIELD[str(spec.type)];
    if (!field) return '<unknown type>';
    const source = obj(spec[field]);
    const target = obj(source.target);
    const current = obj(obj(status?.[field]).current);
    const hasStatus = isObj(status?.[field]);
    switch (spec.type) {
      case 'External':
      case 'Object':
        if (target.averageValue != null) return `${hasStatus && current.averageValue != null ? q(current.averageValue) : '<unknown>'}/${q(target.averageValue)} (avg)`;
        return `${hasStatus ? q(current.value ?? '0') : '<unknown>'}/${q(target.value ?? '0')}`;
      case 'Pods':
        return `${hasStatus ? q(current.averageValue ?? '0') : '<unknown>'}/${q(target.averageValue ?? '0')}`;
      default: {
        const name = str(source.name);
        if (target.averageValue != null) return `${name}: ${hasStatus ? q(current.averageValue ?? '0') : '<unknown>'}/${q(target.averageValue)}`;
        const cur = hasStatus && typeof current.averageUtilization === 'number' ? `${current.averageUtilization}%` : '<unknown>';
        const tgt = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
        return `${name}: ${cur}/${tgt}`;
      }
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

/** horizontalpodautoscalers.autoscaling/v2. */
export const horizontalPodAutoscalerResource: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    default: (o) => defaultHorizontalPodAutoscaler(o),
    validate: validateHorizontalPodAutoscaler,
    validateStatusUpdate: (o) => validateStatusCounters(o.status, 'status', ['currentReplicas', 'desiredReplicas', 'observedGeneration']),
  },
  openapiName: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  table: {
    columns: [
      nameColumn,
      column('Reference', 'string', 'The scaled object, as Kind/name.'),
      column('Targets', 'string', 'Current and target values of the metrics.'),
      column('MinPods', 'string', 'Lower replica bound.'),
      column('MaxPods', 'string', 'Upper replica bound.'),
      column('Replicas', 'string', 'Current number of replicas.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      const ref = obj(spec.scaleTargetRef);
      const min = num(spec.minReplicas);
      return [
        o.metadata.name,
        `${str(ref.kind)}/${str(ref.name)}`,
        formatHPAMetrics(o),
        min === undefined ? '<unset>' : String(min),
        int(spec, 'maxReplicas'),
        int(o.status, 'currentReplicas'),
        ageCell(o, now),
      ];
    },
  },
};

/** HorizontalPodAutoscaler (autoscaling/v2). */
export function autoscalingResources(): ResourceDef[] {
  return [horizontalPodAutoscalerResource];
}
