import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { formatRFC3339, nextCronTime, parseCronSchedule } from '../../api/kinds/batch/cron.js';
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, byJobStartTime, jobFromTemplate, jobNameFor, mostRecentScheduleTime, nextScheduleDelay, resolveSchedule } from './schedule.js';

const T = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const next = (spec: string, after: string, tz?: string) => iso(nextCronTime(parseCronSchedule(spec).schedule!, T(after), tz));

function cronJob(schedule: string, extra: { timeZone?: string; created?: string; last?: string; deadline?: number } = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'default', uid: 'uid-1', creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z' },
    spec: {
      schedule,
      timeZone: extra.timeZone,
      startingDeadlineSeconds: extra.deadline,
      jobTemplate: { metadata: { labels: { app: 'x' }, annotations: { note: 'y' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
    status: extra.last ? { lastScheduleTime: extra.last } : {},
  };
}

test('nextCronTime: five-field schedules in UTC', () => {
  assert.equal(next('*/15 * * * *', '2026-03-02T10:07:30Z', 'UTC'), '2026-03-02T10:15:00.000Z');
  assert.equal(next('*/15 * * * *', '2026-03-02T10:15:00Z', 'UTC'), '2026-03-02T10:30:00.000Z', 'strictly after');
  assert.equal(next('0 9 * * 1-5', '2026-03-06T09:00:00Z', 'UTC'), '2026-03-09T09:00:00.000Z', 'Friday to Monday');
  assert.equal(next('@yearly', '2026-03-06T09:00:00Z', 'UTC'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('0 0 13 * 5', '2026-03-01T00:00:00Z', 'UTC'), '2026-03-06T00:00:00.000Z', 'day-of-month OR day-of-week');
  assert.equal(next('0 0 13 * *', '2026-03-01T00:00:00Z', 'UTC'), '2026-03-13T00:00:00.000Z');
  assert.equal(next('0 0 * * 5', '2026-03-01T00:00:00Z', 'UTC'), '2026-03-06T00:00:00.000Z');
  assert.equal(next('0 0 30 2 *', '2026-03-01T00:00:00Z', 'UTC'), undefined, 'never fires');
});

test('nextCronTime: time zones, CRON_TZ prefix, DST and @every', () => {
  assert.equal(next('0 9 * * *', '2026-03-02T10:00:00Z', 'Asia/Tokyo'), '2026-03-03T00:00:00.000Z');
  assert.equal(next('CRON_TZ=Asia/Kolkata 0 9 * * *', '2026-03-02T00:00:00Z', 'UTC'), '2026-03-02T03:30:00.000Z');
  assert.equal(next('0 12 * * *', '2026-07-01T00:00:00Z', 'Europe/Berlin'), '2026-07-01T10:00:00.000Z', 'summer time');
  assert.equal(next('0 12 * * *', '2026-12-01T00:00:00Z', 'Europe/Berlin'), '2026-12-01T11:00:00.000Z', 'winter time');
  // 2026-03-08 02:30 does not exist in New York: that day's run is skipped.
  assert.equal(next('30 2 * * *', '2026-03-08T05:00:00Z', 'America/New_York'), '2026-03-09T06:30:00.000Z');
  assert.equal(next('@every 2s', '2026-03-02T10:00:00.500Z'), '2026-03-02T10:00:02.000Z');
  assert.equal(next('@every 1m30s', '2026-03-02T10:00:00Z'), '2026-03-02T10:01:30.000Z');
});

test('formatRFC3339 writes Go RFC 3339 in a zone', () => {
  const t = T('2026-01-15T12:34:00Z');
  assert.equal(formatRFC3339(t), '2026-01-15T12:34:00Z');
  assert.equal(formatRFC3339(t, 'Europe/Berlin'), '2026-01-15T13:34:00+01:00');
  assert.equal(formatRFC3339(t, 'Asia/Kolkata'), '2026-01-15T18:04:00+05:30');
  assert.equal(formatRFC3339(t, 'America/New_York'), '2026-01-15T07:34:00-05:00');
  assert.equal(formatRFC3339(t, 'Europe/London'), '2026-01-15T12:34:00Z');
});

test('mostRecentScheduleTime counts missed starts and honours the starting deadline', () => {
  const cj = cronJob('*/5 * * * *', { timeZone: 'UTC', created: '2026-03-02T10:01:00Z' });
  const s = resolveSchedule(cj).resolved!;
  assert.deepEqual(mostRecentScheduleTime(cj, T('2026-03-02T10:04:00Z'), s, true), { earliest: T('2026-03-02T10:01:00Z'), missed: 'none' });
  assert.equal(iso(mostRecentScheduleTime(cj, T('2026-03-02T10:06:00Z'), s, true).mostRecent), '2026-03-02T10:05:00.000Z');
  const three = mostRecentScheduleTime(cj, T('2026-03-02T10:17:00Z'), s, true);
  assert.equal(iso(three.mostRecent), '2026-03-02T10:15:00.000Z');
  assert.equal(three.missed, 'few');
  // 10 hours at one start per 5 minutes: 120 missed.
  const many = mostRecentScheduleTime(cj, T('2026-03-02T20:03:00Z'), s, true);
  assert.equal(many.missed, 'many');
  assert.equal(iso(many.mostRecent), '2026-03-02T20:00:00.000Z');
  // lastScheduleTime wins over the creation time.
  const last = cronJob('*/5 * * * *', { timeZone: 'UTC', created: '2026-03-02T10:01:00Z', last: '2026-03-02T20:00:00Z' });
  assert.equal(mostRecentScheduleTime(last, T('2026-03-02T20:03:00Z'), s, true).mostRecent, undefined);
  // A deadline of 60 s hides the 20:00 start at 20:03 (but not when the deadline is ignored).
  const dl = cronJob('*/5 * * * *', { timeZone: 'UTC', created: '2026-03-02T10:01:00Z', deadline: 60 });
  assert.equal(mostRecentScheduleTime(dl, T('2026-03-02T20:03:00Z'), s, true).mostRecent, undefined);
  assert.equal(iso(mostRecentScheduleTime(dl, T('2026-03-02T20:03:00Z'), s, false).mostRecent), '2026-03-02T20:00:00.000Z');
  assert.equal(iso(mostRecentScheduleTime(dl, T('2026-03-02T20:00:30Z'), s, true).mostRecent), '2026-03-02T20:00:00.000Z');
  // An irregular schedule still lands on a real activation.
  const irr = cronJob('30 6-16/4 * * 1-5', { timeZone: 'UTC', created: '2026-03-02T00:00:00Z' });
  const r = mostRecentScheduleTime(irr, T('2026-03-04T12:00:00Z'), resolveSchedule(irr).resolved!, true);
  assert.equal(iso(r.mostRecent), '2026-03-04T10:30:00.000Z');
  // @every counts from the creation time.
  const ev = cronJob('@every 2s', { created: '2026-03-02T10:00:00Z' });
  assert.equal(iso(mostRecentScheduleTime(ev, T('2026-03-02T10:00:07.500Z'), resolveSchedule(ev).resolved!, true).mostRecent), '2026-03-02T10:00:06.000Z');
  // A schedule that never fires is an error.
  const never = cronJob('0 0 30 2 *', { timeZone: 'UTC' });
  assert.match(mostRecentScheduleTime(never, T('2026-03-02T10:00:00Z'), resolveSchedule(never).resolved!, true).error!, /less than 1 second/);
});

test('nextScheduleDelay aims 100 ms after the next activation', () => {
  const cj = cronJob('*/5 * * * *', { timeZone: 'UTC', created: '2026-03-02T10:01:00Z' });
  const s = resolveSchedule(cj).resolved!;
  assert.equal(nextScheduleDelay(cj, T('2026-03-02T10:04:00Z'), s), 60_100);
  assert.equal(nextScheduleDelay(cj, T('2026-03-02T10:06:00Z'), s), 4 * 60_000 + 100);
  const tokyo = cronJob('0 9 * * *', { timeZone: 'Asia/Tokyo', created: '2026-03-02T00:00:00Z', last: '2026-03-02T00:00:00Z' });
  assert.equal(nextScheduleDelay(tokyo, T('2026-03-02T12:00:00Z'), resolveSchedule(tokyo).resolved!), 12 * 3_600_000 + 100);
});

test('resolveSchedule: spec.timeZone applies, a TZ= prefix wins and is flagged', () => {
  assert.equal(resolveSchedule(cronJob('0 9 * * *', { timeZone: 'Asia/Tokyo' })).resolved!.timeZone, 'Asia/Tokyo');
  const pre = resolveSchedule(cronJob('TZ=Europe/Paris 0 9 * * *'));
  assert.equal(pre.resolved!.timeZone, 'Europe/Paris');
  assert.equal(pre.unsupportedTZ, true);
  assert.match(resolveSchedule(cronJob('61 * * * *')).error!, /above maximum/);
});

test('jobFromTemplate: name in minutes, scheduled-timestamp annotation, controller ownerReference', () => {
  const at = T('2026-01-15T12:35:00Z');
  const cj = cronJob('*/5 * * * *', { timeZone: 'Europe/Berlin' });
  const job = jobFromTemplate(cj, at);
  assert.equal(job.metadata!.name, `tick-${at / 60_000}`);
  assert.equal(jobNameFor(cj, at + 59_000), job.metadata!.name);
  assert.deepEqual(job.metadata!.labels, { app: 'x' });
  assert.deepEqual(job.metadata!.annotations, { note: 'y', [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: '2026-01-15T13:35:00+01:00' });
  assert.deepEqual(job.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
  assert.equal(job.spec!.template.spec!.containers[0]!.image, 'busybox');
  assert.equal(jobFromTemplate(cronJob('* * * * *'), at).metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-15T12:35:00Z', 'UTC without timeZone');
});

test('byJobStartTime: oldest first, unstarted last, name breaks ties', () => {
  const j = (name: string, startTime?: string) => ({ metadata: { name }, status: { startTime } });
  const sorted = [j('d'), j('c', '2026-01-01T00:00:02Z'), j('b', '2026-01-01T00:00:01Z'), j('a', '2026-01-01T00:00:02Z')].sort(byJobStartTime);
  assert.deepEqual(sorted.map((x) => x.metadata.name), ['b', 'a', 'c', 'd']);
});
