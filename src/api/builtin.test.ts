import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinPriorityClasses, builtinResources, defaultNamespaces } from './builtin.js';
import { priorityClassResource } from './kinds/scheduling.js';
import { runCreate } from './kinds/harness.js';

test('no two built-in kinds share group/version/plural, kind or short name', () => {
  const defs = builtinResources();
  const gvr = new Set<string>();
  const gvk = new Set<string>();
  const shortNames = new Map<string, string>();
  for (const d of defs) {
    const key = `${d.group}/${d.version}/${d.plural}`;
    assert.ok(!gvr.has(key), `duplicate ${key}`);
    gvr.add(key);
    const kindKey = `${d.group}/${d.version}/${d.kind}`;
    assert.ok(!gvk.has(kindKey), `duplicate ${kindKey}`);
    gvk.add(kindKey);
    for (const s of d.shortNames ?? []) {
      // events and events.k8s.io events share "ev" upstream too.
      if (s !== 'ev') assert.ok(!shortNames.has(s), `short name ${s} used by ${shortNames.get(s)} and ${key}`);
      shortNames.set(s, key);
    }
  }
  for (const key of ['apps/v1/deployments', 'batch/v1/cronjobs', 'apiextensions.k8s.io/v1/customresourcedefinitions', '/v1/pods']) {
    assert.ok(gvr.has(key), `missing ${key}`);
  }
});

test('every built-in kind has an OpenAPI name, a table and consistent names', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  for (const d of builtinResources()) {
    const id = `${d.group}/${d.version}/${d.plural}`;
    assert.ok(d.openapiName?.startsWith('io.k8s.'), `${id} openapiName`);
    assert.ok(d.openapiName?.endsWith(`.${d.kind}`), `${id} openapiName ends with kind`);
    assert.ok(d.table && d.table.columns.length > 0, `${id} table`);
    assert.equal(d.plural, d.plural.toLowerCase(), id);
    assert.equal(d.singular, d.kind.toLowerCase(), id);
    assert.equal(d.table.columns.filter((c) => c.format === 'name').length, 1, `${id} has one name column`);
    // Printers must cope with a bare object (nothing but metadata).
    const cells = d.table.cells({ metadata: { name: 'x', namespace: d.namespaced ? 'default' : undefined, creationTimestamp: '2024-05-01T11:00:00Z' } }, now);
    assert.equal(cells.length, d.table.columns.length, `${id} cells`);
  }
});

test('system priority classes pass PriorityClass validation', async () => {
  const pcs = builtinPriorityClasses();
  assert.deepEqual(pcs.map((p) => [p.metadata.name, p.value]), [
    ['system-node-critical', 2000001000],
    ['system-cluster-critical', 2000000000],
  ]);
  for (const pc of pcs) {
    assert.equal(typeof pc.description, 'string');
    assert.deepEqual((await runCreate(priorityClassResource, pc)).errs, []);
  }
  assert.notEqual(builtinPriorityClasses()[0], pcs[0], 'fresh objects on each call');
});

test('default namespaces', () => {
  assert.deepEqual(defaultNamespaces(), ['default', 'kube-system', 'kube-public', 'kube-node-lease']);
});
