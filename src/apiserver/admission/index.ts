/**
 * Admission run by the object store before a create or update is written: resource quota
 * (./quota.ts, validating) and RuntimeClass (./runtimeclass.ts, a mutating and a validating
 * stage); {@link AdmissionAttributes} is what the store's hooks pass, {@link chainAdmit}
 * runs several plugins as one hook.
 */
import type { KubeObject, ResourceDef } from '../../api/resource.js';

export { QuotaAdmission, type QuotaAdmissionOptions } from './quota.js';
export { RuntimeClassAdmission, runtimeClassLookup, type RuntimeClassAdmissionOptions } from './runtimeclass.js';

/** One write as admission sees it (after defaults and validation, before storage). */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE';
  def: ResourceDef;
  /** The object about to be written (must not be mutated). */
  obj: KubeObject;
  /** The stored object an update replaces. */
  old?: KubeObject;
  /** Set for subresource writes (status, binding...). */
  subresource?: string;
  dryRun: boolean;
}

/** Refuses a write by throwing an ApiError; resolves (or returns) to let it through. */
export type AdmitFunc = (a: AdmissionAttributes) => Promise<void> | void;

/** Runs admission functions one after the other (the first refusal wins). */
export function chainAdmit(...fns: AdmitFunc[]): AdmitFunc {
  return async (a) => {
    for (const f of fns) await f(a);
  };
}
