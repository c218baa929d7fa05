/**
 * Create-only review kinds: authentication.k8s.io SelfSubjectReview (`kubectl auth whoami`)
 * and authorization.k8s.io access reviews (`kubectl auth can-i`). Nothing is stored: the
 * answer is computed from the request. Authorization is not enforced yet (every
 * authenticated user may do everything), so access reviews answer allowed, and say why.
 */
import type { KubeObject, RequestUser, ResourceDef } from '../resource.js';
import { nameColumn } from './core/printers.js';

const CREATE_ONLY = ['create'];
const NOT_ENFORCED = 'k8ts does not enforce authorization yet: every authenticated user is allowed';

function userInfo(u: RequestUser): Record<string, unknown> {
  const info: Record<string, unknown> = { username: u.name, groups: u.groups };
  if (u.uid) info['uid'] = u.uid;
  if (u.extra) info['extra'] = u.extra;
  return info;
}

function review(group: string, kind: string, plural: string, namespaced: boolean, answer: (o: KubeObject, u: RequestUser) => KubeObject): ResourceDef {
  return {
    group,
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: CREATE_ONLY,
    openapiName: `io.k8s.api.${group.split('.')[0]}.v1.${kind}`,
    table: { columns: [nameColumn], cells: (o) => [o.metadata.name ?? ''] },
    review: answer,
  };
}

const allowed = (o: KubeObject): KubeObject => ({ ...o, status: { allowed: true, reason: NOT_ENFORCED } });

/** The review kinds. */
export function reviewResources(): ResourceDef[] {
  return [
    review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews', false, (o, u) => ({ ...o, status: { userInfo: userInfo(u) } })),
    review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, allowed),
    review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews', false, allowed),
    review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true, allowed),
    review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, (o) => ({
      ...o,
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
        evaluationError: NOT_ENFORCED,
      },
    })),
  ];
}
