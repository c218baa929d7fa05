/**
 * RuntimeClass admission (upstream plugin `RuntimeClass`, plugin/pkg/admission/runtimeclass)
 * for pod creates with spec.runtimeClassName. Mutating stage ({@link RuntimeClassAdmission.admit},
 * must run before the pod is validated and written): the class must exist; its
 * overhead.podFixed becomes spec.overhead (a different overhead already set is refused); its
 * scheduling.nodeSelector is merged into spec.nodeSelector (a key with another value is
 * refused) and its scheduling.tolerations not already covered are appended. Validating
 * stage ({@link RuntimeClassAdmission.validate}): spec.overhead must equal the class's
 * overhead, and is refused without one. Refusals are 403 Forbidden with upstream's messages.
 */
import type { KubeObject, ResourceRegistry } from '../../api/resource.js';
import { forbidden, isNotFound } from '../../apimachinery/errors.js';
import { tryParseQuantity } from '../../apimachinery/quantity.js';
import type { ObjectStore } from '../registry/store.js';
import type { AdmissionAttributes } from './index.js';

type ResourceList = Record<string, string | number>;
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}
interface PodSpecView {
  runtimeClassName?: string;
  overhead?: ResourceList;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
}

/** Options of {@link RuntimeClassAdmission}. */
export interface RuntimeClassAdmissionOptions {
  /** Reads a RuntimeClass by name; undefined when it does not exist. */
  getRuntimeClass(name: string): Promise<KubeObject | undefined>;
}

/** A RuntimeClass lookup reading the object store (NotFound → undefined). */
export function runtimeClassLookup(store: Pick<ObjectStore, 'get'>, registry: ResourceRegistry): (name: string) => Promise<KubeObject | undefined> {
  return async (name) => {
    const def = registry.byResource('node.k8s.io', 'runtimeclasses');
    if (!def) return undefined;
    try {
      return await store.get(def, '', name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
}

/** Semantic equality of two resource lists ("100m" equals "0.1"); undefined and {} are different, as upstream. */
export function sameResources(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => {
    if (!(k in b)) return false;
    const qa = tryParseQuantity(a[k]!), qb = tryParseQuantity(b[k]!);
    return qa && qb ? qa.equals(qb) : String(a[k]) === String(b[k]);
  });
}

/** True when toleration `t` tolerates whatever `u` does (so `u` adds nothing); upstream isSuperset, simplified. */
export function tolerationCovers(t: Toleration, u: Toleration): boolean {
  if (t.effect && t.effect !== u.effect) return false;
  if (t.effect === 'NoExecute' || (!t.effect && u.effect === 'NoExecute')) {
    if (t.tolerationSeconds !== undefined && (u.tolerationSeconds === undefined || u.tolerationSeconds > t.tolerationSeconds)) return false;
  }
  const op = (x: Toleration) => x.operator || 'Equal';
  if (op(t) === 'Exists') return !t.key || t.key === u.key;
  return op(u) === 'Equal' && t.key === u.key && (t.value ?? '') === (u.value ?? '');
}

/** The RuntimeClass admission plugin: `admit` mutates, `validate` checks (both for pod creates only). */
export class RuntimeClassAdmission {
  constructor(private readonly o: RuntimeClassAdmissionOptions) {}

  private static applies(a: AdmissionAttributes): boolean {
    return a.operation === 'CREATE' && !a.subresource && a.def.group === '' && a.def.plural === 'pods';
  }

  private static refuse(a: AdmissionAttributes, message: string): never {
    const name = a.obj.metadata.name ?? '';
    throw forbidden(`pods "${name}" is forbidden: ${message}`, { name, kind: 'pods' });
  }

  /** Mutating stage: applies the class's overhead and scheduling to the pod (`a.obj`, changed in place). */
  admit = async (a: AdmissionAttributes): Promise<void> => {
    if (!RuntimeClassAdmission.applies(a)) return;
    const spec = (a.obj['spec'] ?? {}) as PodSpecView;
    const className = spec.runtimeClassName;
    if (!className) return;
    const rc = await this.o.getRuntimeClass(className);
    if (!rc) RuntimeClassAdmission.refuse(a, `pod rejected: RuntimeClass ${JSON.stringify(className)} not found`);
    const podFixed = (rc['overhead'] as { podFixed?: ResourceList } | undefined)?.podFixed;
    if (podFixed !== undefined) {
      if (spec.overhead !== undefined && !sameResources(spec.overhead, podFixed))
        RuntimeClassAdmission.refuse(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
      spec.overhead = structuredClone(podFixed);
    }
    const scheduling = rc['scheduling'] as { nodeSelector?: Record<string, string>; tolerations?: Toleration[] } | undefined;
    const selector = scheduling?.nodeSelector ?? {};
    if (Object.keys(selector).length) {
      const merged = { ...(spec.nodeSelector ?? {}) };
      for (const [k, v] of Object.entries(selector)) {
        if (k in merged && merged[k] !== v)
          RuntimeClassAdmission.refuse(a, `conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${merged[k]}`);
        merged[k] = v;
      }
      spec.nodeSelector = merged;
    }
    const extra = (scheduling?.tolerations ?? []).filter((u) => !(spec.tolerations ?? []).some((t) => tolerationCovers(t, u)));
    if (extra.length) spec.tolerations = [...(spec.tolerations ?? []), ...structuredClone(extra)];
    a.obj['spec'] = spec;
  };

  /** Validating stage (upstream validateOverhead): spec.overhead must be the class's, and needs a class with one. */
  validate = async (a: AdmissionAttributes): Promise<void> => {
    if (!RuntimeClassAdmission.applies(a)) return;
    const spec = (a.obj['spec'] ?? {}) as PodSpecView;
    const rc = spec.runtimeClassName ? await this.o.getRuntimeClass(spec.runtimeClassName) : undefined;
    const podFixed = (rc?.['overhead'] as { podFixed?: ResourceList } | undefined)?.podFixed;
    if (rc && podFixed !== undefined) {
      if (!sameResources(spec.overhead, podFixed)) RuntimeClassAdmission.refuse(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    } else if (spec.overhead !== undefined) {
      RuntimeClassAdmission.refuse(a, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
    }
  };
}
