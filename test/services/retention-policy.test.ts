/**
 * The retention decision as properties over random histories from a seeded PRNG (reproducible: a
 * failure names its seed), plus worked examples at the calendar's hard places: DST changes in
 * Europe/Berlin and America/New_York, month and year ends, ISO week 53. GFS buckets are checked against
 * an independent computation (a different Intl formatter, offsets derived by subtraction, ISO weeks
 * counted from the week holding 4 January) rather than against the module's own bucketer.
 */
import { describe, expect, it } from 'vitest';
import {
  decide, karborPolicy, parsePolicy, type BucketKind, type PolicyJson, type RetentionCheckpoint, type RetentionDecision, type RetentionPolicy,
} from '../../src/services/retention/policy.js';
import type { CheckpointStatus } from '../../src/store/index.js';

const CASES = 400;
const NOW = new Date('2027-01-15T12:00:00.000Z');
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const KINDS: readonly BucketKind[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];
/** Anchors where calendars break: DST changes, month and year ends, ISO week 53 years (2020, 2026). */
const ANCHORS = [
  '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z',
  '2026-12-31T23:00:00Z', '2020-12-31T12:00:00Z', '2027-01-03T12:00:00Z', '2026-02-28T23:30:00Z',
  '2024-02-29T12:00:00Z', '2026-01-01T00:00:00Z', '2026-04-30T22:30:00Z',
].map((s) => Date.parse(s));

/** mulberry32 is a small, well-known seeded PRNG: the same seed gives the same history. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = ReturnType<typeof prng>;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function statusOf(r: Rand): CheckpointStatus {
  const x = r();
  if (x < 0.62) return 'available';
  if (x < 0.77) return 'error';
  return pick(r, ['protecting', 'deleting', 'deleted', 'error-deleting', 'copying'] as const);
}

/** history is a plan's checkpoints clustered around a few calendar hard places, some sharing a time. */
function history(r: Rand): RetentionCheckpoint[] {
  const n = int(r, 0, 60);
  const anchors = Array.from({ length: int(r, 1, 3) }, () => pick(r, ANCHORS));
  const out: RetentionCheckpoint[] = [];
  for (let i = 0; i < n; i++) {
    const spread = pick(r, [3_600_000, 86_400_000, 10 * 86_400_000, 400 * 86_400_000]);
    const ms = i > 0 && r() < 0.05 ? Date.parse(out[i - 1]!.createdAt) : pick(r, anchors) + Math.round((r() - 0.5) * 2 * spread / 60_000) * 60_000;
    out.push({ id: `cp-${String(i).padStart(3, '0')}-${int(r, 0, 9)}`, createdAt: new Date(ms).toISOString(), status: statusOf(r), pinned: r() < 0.1 });
  }
  return out;
}

function policy(r: Rand): { json: PolicyJson; policy: RetentionPolicy } {
  const json: PolicyJson = {};
  const maybe = (key: 'keep_last' | 'keep_hourly' | 'keep_daily' | 'keep_weekly' | 'keep_monthly' | 'keep_yearly', max: number) => {
    if (r() < 0.45) json[key] = int(r, 0, max);
  };
  maybe('keep_last', 6);
  maybe('keep_hourly', 8);
  maybe('keep_daily', 8);
  maybe('keep_weekly', 5);
  maybe('keep_monthly', 4);
  maybe('keep_yearly', 3);
  if (r() < 0.3) json.keep_within = pick(r, ['1h', '36h', '7d', '2w3d', '400d']);
  if (r() < 0.6) json.min_good = int(r, 0, 6);
  if (r() < 0.6) json.keep_failed = int(r, 0, 3);
  json.time_zone = pick(r, ZONES);
  const rules = [json.keep_last, json.keep_hourly, json.keep_daily, json.keep_weekly, json.keep_monthly, json.keep_yearly];
  if (!rules.some((n) => (n ?? 0) > 0) && json.keep_within === undefined) json.keep_daily = int(r, 1, 4);
  return { json, policy: parsePolicy(json) };
}

function shuffle<T>(r: Rand, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const byNewest = (a: RetentionCheckpoint, b: RetentionCheckpoint) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1);
const summary = (d: RetentionDecision) => d.entries.map((e) => [e.checkpoint.id, e.action, e.reasons.join('|')]);

/** forEachCase runs a property over CASES seeded histories, naming the seed on failure. */
function forEachCase(check: (h: RetentionCheckpoint[], p: RetentionPolicy, d: RetentionDecision, r: Rand, json: PolicyJson) => void): void {
  for (let seed = 1; seed <= CASES; seed++) {
    const r = prng(seed);
    const h = history(r);
    const { json, policy: p } = policy(r);
    try {
      check(h, p, decide(p, h, NOW), r, json);
    } catch (err) {
      throw new Error(`seed ${seed}, policy ${JSON.stringify(json)}: ${(err as Error).message}`, { cause: err });
    }
  }
}

// --- independent calendar computation for the GFS check -------------------------------------------

const localFormats = new Map<string, Intl.DateTimeFormat>();
/** localParts reads the wall clock with a different formatter (sv-SE text) than the module (en-US parts). */
function localParts(ms: number, zone: string): { y: number; mo: number; d: number; h: number; offsetMin: number } {
  let f = localFormats.get(zone);
  if (!f) localFormats.set(zone, (f = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })));
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(f.format(ms));
  if (!m) throw new Error(`unexpected sv-SE format ${f.format(ms)}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // The offset is whatever makes the wall clock and the instant agree.
  const offsetMin = Math.round((Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000) / 60_000);
  return { y, mo, d, h, offsetMin };
}

/** isoWeekIndependent counts weeks from the Monday of the week holding 4 January. */
function isoWeekIndependent(y: number, mo: number, d: number): string {
  const day = Date.UTC(y, mo - 1, d);
  const week1 = (year: number) => {
    const jan4 = Date.UTC(year, 0, 4);
    return jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86_400_000;
  };
  const wy = day >= week1(y + 1) ? y + 1 : day < week1(y) ? y - 1 : y;
  return `${wy}-W${String(Math.floor((day - week1(wy)) / (7 * 86_400_000)) + 1).padStart(2, '0')}`;
}

function expectedBucket(ms: number, zone: string, kind: BucketKind): string {
  const { y, mo, d, h, offsetMin } = localParts(ms, zone);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const date = `${y}-${p2(mo)}-${p2(d)}`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  switch (kind) {
    case 'hourly': return `${date}T${p2(h)}:00${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
    case 'daily': return date;
    case 'weekly': return isoWeekIndependent(y, mo, d);
    case 'monthly': return date.slice(0, 7);
    case 'yearly': return String(y);
  }
}

/** expectedGfs is restic's rule written plainly: the newest of each of the n newest buckets. */
function expectedGfs(available: readonly RetentionCheckpoint[], zone: string, kind: BucketKind, n: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of available) {
    const b = expectedBucket(Date.parse(c.createdAt), zone, kind);
    if (seen.has(b)) continue;
    seen.add(b);
    if (out.length < n) out.push(`${c.id} ${kind} ${b}`);
  }
  return out;
}

describe('retention decision properties (seeded random histories)', () => {
  it('never deletes a pinned checkpoint', () => forEachCase((_h, _p, d) => {
    expect(d.delete.filter((c) => c.pinned)).toEqual([]);
  }));

  it('never leaves fewer available checkpoints than min_good (or all there are)', () => forEachCase((h, p, d) => {
    const available = h.filter((c) => c.status === 'available').length;
    expect(d.keep.filter((c) => c.status === 'available').length).toBeGreaterThanOrEqual(Math.min(p.minGood, available));
  }));

  it('gives every kept checkpoint a reason and every deleted one none; deletes only available or error ones', () => forEachCase((h, _p, d) => {
    expect(d.entries.length).toBe(h.filter((c) => c.status !== 'deleted').length);
    for (const e of d.entries) expect(e.action === 'keep').toBe(e.reasons.length > 0);
    expect(d.delete.every((c) => c.status === 'available' || c.status === 'error')).toBe(true);
  }));

  it('keep_last N keeps exactly the N newest available checkpoints', () => forEachCase((h, p, d) => {
    const newest = h.filter((c) => c.status === 'available').sort(byNewest).slice(0, p.keepLast).map((c) => c.id);
    const kept = d.entries.filter((e) => e.reasons.includes(`last ${p.keepLast}`)).map((e) => e.checkpoint.id);
    expect(kept).toEqual(p.keepLast > 0 ? newest : []);
  }));

  it('keep_failed N keeps exactly the N newest error checkpoints', () => forEachCase((h, p, d) => {
    const newest = h.filter((c) => c.status === 'error').sort(byNewest).slice(0, p.keepFailed).map((c) => c.id);
    expect(d.entries.filter((e) => e.reasons.includes(`failed last ${p.keepFailed}`)).map((e) => e.checkpoint.id)).toEqual(newest);
  }));

  it('GFS keeps the newest checkpoint of each of the N newest buckets, as an independent calendar computes them', () => forEachCase((h, p, d) => {
    const available = h.filter((c) => c.status === 'available').sort(byNewest);
    for (const kind of KINDS) {
      const got = d.entries.flatMap((e) => e.reasons.filter((x) => x.startsWith(`${kind} `)).map((x) => `${e.checkpoint.id} ${x}`));
      expect(got, kind).toEqual(expectedGfs(available, p.timeZone, kind, p.keep[kind]));
    }
  }));

  it('does not depend on the order of its input', () => forEachCase((h, p, d, r) => {
    expect(summary(decide(p, shuffle(r, h), NOW))).toEqual(summary(d));
  }));

  it('is idempotent at a fixed time: deciding again over what it kept deletes nothing and keeps the same reasons', () => forEachCase((_h, p, d) => {
    const again = decide(p, d.keep, NOW);
    expect(again.delete).toEqual([]);
    expect(summary(again)).toEqual(summary(d).filter(([, action]) => action === 'keep'));
  }));

  it('keeps every available checkpoint younger than keep_within and no rule-less older one for it', () => forEachCase((_h, p, d) => {
    if (!p.keepWithin) return;
    const start = NOW.getTime() - p.keepWithin.ms;
    for (const e of d.entries.filter((x) => x.checkpoint.status === 'available')) {
      expect(e.reasons.includes(`within ${p.keepWithin.text}`), e.checkpoint.createdAt).toBe(Date.parse(e.checkpoint.createdAt) > start);
    }
  }));
});

const at = (id: string, createdAt: string, over: Partial<RetentionCheckpoint> = {}): RetentionCheckpoint => ({ id, createdAt, status: 'available', pinned: false, ...over });
const reasonsOf = (d: RetentionDecision) => Object.fromEntries(d.entries.map((e) => [e.checkpoint.id, e.reasons]));

describe('GFS buckets at the calendar\'s hard places', () => {
  it('Europe/Berlin autumn: the repeated 02:00 hour is two hourly buckets but one day', () => {
    const h = [at('cest', '2026-10-25T00:30:00Z'), at('cet', '2026-10-25T01:30:00Z')];
    expect(reasonsOf(decide(parsePolicy({ keep_hourly: 5, time_zone: 'Europe/Berlin', min_good: 0 }), h, NOW))).toEqual({
      cet: ['hourly 2026-10-25T02:00+01:00'], cest: ['hourly 2026-10-25T02:00+02:00'],
    });
    expect(reasonsOf(decide(parsePolicy({ keep_daily: 5, time_zone: 'Europe/Berlin', min_good: 0 }), h, NOW))).toEqual({ cet: ['daily 2026-10-25'], cest: [] });
  });

  it('Europe/Berlin spring: 01:59 CET and 03:00 CEST are adjacent hours of the same day', () => {
    const h = [at('before', '2026-03-29T00:59:00Z'), at('after', '2026-03-29T01:00:00Z')];
    expect(reasonsOf(decide(parsePolicy({ keep_hourly: 5, time_zone: 'Europe/Berlin' }), h, NOW))).toEqual({
      after: ['hourly 2026-03-29T03:00+02:00'], before: ['hourly 2026-03-29T01:00+01:00'],
    });
  });

  it('America/New_York: New Year\'s Eve evening is still 2026 (and December, and 2026-W53) there, not in UTC', () => {
    const h = [at('eve', '2027-01-01T04:30:00Z'), at('mid', '2026-12-15T12:00:00Z')];
    const ny = decide(parsePolicy({ keep_yearly: 1, keep_monthly: 1, keep_weekly: 1, time_zone: 'America/New_York' }), h, NOW);
    expect(reasonsOf(ny).eve).toEqual(['weekly 2026-W53', 'monthly 2026-12', 'yearly 2026']);
    const utc = decide(parsePolicy({ keep_yearly: 2, keep_monthly: 2 }), h, NOW);
    expect(reasonsOf(utc)).toEqual({ eve: ['monthly 2027-01', 'yearly 2027'], mid: ['monthly 2026-12', 'yearly 2026'] });
  });

  it('America/New_York autumn: 01:30 EDT and 01:30 EST are different hours', () => {
    const h = [at('edt', '2026-11-01T05:30:00Z'), at('est', '2026-11-01T06:30:00Z')];
    expect(reasonsOf(decide(parsePolicy({ keep_hourly: 2, time_zone: 'America/New_York' }), h, NOW))).toEqual({
      est: ['hourly 2026-11-01T01:00-05:00'], edt: ['hourly 2026-11-01T01:00-04:00'],
    });
  });

  it('ISO week 53: 2020-12-31 and 2021-01-03 share 2020-W53; 2021-01-04 starts 2021-W01', () => {
    const h = [at('mon', '2021-01-04T12:00:00Z'), at('sun', '2021-01-03T12:00:00Z'), at('thu', '2020-12-31T12:00:00Z')];
    expect(reasonsOf(decide(parsePolicy({ keep_weekly: 5, min_good: 0 }), h, NOW))).toEqual({ mon: ['weekly 2021-W01'], sun: ['weekly 2020-W53'], thu: [] });
  });

  it('month ends: 31 January 23:30 UTC is February in Berlin', () => {
    const h = [at('a', '2026-01-31T23:30:00Z'), at('b', '2026-01-31T22:30:00Z')];
    expect(reasonsOf(decide(parsePolicy({ keep_monthly: 3, time_zone: 'Europe/Berlin' }), h, NOW))).toEqual({ a: ['monthly 2026-02'], b: ['monthly 2026-01'] });
  });

  it('counts buckets that hold a checkpoint, not calendar days: two weeks off loses no dailies', () => {
    const h = ['01', '02', '03', '20', '21'].map((d) => at(`d${d}`, `2026-12-${d}T10:00:00Z`));
    const d = decide(parsePolicy({ keep_daily: 4 }), h, NOW);
    expect(d.delete.map((c) => c.id)).toEqual(['d01']);
  });
});

describe('statuses, pins and minimum good', () => {
  it('never chooses in-progress checkpoints, keeps the newest failures and tops up with the newest good ones', () => {
    const h = [
      at('p', '2026-12-10T00:00:00Z', { status: 'protecting' }), at('x', '2026-12-09T00:00:00Z', { status: 'deleting' }),
      at('e1', '2026-12-08T00:00:00Z', { status: 'error' }), at('e2', '2026-12-07T00:00:00Z', { status: 'error' }),
      at('a1', '2025-12-06T00:00:00Z'), at('a2', '2025-12-05T00:00:00Z'), at('a3', '2025-12-04T00:00:00Z', { pinned: true }),
      at('ed', '2025-12-03T00:00:00Z', { status: 'error-deleting' }), at('gone', '2025-12-02T00:00:00Z', { status: 'deleted' }),
    ];
    const d = decide(parsePolicy({ keep_within: '7d', min_good: 2 }), h, NOW);
    expect(reasonsOf(d)).toEqual({
      p: ['in progress'], x: ['in progress'], e1: ['failed last 1'], e2: [], a1: ['minimum good'], a2: [], a3: ['pinned'], ed: ['delete failed'],
    });
  });

  it('min_good 0 lets the rules delete every available checkpoint', () => {
    const d = decide(parsePolicy({ keep_within: '1h', min_good: 0 }), [at('old', '2020-01-01T00:00:00Z')], NOW);
    expect(d.delete.map((c) => c.id)).toEqual(['old']);
  });
});

describe('policy validation', () => {
  it.each([
    [{ keep_lats: 3 }, 'unknown key "keep_lats"'],
    [{ keep_last: -1 }, 'keep_last must be a whole number from 0 to 100000, not -1'],
    [{ keep_daily: 1.5 }, 'keep_daily must be a whole number'],
    [{ keep_daily: '7' }, 'keep_daily must be a whole number'],
    [{ keep_hourly: 1e9 }, 'keep_hourly must be a whole number from 0 to 100000'],
    [{ keep_within: '7 days' }, 'keep_within must be a duration such as'],
    [{ keep_within: '0d' }, 'keep_within must be longer than zero'],
    [{ keep_within: '99999d' }, 'longer than 36500 days'],
    [{ keep_last: 3, time_zone: 'Mars/Olympus' }, 'time_zone must be an IANA time zone name'],
    [{}, 'it keeps nothing by rule'],
    [{ keep_last: 0, min_good: 5 }, 'it keeps nothing by rule'],
    [[3], 'a policy is a JSON object'],
    [null, 'a policy is a JSON object'],
  ])('refuses %j', (input, message) => {
    expect(() => parsePolicy(input)).toThrow(message);
  });

  it('fills in the defaults', () => {
    expect(parsePolicy({ keep_last: 3 })).toEqual({
      keepLast: 3, keep: { hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 }, keepWithin: null, minGood: 1, keepFailed: 1, timeZone: 'UTC',
    });
    expect(parsePolicy({ keep_within: '2w3d' }).keepWithin).toEqual({ text: '2w3d', ms: 17 * 86_400_000 });
  });
});

describe('Karbor retention_protect mapping', () => {
  it('maps max_backups to keep_last and retention_duration days to keep_within; 0 or less is unlimited', () => {
    expect(karborPolicy({ max_backups: 5 })).toMatchObject({ keepLast: 5, keepWithin: null });
    expect(karborPolicy({ retention_duration: '7' })).toMatchObject({ keepLast: 0, keepWithin: { text: '7d' } });
    expect(karborPolicy({ max_backups: '3', retention_duration: -1 })).toMatchObject({ keepLast: 3, keepWithin: null });
    expect(karborPolicy({ max_backups: 0, retention_duration: 0 })).toBeUndefined();
    expect(karborPolicy({ provider_id: 'x' })).toBeUndefined();
  });

  it('keeps a superset of what Karbor keeps when both limits are set (rules are a union, Karbor\'s limits an intersection)', () => {
    const h = ['2027-01-14', '2027-01-13', '2027-01-05', '2026-12-01'].map((d, i) => at(`c${i}`, `${d}T00:00:00Z`));
    const d = decide(karborPolicy({ max_backups: 1, retention_duration: 7 })!, h, NOW);
    expect(d.keep.map((c) => c.id)).toEqual(['c0', 'c1']);
  });
});
