import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate, runStatusUpdate, runUpdate } from '../harness.js';
import { CONTROLLER_UID_LABEL, JOB_NAME_LABEL, jobResource as def } from './job.js';

function job(spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'pi', namespace: 'default' }, spec: { template: podTemplate({ app: 'pi' }, 'Never'), ...spec } };
}

test('Job defaults and generated selector', async () => {
  const { obj, errs } = await runCreate(def, job());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.completions, 1);
  assert.equal(spec.parallelism, 1);
  assert.equal(spec.backoffLimit, 6);
  assert.equal(spec.completionMode, 'NonIndexed');
  assert.equal(spec.suspend, false);
  assert.equal(spec.manualSelector, false);
  assert.equal(spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.deepEqual(spec.selector, { matchLabels: { [CONTROLLER_UID_LABEL]: 'uid-1' } });
  assert.deepEqual(spec.template.metadata.labels, {
    app: 'pi',
    'job-name': 'pi',
    [JOB_NAME_LABEL]: 'pi',
    'controller-uid': 'uid-1',
    [CONTROLLER_UID_LABEL]: 'uid-1',
  });
  assert.deepEqual(obj.metadata.labels, spec.template.metadata.labels);
});

test('parallelism alone leaves completions unset', async () => {
  const { obj } = await runCreate(def, job({ parallelism: 4 }));
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.completions, undefined);
  assert.equal(spec.parallelism, 4);
});

test('Job validation', async () => {
  const always = await runCreate(def, job({ template: podTemplate({ app: 'pi' }) }));
  assert.deepEqual(fields(always.errs), ['spec.template.spec.restartPolicy']);
  assert.match(always.errs[0]!.message, /Unsupported value: "Always": supported values: "OnFailure", "Never"/);
  const own = await runCreate(def, job({ selector: { matchLabels: { app: 'pi' } } }));
  assert.ok(own.errs.some((e) => e.field === 'spec.selector' && e.message.includes('`selector` not auto-generated')), JSON.stringify(own.errs));
  const manual = await runCreate(def, job({ manualSelector: true, selector: { matchLabels: { app: 'pi' } } }));
  assert.deepEqual(manual.errs, []);
  const mismatch = await runCreate(def, job({ manualSelector: true, selector: { matchLabels: { app: 'other' } } }));
  assert.deepEqual(fields(mismatch.errs), ['spec.template.metadata.labels']);
  const indexed = await runCreate(def, job({ completionMode: 'Indexed', completions: undefined, parallelism: 2 }));
  assert.ok(indexed.errs.some((e) => e.field === 'spec.completions' && e.message === 'Required value: when completion mode is Indexed'));
  const negative = await runCreate(def, job({ backoffLimit: -1 }));
  assert.deepEqual(fields(negative.errs), ['spec.backoffLimit']);
});

test('Job template is immutable; scheduling directives may change while suspended and never started', async () => {
  const { obj } = await runCreate(def, job());
  const changed = structuredClone(obj);
  (changed.spec as Record<string, any>).template.spec.containers[0].image = 'perl:5';
  assert.deepEqual(fields((await runUpdate(def, obj, changed)).errs), ['spec.template']);
  const suspended = (await runCreate(def, job({ suspend: true }))).obj;
  const moved = structuredClone(suspended);
  (moved.spec as Record<string, any>).template.spec.nodeSelector = { zone: 'a' };
  assert.deepEqual((await runUpdate(def, suspended, moved)).errs, []);
  const resumed = structuredClone(moved);
  (resumed.spec as Record<string, any>).suspend = false;
  (resumed.spec as Record<string, any>).parallelism = 3;
  assert.deepEqual((await runUpdate(def, moved, resumed)).errs, []);
  const completions = structuredClone(obj);
  (completions.spec as Record<string, any>).completions = 5;
  assert.deepEqual(fields((await runUpdate(def, obj, completions)).errs), ['spec.completions']);
});

test('Job status, table and field selector', async () => {
  const { obj } = await runCreate(def, job({ completions: 3 }));
  assert.deepEqual(fields(runStatusUpdate(def, obj, { active: -1 }).errs), ['status.active']);
  const now = new Date('2024-05-01T12:10:00Z');
  obj.status = { startTime: '2024-05-01T12:00:05Z', active: 1, succeeded: 1 };
  const cells = def.table!.cells(obj, now);
  assert.deepEqual(cells.slice(0, 5), ['pi', 'Running', '1/3', '9m55s', '10m']);
  assert.equal(cells[7], `${CONTROLLER_UID_LABEL}=uid-1`);
  obj.status = {
    startTime: '2024-05-01T12:00:05Z',
    completionTime: '2024-05-01T12:00:47Z',
    succeeded: 3,
    conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }],
  };
  assert.deepEqual(def.table!.cells(obj, now).slice(1, 4), ['Complete', '3/3', '42s']);
  assert.equal(def.fieldSelectors!['status.successful']!(obj), '3');
  const queue = (await runCreate(def, job({ parallelism: 4 }))).obj;
  assert.deepEqual(def.table!.cells(queue, now).slice(1, 4), ['Running', '0/1 of 4', '']);
  assert.deepEqual(def.table!.columns.map((c) => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
});
