/**
 * The Namespace kind: the kubernetes.io/metadata.name label, the "kubernetes" spec finalizer
 * and phase Active on create, phase rules on status writes, and `kubectl get ns`.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { isQualifiedName } from '../../../apimachinery/validation.js';
import type { ResourceDef } from '../../resource.js';
import { arr, ensureObj, obj, str } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';

/** The label every namespace carries with its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The spec finalizer the namespace controller removes once the namespace is empty. */
export const FINALIZER_KUBERNETES = 'kubernetes';

const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

/** Validates spec.finalizers: qualified names, unprefixed ones must be standard. */
export function validateNamespaceFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of arr(finalizers)) {
    const msgs = isQualifiedName(f);
    for (const m of msgs) errs.push(fieldErrors.invalid(path, f, m));
    if (msgs.length === 0 && !str(f).includes('/') && !STANDARD_FINALIZERS.includes(str(f)))
      errs.push(fieldErrors.invalid(path, f, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

/** The namespaces ResourceDef (cluster-scoped, names are DNS-1123 labels). */
export const namespaceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true, other: ['finalize'] },
  openapiName: 'io.k8s.api.core.v1.Namespace',
  nameValidation: 'label',
  strategy: {
    generationFields: [],
    default(ns) {
      const labels = (ns.metadata.labels ?? {}) as Record<string, string>;
      if (ns.metadata.name) labels[NAMESPACE_NAME_LABEL] = ns.metadata.name;
      (ns.metadata as { labels?: Record<string, string> }).labels = labels;
    },
    prepareForCreate(ns) {
      ns.status = { phase: 'Active' };
      const spec = ensureObj(ns, 'spec');
      const fins = arr(spec.finalizers);
      if (!fins.includes(FINALIZER_KUBERNETES)) spec.finalizers = [...fins, FINALIZER_KUBERNETES];
    },
    prepareForUpdate(ns, old) {
      // spec.finalizers change only through the finalize subresource, as upstream.
      ns.spec = structuredClone(old.spec);
    },
    prepareForDelete(ns) {
      // A namespace with finalizers stays Terminating until the namespace controller empties it.
      if (!arr(obj(ns.spec).finalizers).length) return false;
      ns.status = { ...obj(ns.status), phase: 'Terminating' };
      return true;
    },
    validate: (ns) => validateNamespaceFinalizers(obj(ns.spec).finalizers, 'spec.finalizers'),
    validateStatusUpdate(ns) {
      const phase = obj(ns.status).phase;
      if (!ns.metadata.deletionTimestamp) {
        if (phase !== 'Active') return [fieldErrors.invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty")];
      } else if (phase !== 'Terminating') {
        return [fieldErrors.invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty")];
      }
      return [];
    },
  },
  table: {
    columns: [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
    cells: (ns, now) => [ns.metadata.name, str(obj(ns.status).phase), ageCell(ns, now)],
  },
  fieldSelectors: {
    'status.phase': (ns) => str(obj(ns.status).phase),
  },
};
