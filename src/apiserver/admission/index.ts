/**
 * Validating admission run by the object store before a create or update is written.
 * Only resource quota exists today (./quota.ts); {@link AdmissionAttributes} is what the
 * store's `admit` hook passes.
 */
import type { KubeObject, ResourceDef } from '../../api/resource.js';

export { QuotaAdmission, type QuotaAdmissionOptions } from './quota.js';

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
