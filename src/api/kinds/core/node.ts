/**
 * The Node kind: podCIDR/podCIDRs mirroring, taint and CIDR validation, the once-only
 * podCIDRs/providerID update rules, and `kubectl get nodes` (STATUS, ROLES, VERSION...).
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { isQualifiedName, isValidCIDR, isValidLabelValue, validateEnum, validateWith } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef, TableDef } from '../../resource.js';
import { arr, boolString, ensureObj, isObj, obj, objs, str } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';
import { canonicalizeResourceList, validateNonnegativeQuantity } from './quantity.js';

/** Upstream validateNodeTaints (also used for taints elsewhere): key, value, effect, unique key+effect. */
export function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(taints).forEach((t, i) => {
    const p = `${path}[${i}]`;
    for (const m of isQualifiedName(t.key)) errs.push(fieldErrors.invalid(`${p}.key`, t.key ?? '', m));
    const valueErrs = isValidLabelValue(t.value ?? '');
    if (valueErrs.length) errs.push(fieldErrors.invalid(`${p}.value`, t.value, valueErrs.join(';')));
    if (!str(t.effect)) errs.push(fieldErrors.required(`${p}.effect`));
    else errs.push(...validateEnum(t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute'], `${p}.effect`));
    const key = `${str(t.key)}\x00${str(t.effect)}`;
    if (seen.has(key))
      errs.push({ type: 'FieldValueDuplicate', field: p, message: `Duplicate value: ${JSON.stringify(t)}: taints must be unique by key and effect pair` });
    seen.add(key);
  });
  return errs;
}

function validateNode(node: KubeObject): FieldError[] {
  const spec = obj(node.spec);
  const errs = validateTaints(spec.taints, 'spec.taints');
  const cidrs = arr(spec.podCIDRs);
  cidrs.forEach((c, i) => errs.push(...validateWith(isValidCIDR, c, `spec.podCIDRs[${i}]`)));
  if (cidrs.length > 1) {
    const families = cidrs.map((c) => (str(c).includes(':') ? 6 : 4));
    if (cidrs.length > 2 || families[0] === families[1])
      errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  }
  if (str(spec.podCIDR) && cidrs.length && spec.podCIDR !== cidrs[0])
    errs.push(fieldErrors.invalid('spec.podCIDR', spec.podCIDR, 'must match the first entry of `spec.podCIDRs`'));
  const status = obj(node.status);
  for (const f of ['capacity', 'allocatable'])
    for (const [k, v] of Object.entries(obj(status[f]))) errs.push(...validateNonnegativeQuantity(v, `status.${f}[${k}]`));
  return errs;
}

function validateNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const s = obj(node.spec);
  const o = obj(old.spec);
  const errs: FieldError[] = [];
  const oldCidrs = arr(o.podCIDRs);
  const newCidrs = arr(s.podCIDRs);
  if (oldCidrs.length && (oldCidrs.length !== newCidrs.length || oldCidrs.some((c, i) => c !== newCidrs[i])))
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (str(o.providerID) && o.providerID !== s.providerID)
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

/** Roles from node-role.kubernetes.io/<role> labels and kubernetes.io/role, sorted, comma-joined. */
export function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const r = k.slice('node-role.kubernetes.io/'.length);
      if (r) roles.add(r);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',');
}

/** The STATUS cell: Ready/NotReady/Unknown, plus SchedulingDisabled when cordoned. */
export function nodeStatus(node: KubeObject): string {
  const ready = objs(obj(node.status).conditions).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (obj(node.spec).unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function address(node: KubeObject, type: string): string {
  return str(objs(obj(node.status).addresses).find((a) => a.type === type)?.address) || '<none>';
}

const nodeTable: TableDef = {
  columns: [
    nameColumn,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn,
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).', true),
    column('External-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses', true),
    column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', true),
    column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", true),
    column('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', true),
  ],
  cells(node, now) {
    const info = obj(obj(node.status).nodeInfo);
    return [
      node.metadata.name,
      nodeStatus(node),
      nodeRoles(node) || '<none>',
      ageCell(node, now),
      str(info.kubeletVersion),
      address(node, 'InternalIP'),
      address(node, 'ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ];
  },
};

/** The nodes ResourceDef (cluster-scoped). */
export const nodeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  subresources: { status: true, other: ['proxy'] },
  openapiName: 'io.k8s.api.core.v1.Node',
  strategy: {
    generationFields: [],
    keepStatusOnCreate: true,
    default(node) {
      const spec = ensureObj(node, 'spec');
      // v1 conversion keeps podCIDR and podCIDRs[0] in step.
      if (str(spec.podCIDR) && arr(spec.podCIDRs).length === 0) spec.podCIDRs = [spec.podCIDR];
      if (!str(spec.podCIDR) && arr(spec.podCIDRs).length) spec.podCIDR = arr(spec.podCIDRs)[0];
      const status = node.status;
      if (isObj(status)) {
        canonicalizeResourceList(status.capacity);
        canonicalizeResourceList(status.allocatable);
        if (isObj(status.capacity) && status.allocatable === undefined) status.allocatable = structuredClone(status.capacity);
      }
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
    validateStatusUpdate: validateNode,
  },
  table: nodeTable,
  fieldSelectors: {
    'spec.unschedulable': (n) => boolString(obj(n.spec).unschedulable),
  },
};
