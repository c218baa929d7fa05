import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.js';
import { fields, runCreate, runStatusUpdate, runUpdate } from './harness.js';
import { customResourceDefinitionResource as def } from './apiextensions.js';

const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } };

function crd(spec: Record<string, unknown> = {}, name = 'widgets.example.com'): KubeObject {
  return {
    metadata: { name },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'] },
      versions: [{ name: 'v1', served: true, storage: true, schema, subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } } }],
      ...spec,
    },
  };
}

test('CRD defaults and storedVersions', async () => {
  const { obj, errs } = await runCreate(def, crd());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.names.singular, 'widget');
  assert.equal(spec.names.listKind, 'WidgetList');
  assert.deepEqual(spec.conversion, { strategy: 'None' });
  assert.deepEqual(obj.status, { storedVersions: ['v1'] });
});

test('CRD validation', async () => {
  const cases: [KubeObject, string, string][] = [
    [crd({}, 'widgets.other.com'), 'metadata.name', 'must be spec.names.plural+"."+spec.group'],
    [crd({ group: 'example' }, 'widgets.example'), 'spec.group', 'should be a domain with at least one dot'],
    [crd({ scope: 'Global' }), 'spec.scope', 'Unsupported value: "Global"'],
    [crd({ names: { plural: 'Widgets', kind: 'Widget' } }, 'Widgets.example.com'), 'spec.names.plural', 'a DNS-1035 label'],
    [crd({ names: { plural: 'widgets', kind: 'Widget', listKind: 'Widget' } }), 'spec.names.listKind', 'kind and listKind may not be the same'],
    [crd({ versions: [] }), 'spec.versions', 'must have exactly one version marked as storage version'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true, schema }, { name: 'v2', served: true, storage: true, schema }] }), 'spec.versions', 'must have exactly one version marked as storage version'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true }] }), 'spec.versions[0].schema.openAPIV3Schema', 'schemas are required'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'string' } } }] }), 'spec.versions[0].schema.openAPIV3Schema.type', 'must be object at the root'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: {} } } } }] }), 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type', 'must not be empty for specified object fields'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true, schema, subresources: { scale: { specReplicasPath: '.status.x', statusReplicasPath: '.status.y' } } }] }), 'spec.versions[0].subresources.scale.specReplicasPath', 'should be a json path under .spec'],
    [crd({ versions: [{ name: 'v1', served: true, storage: true, schema, additionalPrinterColumns: [{ name: 'Size', type: 'float', jsonPath: '.spec.size' }] }] }), 'spec.versions[0].additionalPrinterColumns[0].type', 'Unsupported value: "float"'],
    [crd({ conversion: { strategy: 'Webhook' } }), 'spec.conversion.webhook.clientConfig', 'required when strategy is set to Webhook'],
    [crd({ group: 'widgets.k8s.io' }, 'widgets.widgets.k8s.io'), 'metadata.annotations[api-approved.kubernetes.io]', 'protected groups must have approval annotation'],
  ];
  for (const [o, field, message] of cases) {
    const { errs } = await runCreate(def, o);
    assert.ok(errs.some((e) => e.field === field && e.message.includes(message)), `${field}: ${JSON.stringify(errs)}`);
  }
});

test('CRD updates: storage versions accumulate; scope fixed once established', async () => {
  const { obj } = await runCreate(def, crd());
  obj.status = { storedVersions: ['v1'], conditions: [{ type: 'Established', status: 'True' }] };
  const next = structuredClone(obj);
  (next.spec as Record<string, any>).versions = [
    { name: 'v1', served: true, storage: false, schema },
    { name: 'v2', served: true, storage: true, schema },
  ];
  const r = await runUpdate(def, obj, next);
  assert.deepEqual(r.errs, []);
  assert.deepEqual((r.obj.status as Record<string, unknown>).storedVersions, ['v1', 'v2']);
  const rescoped = structuredClone(obj);
  (rescoped.spec as Record<string, any>).scope = 'Cluster';
  assert.deepEqual(fields((await runUpdate(def, obj, rescoped)).errs), ['spec.scope']);
  const dropped = structuredClone(r.obj);
  (dropped.spec as Record<string, any>).versions = [{ name: 'v2', served: true, storage: true, schema }];
  const d = await runUpdate(def, r.obj, dropped);
  assert.deepEqual(fields(d.errs), ['status.storedVersions[0]']);
  assert.match(d.errs[0]!.message, /must appear in spec.versions/);
  assert.deepEqual(fields(runStatusUpdate(def, r.obj, { storedVersions: [] }).errs), ['status.storedVersions']);
});

test('CRD table and discovery names', async () => {
  const { obj } = await runCreate(def, crd());
  assert.deepEqual(def.table!.cells(obj, new Date()), ['widgets.example.com', '2024-05-01T12:00:00Z']);
  assert.deepEqual(def.shortNames, ['crd', 'crds']);
  assert.deepEqual(def.categories, ['api-extensions']);
});
