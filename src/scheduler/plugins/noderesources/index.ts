/**
 * The node resources plugins: NodeResourcesFit and NodeResourcesBalancedAllocation, with
 * their args and the shared resource-allocation scorer.
 */
export {
  NAME,
  NAME as FIT_NAME,
  NodeResourcesFit,
  factory,
  factory as fitFactory,
  fitsRequest,
  fits,
  computeFitState,
  isExtendedResourceName,
  ERR_REASON_TOO_MANY_PODS,
  type FitPreFilterState,
  type InsufficientResource,
} from './fit.js';
export {
  NAME as BALANCED_ALLOCATION_NAME,
  NodeResourcesBalancedAllocation,
  factory as balancedAllocationFactory,
} from './balancedallocation.js';
export * from './args.js';
export * from './resourceallocation.js';
