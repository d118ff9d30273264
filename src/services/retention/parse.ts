/**
 * Retention policies as users write them (JSON, snake_case, the API and CLI form), their validation,
 * and the mapping from Karbor's `retention_protect` limits. Validation is strict: an unknown key, a
 * negative or fractional count, an absurd size or an unknown time zone is refused with a message naming
 * the field, because a typo in a retention policy silently deletes backups.
 */
import { HoardError } from '../../model/errors.js';
import { isTimeZone, type BucketKind } from './buckets.js';

/** Duration is an elapsed time as written (`7d`, `36h`, `2w3d`) and its length. */
export interface Duration {
  readonly text: string;
  readonly ms: number;
}

/**
 * RetentionPolicy is a validated policy. A checkpoint is kept when any rule keeps it (restic's union
 * semantics); a count of 0 turns a rule off.
 */
export interface RetentionPolicy {
  readonly keepLast: number;
  readonly keep: Readonly<Record<BucketKind, number>>;
  readonly keepWithin: Duration | null;
  /** minGood is how many available checkpoints always survive, whatever the rules say. */
  readonly minGood: number;
  /** keepFailed is how many of the newest `error` checkpoints survive. */
  readonly keepFailed: number;
  /** timeZone is the IANA zone whose calendar draws the GFS buckets. */
  readonly timeZone: string;
}

/** PolicyJson is the wire form of a policy: every key optional, snake_case. */
export interface PolicyJson {
  keep_last?: number;
  keep_hourly?: number;
  keep_daily?: number;
  keep_weekly?: number;
  keep_monthly?: number;
  keep_yearly?: number;
  keep_within?: string;
  min_good?: number;
  keep_failed?: number;
  time_zone?: string;
}

/** MAX_COUNT bounds every count: more than this is a mistake (a unit slip), not a policy. */
export const MAX_COUNT = 100_000;
/** MAX_WITHIN_DAYS bounds keep_within at a century. */
export const MAX_WITHIN_DAYS = 36_500;
/** Defaults: never delete the last good checkpoint; keep the newest failure for diagnosis. */
export const DEFAULT_MIN_GOOD = 1;
export const DEFAULT_KEEP_FAILED = 1;

const COUNT_KEYS = ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly', 'min_good', 'keep_failed'] as const;
const KEYS: readonly string[] = [...COUNT_KEYS, 'keep_within', 'time_zone'];
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?$/;
const HOUR_MS = 3_600_000;

const bad = (why: string) => new HoardError('invalid_field', `Invalid retention policy: ${why}.`);

/**
 * parsePolicy validates a policy in its wire form and fills in the defaults (min_good 1, keep_failed 1,
 * time zone UTC). It throws HoardError `invalid_field` naming the first wrong key.
 */
export function parsePolicy(input: unknown): RetentionPolicy {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('a policy is a JSON object such as {"keep_last": 7, "keep_daily": 14}');
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(`unknown key ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; the keys are ${KEYS.join(', ')}`);
  const count = (key: (typeof COUNT_KEYS)[number], dflt: number): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNT) {
      throw bad(`${key} must be a whole number from 0 to ${MAX_COUNT}, not ${JSON.stringify(v)}`);
    }
    return v;
  };
  const policy: RetentionPolicy = {
    keepLast: count('keep_last', 0),
    keep: { hourly: count('keep_hourly', 0), daily: count('keep_daily', 0), weekly: count('keep_weekly', 0), monthly: count('keep_monthly', 0), yearly: count('keep_yearly', 0) },
    // null is what policyJson (and so explain) prints for "no duration": a policy copied back must parse.
    keepWithin: raw.keep_within === undefined || (raw.keep_within as unknown) === null ? null : parseDuration(raw.keep_within),
    minGood: count('min_good', DEFAULT_MIN_GOOD),
    keepFailed: count('keep_failed', DEFAULT_KEEP_FAILED),
    timeZone: parseTimeZone(raw.time_zone),
  };
  if (!keepsHistory(policy)) {
    throw bad('it keeps nothing by rule; set at least one of keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly or keep_within (min_good alone would delete all but the newest)');
  }
  return policy;
}

/** policyJson is a validated policy in its wire form, defaults spelled out, so explain shows what ran. */
export function policyJson(p: RetentionPolicy): Required<Omit<PolicyJson, 'keep_within'>> & { keep_within: string | null } {
  return {
    keep_last: p.keepLast,
    keep_hourly: p.keep.hourly,
    keep_daily: p.keep.daily,
    keep_weekly: p.keep.weekly,
    keep_monthly: p.keep.monthly,
    keep_yearly: p.keep.yearly,
    keep_within: p.keepWithin?.text ?? null,
    min_good: p.minGood,
    keep_failed: p.keepFailed,
    time_zone: p.timeZone,
  };
}

/**
 * karborPolicy maps a `retention_protect` operation definition to a policy: `max_backups` N → keep_last N,
 * `retention_duration` D → keep_within `Dd`; 0 or less (or absent) is Karbor's "unlimited" and maps to no
 * rule. It returns undefined when both are unlimited (Karbor deletes nothing then). Values may be text,
 * as the Karbor CLI sends them. See docs/retention.md for where Hoard's result differs from Karbor's.
 */
export function karborPolicy(definition: Readonly<Record<string, unknown>>): RetentionPolicy | undefined {
  const limit = (key: string): number => {
    const v = definition[key];
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (n === undefined || n === null) return 0;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(`the scheduled operation's ${key} ${JSON.stringify(v)} is not an integer`);
    return Math.max(0, n);
  };
  const maxBackups = limit('max_backups');
  const days = limit('retention_duration');
  if (maxBackups === 0 && days === 0) return undefined;
  const json: PolicyJson = {};
  if (maxBackups > 0) json.keep_last = Math.min(maxBackups, MAX_COUNT);
  if (days > 0) json.keep_within = `${Math.min(days, MAX_WITHIN_DAYS)}d`;
  return parsePolicy(json);
}

function keepsHistory(p: RetentionPolicy): boolean {
  return p.keepLast > 0 || Object.values(p.keep).some((n) => n > 0) || p.keepWithin !== null;
}

function parseDuration(v: unknown): Duration {
  const m = typeof v === 'string' ? DURATION_RE.exec(v) : null;
  if (!m || v === '') throw bad(`keep_within must be a duration such as "7d", "36h" or "2w3d" (weeks, days, hours), not ${JSON.stringify(v)}`);
  const [w, d, h] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0)) as [number, number, number];
  const hours = (w * 7 + d) * 24 + h;
  if (hours <= 0) throw bad('keep_within must be longer than zero; leave it out to turn it off');
  if (hours > MAX_WITHIN_DAYS * 24) throw bad(`keep_within ${v as string} is longer than ${MAX_WITHIN_DAYS} days`);
  return { text: v as string, ms: hours * HOUR_MS };
}

function parseTimeZone(v: unknown): string {
  if (v === undefined) return 'UTC';
  if (typeof v !== 'string' || v.length === 0 || v.length > 64 || !isTimeZone(v)) {
    throw bad(`time_zone must be an IANA time zone name such as "Europe/Berlin" or "UTC", not ${JSON.stringify(typeof v === 'string' ? v.slice(0, 64) : v)}`);
  }
  return v;
}
