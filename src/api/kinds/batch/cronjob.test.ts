import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate } from '../harness.js';
import { cronJobResource as def, validateTimeZone } from './cronjob.js';

function cronJob(spec: Record<string, unknown> = {}, jobSpec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'backup', namespace: 'default' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate({ app: 'backup' }, 'OnFailure'), ...jobSpec } }, ...spec },
  };
}

test('CronJob defaults', async () => {
  const { obj, errs } = await runCreate(def, cronJob());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.concurrencyPolicy, 'Allow');
  assert.equal(spec.suspend, false);
  assert.equal(spec.successfulJobsHistoryLimit, 3);
  assert.equal(spec.failedJobsHistoryLimit, 1);
  assert.equal(spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.jobTemplate.spec.backoffLimit, undefined);
});

test('CronJob validation', async () => {
  const cases: [KubeObject, string, string][] = [
    [cronJob({ schedule: 'every minute' }), 'spec.schedule', 'expected exactly 5 fields, found 2: [every minute]'],
    [cronJob({ schedule: undefined }), 'spec.schedule', 'Required value'],
    [cronJob({ schedule: 'TZ=UTC 0 * * * *' }), 'spec.schedule', 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    [cronJob({ concurrencyPolicy: 'Sometimes' }), 'spec.concurrencyPolicy', 'Unsupported value: "Sometimes"'],
    [cronJob({ timeZone: 'Mars/Olympus' }), 'spec.timeZone', 'unknown time zone Mars/Olympus'],
    [cronJob({}, { selector: { matchLabels: { a: 'b' } } }), 'spec.jobTemplate.spec.selector', '`selector` will be auto-generated'],
    [cronJob({}, { template: podTemplate({ app: 'x' }, 'Always') }), 'spec.jobTemplate.spec.template.spec.restartPolicy', 'Unsupported value: "Always"'],
    [cronJob({ failedJobsHistoryLimit: -1 }), 'spec.failedJobsHistoryLimit', 'must be greater than or equal to 0'],
  ];
  for (const [o, field, message] of cases) {
    const { errs } = await runCreate(def, o);
    assert.ok(errs.some((e) => e.field === field && e.message.includes(message)), `${field}: ${JSON.stringify(errs)}`);
  }
  const long = await runCreate(def, { ...cronJob(), metadata: { name: 'x'.repeat(53), namespace: 'default' } });
  assert.deepEqual(fields(long.errs), ['metadata.name']);
  assert.deepEqual(validateTimeZone('Europe/Berlin'), []);
  assert.match(validateTimeZone('Local')[0]!.message, /timeZone must be an explicit time zone/);
  assert.match(validateTimeZone('')[0]!.message, /timeZone must be nil or non-empty string/);
});

test('CronJob table', async () => {
  const { obj } = await runCreate(def, cronJob({ timeZone: 'Etc/UTC' }));
  obj.status = { active: [{ name: 'backup-1' }], lastScheduleTime: '2024-05-01T12:55:00Z' };
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T13:00:00Z')), [
    'backup', '*/5 * * * *', 'Etc/UTC', 'False', 1, '5m', '60m', 'web', 'nginx:1.25', '<none>',
  ]);
  delete (obj.spec as Record<string, unknown>).timeZone;
  obj.status = {};
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T13:00:00Z')).slice(2, 6), ['<none>', 'False', 0, '<none>']);
  assert.deepEqual(def.shortNames, ['cj']);
});
