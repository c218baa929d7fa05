import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCronSchedule } from './cron.js';

test('valid schedules parse', () => {
  for (const s of ['*/5 * * * *', '0 0 * * 0', '0 9-17/2 * jan-MAR mon-fri', '@hourly', '@every 1h30m', '15,45 * 1 * ?', 'CRON_TZ=UTC 0 3 * * *']) {
    const { schedule, error } = parseCronSchedule(s);
    assert.equal(error, undefined, s);
    assert.ok(schedule, s);
  }
  const { schedule } = parseCronSchedule('0 9-17/2 * jan-MAR mon-fri');
  assert.ok(schedule?.kind === 'fields');
  assert.deepEqual([...schedule.fields.hours], [9, 11, 13, 15, 17]);
  assert.deepEqual([...schedule.fields.months], [1, 2, 3]);
  assert.deepEqual([...schedule.fields.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.equal(schedule.fields.daysOfMonthStar, true);
  const daily = parseCronSchedule('@daily').schedule;
  assert.ok(daily?.kind === 'fields' && daily.fields.minutes.has(0) && daily.fields.minutes.size === 1);
  const every = parseCronSchedule('@every 90s').schedule;
  assert.deepEqual(every, { kind: 'every', everyMs: 90_000, timeZone: undefined });
});

test('invalid schedules give robfig/cron messages', () => {
  const cases: [string, string][] = [
    ['', 'empty spec string'],
    ['foo', 'expected exactly 5 fields, found 1: [foo]'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['TZ=Mars/Olympus 0 * * * *', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus'],
  ];
  for (const [s, msg] of cases) assert.equal(parseCronSchedule(s).error, msg, s);
});
