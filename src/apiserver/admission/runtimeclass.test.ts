import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { RuntimeClassAdmission, sameResources, tolerationCovers } from './runtimeclass.js';
import type { AdmissionAttributes } from './index.js';
import { chainAdmit } from './index.js';

const PODS = { group: '', plural: 'pods', namespaced: true } as ResourceDef;
const CMS = { group: '', plural: 'configmaps', namespaced: true } as ResourceDef;

const classes: Record<string, KubeObject> = {
  kata: {
    metadata: { name: 'kata' },
    handler: 'kata',
    overhead: { podFixed: { cpu: '250m', memory: '120Mi' } },
    scheduling: {
      nodeSelector: { 'runtime/kata': 'true' },
      tolerations: [{ key: 'runtime', operator: 'Equal', value: 'kata', effect: 'NoSchedule' }],
    },
  },
  plain: { metadata: { name: 'plain' }, handler: 'runc' },
};
const plugin = new RuntimeClassAdmission({ getRuntimeClass: async (n) => classes[n] });

const pod = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });
const attrs = (obj: KubeObject, extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({ operation: 'CREATE', def: PODS, obj, dryRun: false, ...extra });
async function refused(p: Promise<void>, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'Forbidden');
    assert.equal(e.message, `pods "p" is forbidden: ${message}`);
    return true;
  });
}

test('a pod of a missing class is refused', async () => {
  await refused(plugin.admit(attrs(pod({ runtimeClassName: 'gvisor' }))), 'pod rejected: RuntimeClass "gvisor" not found');
});

test('the class overhead, node selector and tolerations are added', async () => {
  const p = pod({ runtimeClassName: 'kata', nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'other', operator: 'Exists' }] });
  await plugin.admit(attrs(p));
  const spec = p['spec'] as Record<string, unknown>;
  assert.deepEqual(spec['overhead'], { cpu: '250m', memory: '120Mi' });
  assert.deepEqual(spec['nodeSelector'], { disk: 'ssd', 'runtime/kata': 'true' });
  assert.deepEqual(spec['tolerations'], [{ key: 'other', operator: 'Exists' }, { key: 'runtime', operator: 'Equal', value: 'kata', effect: 'NoSchedule' }]);
  await plugin.validate(attrs(p)); // the mutated pod passes the validating stage
  // Admitting twice changes nothing (tolerations already present are not repeated).
  await plugin.admit(attrs(p));
  assert.equal((spec['tolerations'] as unknown[]).length, 2);
});

test('an equal overhead passes; a different one is refused', async () => {
  const same = pod({ runtimeClassName: 'kata', overhead: { cpu: '0.25', memory: '120Mi' } });
  await plugin.admit(attrs(same));
  const msg = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead";
  await refused(plugin.admit(attrs(pod({ runtimeClassName: 'kata', overhead: { cpu: '1' } }))), msg);
  await refused(plugin.validate(attrs(pod({ runtimeClassName: 'kata', overhead: { cpu: '1' } }))), msg);
});

test('a conflicting node selector is refused', async () => {
  await refused(
    plugin.admit(attrs(pod({ runtimeClassName: 'kata', nodeSelector: { 'runtime/kata': 'false' } }))),
    'conflict: runtimeClass.scheduling.nodeSelector[runtime/kata] = true; pod.spec.nodeSelector[runtime/kata] = false',
  );
});

test('a class without overhead or scheduling leaves the pod as is; overhead without a class is refused', async () => {
  const p = pod({ runtimeClassName: 'plain' });
  const before = structuredClone(p);
  await plugin.admit(attrs(p));
  await plugin.validate(attrs(p));
  assert.deepEqual(p, before);
  await refused(plugin.validate(attrs(pod({ overhead: { cpu: '1' } }))), 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  await refused(plugin.validate(attrs(pod({ runtimeClassName: 'plain', overhead: { cpu: '1' } }))), 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
});

test('only pod creates are looked at', async () => {
  const p = pod({ runtimeClassName: 'gvisor' });
  await plugin.admit(attrs(p, { operation: 'UPDATE', old: p }));
  await plugin.admit(attrs(p, { subresource: 'status' }));
  await plugin.admit(attrs({ metadata: { name: 'cm' }, spec: { runtimeClassName: 'gvisor' } }, { def: CMS }));
  await plugin.admit(attrs(pod({})));
});

test('helpers: quantities compare semantically, tolerations cover narrower ones, chainAdmit runs in order', async () => {
  assert.equal(sameResources({ cpu: '100m' }, { cpu: '0.1' }), true);
  assert.equal(sameResources({ cpu: '100m' }, { cpu: '100m', memory: '1Gi' }), false);
  assert.equal(sameResources(undefined, {}), false);
  assert.equal(tolerationCovers({ operator: 'Exists' }, { key: 'a', value: 'b', effect: 'NoSchedule' }), true);
  assert.equal(tolerationCovers({ key: 'a', operator: 'Exists', effect: 'NoSchedule' }, { key: 'a', value: 'x', effect: 'NoSchedule' }), true);
  assert.equal(tolerationCovers({ key: 'a', value: 'y' }, { key: 'a', value: 'x' }), false);
  assert.equal(tolerationCovers({ key: 'a', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }, { key: 'a', operator: 'Exists', effect: 'NoExecute' }), false);
  const seen: string[] = [];
  await chainAdmit(() => void seen.push('a'), async () => void seen.push('b'))(attrs(pod({})));
  assert.deepEqual(seen, ['a', 'b']);
});
