import { describe, expect, it } from 'vitest';
import { HoardError } from '../../model/errors.js';
import { checkTriggerProperties, formatTriggerTime, parseTriggerTime, scheduleOf, type TriggerLimits } from './schedule.js';

const limits: TriggerLimits = { minWindow: 900, maxWindow: 1800, minInterval: 3600, defaultFormat: 'calendar' };
const now = new Date('2026-03-01T10:20:30.456Z');
const check = (p: Record<string, unknown>, l: TriggerLimits = limits) => checkTriggerProperties(p, l, now);
const WEEKLY = 'BEGIN:VEVENT\nRRULE:FREQ=WEEKLY;INTERVAL=1;\nEND:VEVENT';

/** refusal runs `fn` and returns the HoardError it throws, failing the test when it does not throw one. */
function refusal(fn: () => unknown): HoardError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HoardError);
    expect((err as HoardError).reason).toBe('invalid_trigger');
    expect((err as HoardError).status).toBe(400);
    return err as HoardError;
  }
  throw new Error('expected the properties to be refused');
}

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('trigger properties', () => {
  it('fills in the calendar format, start time (now, whole seconds), minimum window and UTC', () => {
    expect(check({ pattern: WEEKLY })).toEqual({ format: 'calendar', pattern: WEEKLY, start_time: '2026-03-01 10:20:30', window: 900, timezone: 'UTC' });
    expect(check({ pattern: '0 2 * * *' }, { ...limits, defaultFormat: 'crontab' }).format).toBe('crontab');
  });

  it('accepts Karbor times and the ISO T form, with or without Z, and prints them the Karbor way', () => {
    for (const t of ['2026-04-01 08:00:00', '2026-04-01T08:00:00', '2026-04-01T08:00:00Z']) {
      expect(check({ format: 'crontab', pattern: '0 2 * * *', start_time: t, end_time: '2026-05-01T00:00:00' })).toMatchObject({ start_time: '2026-04-01 08:00:00', end_time: '2026-05-01 00:00:00' });
    }
    expect(parseTriggerTime('2026-04-01 08:00:00', 'start_time').toISOString()).toBe('2026-04-01T08:00:00.000Z');
    expect(formatTriggerTime(new Date('2026-04-01T08:00:00.999Z'))).toBe('2026-04-01 08:00:00');
    expect(refusal(() => check({ pattern: WEEKLY, start_time: '2026-02-30 00:00:00' })).message).toContain('not a valid date');
    expect(refusal(() => check({ pattern: WEEKLY, start_time: '01/04/2026' })).message).toContain('YYYY-MM-DD HH:MM:SS');
  });

  it('refuses an end time that is not after the start time', () => {
    const e = refusal(() => check({ pattern: WEEKLY, start_time: '2026-04-01 08:00:00', end_time: '2026-04-01 08:00:00' }));
    expect(e.message).toContain('must be after start_time');
  });

  it('keeps the window within the configured bounds', () => {
    expect(check({ pattern: WEEKLY, window: 1800 }).window).toBe(1800);
    expect(check({ pattern: WEEKLY, window: '1000' }).window).toBe(1000);
    expect(refusal(() => check({ pattern: WEEKLY, window: 899 })).message).toContain('between 900 and 1800');
    expect(refusal(() => check({ pattern: WEEKLY, window: 1801 })).message).toContain('between 900 and 1800');
    expect(refusal(() => check({ pattern: WEEKLY, window: 1000.5 })).message).toContain('whole number');
  });

  it('refuses unknown keys, formats, a missing pattern and unknown time zones', () => {
    expect(refusal(() => check({ pattern: WEEKLY, every: 'day' })).message).toContain("Unknown trigger property 'every'");
    expect(refusal(() => check({ pattern: WEEKLY, format: 'iso8601' })).message).toContain('"crontab" or "calendar"');
    expect(refusal(() => check({ format: 'crontab' })).message).toContain('pattern is required');
    expect(refusal(() => check({ pattern: WEEKLY, timezone: 'Mars/Olympus' })).message).toContain('Unknown time zone');
  });
});

describe('crontab patterns', () => {
  const cron = (pattern: string, extra: Record<string, unknown> = {}) => check({ format: 'crontab', pattern, start_time: '2026-03-02 00:00:00', ...extra });

  it('lists occurrences after the start time, an occurrence at the start time included', () => {
    const s = scheduleOf(cron('0 2 * * *', { start_time: '2026-03-02 02:00:00' }));
    expect(iso(s.upcoming(new Date(0), 2))).toEqual(['2026-03-02T02:00:00.000Z', '2026-03-03T02:00:00.000Z']);
    expect(s.next(new Date('2026-03-02T02:00:00Z'))?.toISOString()).toBe('2026-03-03T02:00:00.000Z');
  });

  it('stops at the end time', () => {
    const s = scheduleOf(cron('0 2 * * *', { end_time: '2026-03-03 02:00:00' }));
    expect(iso(s.upcoming(new Date(0), 5))).toEqual(['2026-03-02T02:00:00.000Z', '2026-03-03T02:00:00.000Z']);
    expect(s.next(new Date('2026-03-03T02:00:00Z'))).toBeNull();
  });

  it('reads the pattern in the trigger time zone, across a daylight saving change', () => {
    const s = scheduleOf(cron('0 9 * * *', { timezone: 'Europe/Berlin', start_time: '2026-03-28 00:00:00' }));
    // Berlin moves from UTC+1 to UTC+2 on 2026-03-29.
    expect(iso(s.upcoming(new Date(0), 2))).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']);
  });

  it('refuses patterns that fire more often than the minimum interval, even when only a later gap is short', () => {
    expect(refusal(() => cron('*/30 * * * *')).message).toContain('1800 s later');
    // 23:00 then 00:00 the next day is exactly the minimum interval, which is allowed.
    expect(cron('0 0,23 * * *').pattern).toBe('0 0,23 * * *');
    // From 00:10: 00:30, then 00:00 and 00:30 the next day; only the second gap is short.
    expect(refusal(() => cron('0,30 0 * * *', { start_time: '2026-03-02 00:10:00' })).message).toContain('1800 s later');
    // The only short gap is at the month boundary, 31st 23:00 to 1st 00:00, four occurrences in.
    const e = refusal(() => check({ format: 'crontab', pattern: '0 0,23 1,31 * *', start_time: '2026-03-01 01:00:00' }, { ...limits, minInterval: 7200 }));
    expect(e.message).toContain('fires at 2026-03-31 23:00:00 and again 3600 s later');
  });

  it('refuses malformed, seconds-first and never-firing patterns', () => {
    expect(refusal(() => cron('61 * * * *')).message).toContain('is invalid');
    expect(refusal(() => cron('0 0 2 * * *')).message).toContain('five fields');
    expect(refusal(() => cron('2026-01-01T00:00:00')).message).toContain('five fields');
    expect(refusal(() => cron('0 0 31 2 *')).message).toContain('never fire');
    expect(cron('@daily').pattern).toBe('@daily');
  });
});

describe('calendar patterns', () => {
  const cal = (pattern: string, extra: Record<string, unknown> = {}) => check({ format: 'calendar', pattern, start_time: '2026-03-02 06:00:00', ...extra });

  it('starts the RRULE at the start time, as Karbor does', () => {
    const s = scheduleOf(cal(WEEKLY));
    expect(iso(s.upcoming(new Date(0), 3))).toEqual(['2026-03-02T06:00:00.000Z', '2026-03-09T06:00:00.000Z', '2026-03-16T06:00:00.000Z']);
  });

  it('accepts literal \\n escapes and a VCALENDAR wrapper', () => {
    const escaped = 'BEGIN:VEVENT\\nRRULE:FREQ=DAILY;BYHOUR=3;BYMINUTE=0;BYSECOND=0\\nEND:VEVENT';
    expect(iso(scheduleOf(cal(escaped)).upcoming(new Date(0), 1))).toEqual(['2026-03-03T03:00:00.000Z']);
    const wrapped = 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=1\r\nEND:VEVENT\r\nEND:VCALENDAR';
    expect(iso(scheduleOf(cal(wrapped)).upcoming(new Date(0), 1))).toEqual(['2026-04-01T06:00:00.000Z']);
  });

  it('reads BYHOUR in the trigger time zone', () => {
    const p = cal('BEGIN:VEVENT\nRRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0\nEND:VEVENT', { timezone: 'America/New_York', start_time: '2026-03-07 00:00:00' });
    // New York moves from UTC-5 to UTC-4 on 2026-03-08.
    expect(iso(scheduleOf(p).upcoming(new Date(0), 2))).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']);
  });

  it('honours COUNT and refuses a rule whose occurrences all lie before the end', () => {
    const p = cal('BEGIN:VEVENT\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT');
    expect(scheduleOf(p).upcoming(new Date(0), 10)).toHaveLength(2);
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31\nEND:VEVENT')).message).toMatch(/never fire|too rarely/);
  });

  it('refuses rules that fire too often, including tight pairs that are not the first two', () => {
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=MINUTELY;INTERVAL=30\nEND:VEVENT')).message).toContain('1800 s later');
    // From 23:20: 23:40, then 23:00 and 23:40 the next day; only the second gap is short.
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=DAILY;BYHOUR=23;BYMINUTE=0,40\nEND:VEVENT', { start_time: '2026-03-02 23:20:00' })).message)
      .toContain('2400 s later');
    expect(cal('BEGIN:VEVENT\nRRULE:FREQ=HOURLY;INTERVAL=2\nEND:VEVENT').format).toBe('calendar');
  });

  it('refuses malformed calendars with a message naming the problem', () => {
    expect(refusal(() => cal('RRULE:FREQ=DAILY')).message).toContain('must contain a VEVENT');
    expect(refusal(() => cal('BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT')).message).toContain('exactly one RRULE');
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=SOMETIMES\nEND:VEVENT')).message).toContain('FREQ');
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=DAILY;BYHOUR=25\nEND:VEVENT')).message).toContain('BYHOUR=25');
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=DAILY;DTSTART=20260101T000000Z\nEND:VEVENT')).message).toContain('not supported');
    expect(refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=SECONDLY;INTERVAL=3600\nEND:VEVENT')).message).toContain('SECONDLY');
  });

  it('answers quickly for rules that can never match instead of searching until the year 9999', () => {
    const started = Date.now();
    refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=HOURLY;BYSETPOS=2\nEND:VEVENT'));
    refusal(() => cal('BEGIN:VEVENT\nRRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=7\nEND:VEVENT'));
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
