/**
 * NodeResourcesFitArgs and NodeResourcesBalancedAllocationArgs: upstream v1 defaulting
 * and validation (field paths and messages as upstream).
 */
import { isQualifiedName } from '../../../apimachinery/validation.js';
import { invalidField, requiredField, throwIfErrors, unsupportedField } from '../helpers/args.js';
import { DEFAULT_RESOURCES, type ResourceSpec, type UtilizationShapePoint } from './resourceallocation.js';

/** Scoring strategies of NodeResourcesFit. */
export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
/** Supported strategy names. */
export const SCORING_STRATEGY_TYPES: readonly ScoringStrategyType[] = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'];

/** NodeResourcesFitArgs.scoringStrategy. */
export interface ScoringStrategy {
  type?: ScoringStrategyType;
  resources?: ResourceSpec[];
  requestedToCapacityRatio?: { shape?: UtilizationShapePoint[] };
}

/** NodeResourcesFitArgs (upstream field names). */
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

/** NodeResourcesFitArgs after defaulting and validation. */
export interface ParsedFitArgs {
  ignoredResources: string[];
  ignoredResourceGroups: string[];
  scoringStrategy: { type: ScoringStrategyType; resources: ResourceSpec[]; requestedToCapacityRatio?: { shape: UtilizationShapePoint[] } };
}

function defaultResources(res: ResourceSpec[] | undefined): ResourceSpec[] {
  const list = res && res.length ? res : DEFAULT_RESOURCES;
  return list.map((r) => ({ name: r.name, weight: r.weight || 1 }));
}

function validateLabelName(v: unknown, path: string, errs: string[]): void {
  for (const m of isQualifiedName(v)) errs.push(invalidField(path, v, m));
}

/** Upstream validateFunctionShape: at least one point, increasing utilization 0..100, score 0..10. */
export function validateFunctionShape(shape: readonly UtilizationShapePoint[], path: string): string[] {
  const errs: string[] = [];
  if (shape.length === 0) return [requiredField(path, 'at least one point must be specified')];
  for (let i = 1; i < shape.length; i++) {
    if (shape[i - 1]!.utilization >= shape[i]!.utilization) {
      errs.push(invalidField(`${path}[${i}].utilization`, shape[i]!.utilization, 'utilization values must be sorted in increasing order'));
      break;
    }
  }
  shape.forEach((p, i) => {
    if (!(p.utilization >= 0 && p.utilization <= 100)) errs.push(invalidField(`${path}[${i}].utilization`, p.utilization, 'not in valid range [0, 100]'));
    if (!(p.score >= 0 && p.score <= 10)) errs.push(invalidField(`${path}[${i}].score`, p.score, 'not in valid range [0, 10]'));
  });
  return errs;
}

/** Defaults and validates NodeResourcesFitArgs; throws an Error listing every problem. */
export function parseFitArgs(args: NodeResourcesFitArgs): ParsedFitArgs {
  const errs: string[] = [];
  const ignoredResources = args.ignoredResources ?? [];
  const ignoredResourceGroups = args.ignoredResourceGroups ?? [];
  ignoredResources.forEach((r, i) => validateLabelName(r, `ignoredResources[${i}]`, errs));
  ignoredResourceGroups.forEach((g, i) => {
    if (String(g).includes('/')) errs.push(invalidField(`ignoredResourceGroups[${i}]`, g, "resource group name can't contain '/'"));
    validateLabelName(g, `ignoredResourceGroups[${i}]`, errs);
  });
  const s = args.scoringStrategy ?? { type: 'LeastAllocated' as const };
  const type = s.type as ScoringStrategyType;
  if (!SCORING_STRATEGY_TYPES.includes(type)) errs.push(unsupportedField('scoringStrategy.type', s.type ?? '', SCORING_STRATEGY_TYPES));
  const resources = defaultResources(s.resources);
  resources.forEach((r, i) => {
    if (!(r.weight >= 1 && r.weight <= 100))
      errs.push(invalidField(`scoringStrategy.resources[${i}].weight`, r.weight, `resource weight of ${r.name} not in valid range [1, 100]`));
  });
  let rtcr: { shape: UtilizationShapePoint[] } | undefined;
  if (s.requestedToCapacityRatio || type === 'RequestedToCapacityRatio') {
    const shape = s.requestedToCapacityRatio?.shape ?? [];
    errs.push(...validateFunctionShape(shape, 'scoringStrategy.shape'));
    rtcr = { shape: shape.map((p) => ({ utilization: p.utilization, score: p.score })) };
  }
  throwIfErrors(errs);
  return {
    ignoredResources: [...ignoredResources],
    ignoredResourceGroups: [...ignoredResourceGroups],
    scoringStrategy: { type, resources, ...(rtcr ? { requestedToCapacityRatio: rtcr } : {}) },
  };
}

/** NodeResourcesBalancedAllocationArgs. */
export interface NodeResourcesBalancedAllocationArgs {
  resources?: ResourceSpec[];
}

/** Defaults (cpu, memory) and validates BalancedAllocation args: weights must be 1, no duplicates. */
export function parseBalancedAllocationArgs(args: NodeResourcesBalancedAllocationArgs): ResourceSpec[] {
  const errs: string[] = [];
  const resources = defaultResources(args.resources);
  const seen = new Set<string>();
  resources.forEach((r, i) => {
    if (r.weight !== 1) errs.push(invalidField(`resources[${i}].weight`, r.weight, 'must be 1'));
    if (seen.has(r.name)) errs.push(`resources[${i}].name: Duplicate value: ${JSON.stringify(r.name)}`);
    seen.add(r.name);
  });
  throwIfErrors(errs);
  return resources;
}
