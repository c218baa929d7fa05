import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.js';
import { builtinPatchSchema } from './mergekeys.js';
import { applyStrategicMergePatch } from './strategic.js';

const deploySchema = builtinPatchSchema('apps', 'Deployment');
const podSchema = builtinPatchSchema('', 'Pod');
const LAST = 'kubectl.kubernetes.io/last-applied-configuration';

type Obj = Record<string, any>;

function deployment(containers: Obj[], replicas = 2): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', annotations: { [LAST]: '{}' }, finalizers: ['a', 'b'] },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers, restartPolicy: 'Always' } },
    },
  };
}

test('kubectl client-side apply: add a container, change an image, remove a container and an env entry', () => {
  let live = deployment([{ name: 'nginx', image: 'nginx:1.24', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], imagePullPolicy: 'IfNotPresent' }]);

  // 1. The configuration gains a sidecar.
  live = applyStrategicMergePatch(live, {
    metadata: { annotations: { [LAST]: '{"v":1}\n' } },
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'busybox', name: 'sidecar' }] } } },
  }, deploySchema);
  assert.deepEqual(live.spec.template.spec.containers.map((c: Obj) => c.name), ['nginx', 'sidecar']);
  assert.equal(live.metadata.annotations[LAST], '{"v":1}\n');

  // 2. The nginx image changes; server-set fields (imagePullPolicy) survive.
  live = applyStrategicMergePatch(live, {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.25', name: 'nginx' }] } } },
  }, deploySchema);
  assert.deepEqual(live.spec.template.spec.containers[0], {
    name: 'nginx',
    image: 'nginx:1.25',
    env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
    imagePullPolicy: 'IfNotPresent',
  });

  // 3. The sidecar and env B leave the configuration, and so does replicas.
  live = applyStrategicMergePatch(live, {
    spec: {
      replicas: null,
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }],
          containers: [
            { '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], name: 'nginx' },
            { $patch: 'delete', name: 'sidecar' },
          ],
        },
      },
    },
  }, deploySchema);
  assert.deepEqual(live.spec, {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }], imagePullPolicy: 'IfNotPresent' }], restartPolicy: 'Always' },
    },
  });
});

interface Case {
  name: string;
  doc: Obj;
  patch: unknown;
  want: Obj;
  schema?: typeof podSchema;
}

const c = (name: string, image = 'x', extra: Obj = {}): Obj => ({ name, image, ...extra });
const pod = (spec: Obj, metadata: Obj = { name: 'p' }): Obj => ({ metadata, spec });

test('merges maps and lists as upstream', () => {
  const cases: Case[] = [
    { name: 'scalar replace', doc: pod({ a: 1 }), patch: { spec: { a: 2 } }, want: pod({ a: 2 }) },
    { name: 'null deletes', doc: pod({ a: 1, b: 2 }), patch: { spec: { a: null } }, want: pod({ b: 2 }) },
    { name: 'null on absent key ignored', doc: pod({ a: 1 }), patch: { spec: { zz: null } }, want: pod({ a: 1 }) },
    { name: 'nulls inside new values dropped', doc: pod({}), patch: { spec: { securityContext: { runAsUser: 1, fsGroup: null } } }, want: pod({ securityContext: { runAsUser: 1 } }) },
    { name: 'nested map merge', doc: pod({}, { name: 'p', labels: { a: '1', b: '2' } }), patch: { metadata: { labels: { b: null, c: '3' } } }, want: pod({}, { name: 'p', labels: { a: '1', c: '3' } }) },
    {
      name: 'containers merge by name, new item first when its place is unknown',
      doc: pod({ containers: [c('a'), c('b')] }),
      patch: { spec: { containers: [{ name: 'b', image: 'y' }, { name: 'n', image: 'z' }] } },
      want: pod({ containers: [c('a'), c('b', 'y'), c('n', 'z')] }),
    },
    {
      name: 'only new item goes before live items',
      doc: pod({ containers: [c('a'), c('b')] }),
      patch: { spec: { containers: [{ name: 'n' }] } },
      want: pod({ containers: [{ name: 'n' }, c('a'), c('b')] }),
    },
    {
      name: 'patch order wins among patched items',
      doc: pod({ containers: [c('a'), c('b')] }),
      patch: { spec: { containers: [{ name: 'b', image: '2' }, { name: 'a', image: '1' }] } },
      want: pod({ containers: [c('b', '2'), c('a', '1')] }),
    },
    {
      name: '$setElementOrder reorders and keeps server-only items',
      doc: pod({ containers: [c('a'), c('d'), c('b')] }),
      patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
      want: pod({ containers: [c('d'), c('b'), c('a')] }),
    },
    {
      name: '$setElementOrder for a list absent from live',
      doc: pod({}),
      patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'b' }, { name: 'a' }] } },
      want: pod({ containers: [{ name: 'b' }, { name: 'a' }] }),
    },
    {
      name: '$patch: delete on a list item',
      doc: pod({ containers: [c('a'), c('b'), c('c')] }),
      patch: { spec: { containers: [{ name: 'b', $patch: 'delete' }, { name: 'zz', $patch: 'delete' }] } },
      want: pod({ containers: [c('a'), c('c')] }),
    },
    {
      name: '$patch: replace on a list',
      doc: pod({ containers: [c('a'), c('b')] }),
      patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'q', image: 'n', junk: null }] } },
      want: pod({ containers: [{ name: 'q', image: 'n' }] }),
    },
    { name: '$patch: replace on a map', doc: pod({ securityContext: { a: 1, b: 2 } }), patch: { spec: { securityContext: { $patch: 'replace', c: 3 } } }, want: pod({ securityContext: { c: 3 } }) },
    { name: '$patch: delete on a map empties it', doc: pod({ securityContext: { a: 1 } }), patch: { spec: { securityContext: { $patch: 'delete' } } }, want: pod({ securityContext: {} }) },
    { name: '$patch: merge is the default', doc: pod({ securityContext: { a: 1 } }), patch: { spec: { securityContext: { $patch: 'merge', b: 2 } } }, want: pod({ securityContext: { a: 1, b: 2 } }) },
    { name: 'top-level $patch: replace', doc: pod({ a: 1 }), patch: { $patch: 'replace', metadata: { name: 'q' } }, want: { metadata: { name: 'q' } } },
    {
      name: 'env merged by name inside a container, null removes a field',
      doc: pod({ containers: [c('a', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'x' } } }] })] }),
      patch: { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2', valueFrom: null }] }] } },
      want: pod({ containers: [c('a', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    },
    {
      name: 'ports merged by containerPort',
      doc: pod({ containers: [c('a', 'x', { ports: [{ containerPort: 80, protocol: 'TCP' }] })] }),
      patch: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] } },
      want: pod({ containers: [c('a', 'x', { ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443 }] })] }),
    },
    {
      name: 'volumeMounts merged by mountPath',
      doc: pod({ containers: [c('a', 'x', { volumeMounts: [{ name: 'v', mountPath: '/a' }] })] }),
      patch: { spec: { containers: [{ name: 'a', volumeMounts: [{ name: 'w', mountPath: '/a', readOnly: true }] }] } },
      want: pod({ containers: [c('a', 'x', { volumeMounts: [{ name: 'w', mountPath: '/a', readOnly: true }] })] }),
    },
    {
      name: 'lists without merge key are replaced (args, tolerations)',
      doc: pod({ tolerations: [{ key: 'a' }], containers: [c('a', 'x', { args: ['1', '2'] })] }),
      patch: { spec: { tolerations: [{ key: 'b', value: null }], containers: [{ name: 'a', args: ['3'] }] } },
      want: pod({ tolerations: [{ key: 'b' }], containers: [c('a', 'x', { args: ['3'] })] }),
    },
    {
      name: '$retainKeys on a volume switches its source',
      doc: pod({ volumes: [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }] }),
      patch: { spec: { volumes: [{ $retainKeys: ['name', 'secret'], name: 'v', secret: { secretName: 's' } }] } },
      want: pod({ volumes: [{ name: 'v', secret: { secretName: 's' } }, { name: 'w', emptyDir: {} }] }),
    },
    {
      name: 'finalizers merge as a set',
      doc: pod({}, { name: 'p', finalizers: ['a', 'b'] }),
      patch: { metadata: { finalizers: ['b', 'c'] } },
      want: pod({}, { name: 'p', finalizers: ['a', 'b', 'c'] }),
    },
    {
      name: 'finalizers with $setElementOrder and $deleteFromPrimitiveList (kubectl apply)',
      doc: pod({}, { name: 'p', finalizers: ['a', 'b', 'x'] }),
      patch: { metadata: { '$setElementOrder/finalizers': ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'], finalizers: ['c'] } },
      want: pod({}, { name: 'p', finalizers: ['c', 'a', 'x'] }),
    },
    {
      name: '$deleteFromPrimitiveList alone',
      doc: pod({}, { name: 'p', finalizers: ['a', 'b'] }),
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'zz'] } },
      want: pod({}, { name: 'p', finalizers: ['b'] }),
    },
    {
      name: 'status conditions merge by type',
      doc: { metadata: { name: 'p' }, status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } },
      patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      want: { metadata: { name: 'p' }, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] } },
    },
    {
      name: 'type change replaces',
      doc: pod({ a: { b: 1 }, l: [1] }),
      patch: { spec: { a: 'str', l: { k: null, v: 1 } } },
      want: pod({ a: 'str', l: { v: 1 } }),
    },
    { name: 'null patch body is a no-op', doc: pod({ a: 1 }), patch: null, want: pod({ a: 1 }) },
    { name: 'JSON text body', doc: pod({ a: 1 }), patch: '{"spec":{"a":2}}', want: pod({ a: 2 }) },
  ];
  for (const k of cases) assert.deepEqual(applyStrategicMergePatch(k.doc, k.patch, k.schema ?? podSchema), k.want, k.name);
});

test('Deployment strategy switch with $retainKeys (kubectl apply)', () => {
  const doc = deployment([c('a')]);
  doc.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } };
  const out = applyStrategicMergePatch(doc, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } }, deploySchema);
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
});

test('does not mutate the document or the patch', () => {
  const doc = deployment([c('a', 'x', { env: [{ name: 'A', value: '1' }] })]);
  const before = JSON.parse(JSON.stringify(doc));
  const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b', env: [{ name: 'E' }] }] } } } };
  const patchBefore = JSON.parse(JSON.stringify(patch));
  const out = applyStrategicMergePatch(doc, patch, deploySchema);
  assert.deepEqual(doc, before);
  assert.deepEqual(patch, patchBefore);
  out.spec.template.spec.containers[1].env[0].name = 'changed';
  assert.equal(patch.spec.template.spec.containers[0]!.env[0]!.name, 'E');
});

test('errors carry upstream codes and messages', () => {
  const doc = pod({ containers: [c('a')] });
  const cases: { name: string; patch: unknown; code: number; message: string | RegExp; doc?: unknown }[] = [
    { name: 'array body', patch: [1], code: 400, message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' },
    { name: 'bad JSON text', patch: '{', code: 400, message: /JSON/ },
    { name: 'document not an object', patch: {}, code: 400, message: 'invalid JSON document', doc: [] },
    { name: 'item without merge key', patch: { spec: { containers: [{ image: 'x' }] } }, code: 500, message: 'map: map[image:x] does not contain declared merge key: name' },
    { name: 'unknown list directive', patch: { spec: { containers: [{ name: 'a', $patch: 'frob' }] } }, code: 500, message: 'unknown patch type: frob in map: map[$patch:frob name:a]' },
    { name: 'unknown map directive', patch: { spec: { $patch: 'frob' } }, code: 500, message: /unknown patch type: frob/ },
    { name: 'delete item without merge key', patch: { spec: { containers: [{ $patch: 'delete' }] } }, code: 500, message: /does not contain declared merge key: name/ },
    { name: '$retainKeys not a list', patch: { spec: { $retainKeys: 'a' } }, code: 400, message: 'invalid patch format of retainKeys' },
    { name: 'field outside $retainKeys', patch: { spec: { $retainKeys: ['a'], b: 1 } }, code: 400, message: 'invalid patch format of retainKeys' },
    { name: '$deleteFromPrimitiveList not a list', patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, code: 400, message: 'invalid patch format of primitive list' },
    { name: '$setElementOrder not a list', patch: { spec: { '$setElementOrder/containers': 'a' } }, code: 400, message: 'invalid patch format of setElementOrder list' },
    {
      name: '$setElementOrder contradicting the patch',
      patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b' }, { name: 'a' }] } },
      code: 500,
      message: /doesn't match \$setElementOrder\/ list/,
    },
    { name: 'list of lists', patch: { metadata: { finalizers: [['a']] } }, code: 422, message: 'the server rejected our request due to an error in our request' },
    { name: 'mixed element types', patch: { metadata: { finalizers: [1, 'a'] } }, code: 500, message: /list element types are not identical/ },
  ];
  for (const k of cases) {
    assert.throws(
      () => applyStrategicMergePatch(k.doc ?? doc, k.patch, podSchema),
      (e: unknown) => {
        assert.ok(e instanceof ApiError, k.name);
        assert.equal(e.code, k.code, k.name);
        if (typeof k.message === 'string') assert.equal(e.message, k.message, k.name);
        else assert.match(e.message, k.message, k.name);
        return true;
      },
      k.name,
    );
  }
});
