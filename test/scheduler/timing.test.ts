/** The scheduler's pure timing rules: jitter bounds and determinism, pending occurrences, decisions. */
import { describe, expect, it } from 'vitest';
import { decide, jitterMs, pendingOccurrences } from '../../src/services/scheduler/index.js';
import { checkTriggerProperties, scheduleOf } from '../../src/services/triggers/schedule.js';

const limits = { minWindow: 900, maxWindow: 1800, minInterval: 3600, defaultFormat: 'crontab' as const };
const hourly = scheduleOf(checkTriggerProperties({ pattern: '0 * * * *', start_time: '2030-01-01 00:00:00' }, limits, new Date('2030-01-01T00:00:00Z')));
const t = (hm: string) => new Date(`2030-01-01T${hm}:00Z`);

describe('jitter', () => {
  it('is fixed per operation id and within min(maxMs, window × fraction)', () => {
    const bounds = { maxMs: 30_000, windowFraction: 0.25 };
    const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const js = ids.map((id) => jitterMs(id, 900, bounds));
    expect(ids.map((id) => jitterMs(id, 900, bounds))).toEqual(js);
    expect(Math.min(...js)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...js)).toBeLessThan(30_000);
    // Spread, not clumped: every fifth of the range is used.
    for (let k = 0; k < 5; k++) expect(js.some((j) => j >= k * 6000 && j < (k + 1) * 6000)).toBe(true);
    expect(Math.max(...ids.map((id) => jitterMs(id, 20, bounds)))).toBeLessThan(5000);
    expect(jitterMs(ids[0]!, 900, { maxMs: 0, windowFraction: 0.25 })).toBe(0);
  });
});

describe('decide', () => {
  it('waits until the jittered due time, then fires on time', () => {
    const p = pendingOccurrences(hourly, t('00:30'), t('01:00'));
    expect(p).toEqual({ latest: t('01:00'), count: 1 });
    expect(decide(p, t('01:00'), 900_000, 5000, 'run-once').kind).toBe('wait');
    expect(decide(p, new Date(t('01:00').getTime() + 5000), 900_000, 5000, 'skip')).toMatchObject({ kind: 'fire', reason: 'on_time', missed: 0 });
  });

  it('fires the latest occurrence late inside its window, counting those missed before it', () => {
    const p = pendingOccurrences(hourly, t('00:30'), t('03:10'));
    expect(decide(p, t('03:10'), 900_000, 0, 'skip')).toEqual({ kind: 'fire', dueAt: t('03:00'), reason: 'late', missed: 2 });
  });

  it('after the window: run-once fires one catch-up run, skip skips; both name the latest occurrence', () => {
    const p = pendingOccurrences(hourly, t('00:30'), t('05:30'));
    expect(decide(p, t('05:30'), 900_000, 0, 'run-once')).toEqual({ kind: 'fire', dueAt: t('05:00'), reason: 'misfire_run_once', missed: 5 });
    expect(decide(p, t('05:30'), 900_000, 0, 'skip')).toEqual({ kind: 'skip', dueAt: t('05:00'), reason: 'misfire_skip', missed: 5 });
  });

  it('has nothing pending before the first occurrence after the cursor', () => {
    expect(pendingOccurrences(hourly, t('01:00'), t('01:59'))).toBeNull();
    expect(decide(null, t('01:59'), 900_000, 0, 'run-once')).toEqual({ kind: 'wait' });
  });
});
