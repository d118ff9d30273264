/**
 * The retention decision, pure: given a policy, a plan's checkpoints and the time of the decision, say
 * for every checkpoint whether it is kept or deleted and which rules keep it. No I/O, no clock: the same
 * input always gives the same answer, whatever the order of the checkpoints.
 *
 * Rules, each keeping a checkpoint for its own reason (a checkpoint is kept when any rule keeps it):
 * - `last N`: the N newest available checkpoints.
 * - `hourly|daily|weekly|monthly|yearly <bucket>`: GFS as restic's `forget --keep-*`: walking the
 *   available checkpoints from the newest, the newest one of each calendar bucket is kept, for the N
 *   newest buckets that hold a checkpoint (so a machine switched off for two weeks loses no dailies).
 *   Buckets are local hours, days, ISO weeks, months and years in the policy's time zone.
 * - `within <d>`: available checkpoints taken less than d before the decision (elapsed time, not calendar).
 * - `pinned`: any pinned checkpoint, whatever its status.
 * - `failed last N`: the N newest `error` checkpoints; older failures are deleted.
 * - `minimum good`: when the rules above keep fewer than min_good available checkpoints, the newest
 *   available ones not yet kept are added until min_good are kept (or none is left).
 * - `in progress`: protecting, deleting or copying checkpoints are never chosen; `delete failed`: an
 *   `error-deleting` checkpoint is left for an operator. `deleted` ones are gone and left out.
 *
 * The decision is idempotent for a fixed time: deciding again over the kept checkpoints deletes nothing.
 */
import type { CheckpointStatus } from '../../store/index.js';
import { BUCKET_KINDS, bucketer } from './buckets.js';
import type { RetentionPolicy } from './parse.js';

export { karborPolicy, parsePolicy, policyJson, DEFAULT_KEEP_FAILED, DEFAULT_MIN_GOOD, MAX_COUNT, MAX_WITHIN_DAYS } from './parse.js';
export type { Duration, PolicyJson, RetentionPolicy } from './parse.js';
export { bucketer, isoWeek, type BucketKind, type CalendarBuckets } from './buckets.js';

/** RetentionCheckpoint is what the decision needs to know of a checkpoint. */
export interface RetentionCheckpoint {
  readonly id: string;
  /** createdAt is an ISO-8601 timestamp with its zone (the store's form). */
  readonly createdAt: string;
  readonly status: CheckpointStatus;
  readonly pinned: boolean;
}

/** RetentionEntry is the verdict on one checkpoint: kept exactly when it has at least one reason. */
export interface RetentionEntry<T extends RetentionCheckpoint = RetentionCheckpoint> {
  readonly checkpoint: T;
  readonly action: 'keep' | 'delete';
  readonly reasons: readonly string[];
}

/** RetentionDecision lists every checkpoint but `deleted` ones, newest first (ties by id, descending). */
export interface RetentionDecision<T extends RetentionCheckpoint = RetentionCheckpoint> {
  readonly entries: readonly RetentionEntry<T>[];
  readonly keep: readonly T[];
  readonly delete: readonly T[];
}

const IN_PROGRESS: readonly CheckpointStatus[] = ['protecting', 'deleting', 'copying', 'wait_copying'];

interface Item<T> {
  readonly cp: T;
  readonly ms: number;
  readonly reasons: string[];
}

/**
 * decide applies `policy` to a plan's checkpoints at `now`. It throws an Error for a checkpoint with an
 * unreadable createdAt or an id given twice: both are bugs in the caller, not policy questions.
 */
export function decide<T extends RetentionCheckpoint>(policy: RetentionPolicy, checkpoints: readonly T[], now: Date): RetentionDecision<T> {
  const items = newestFirst(checkpoints.filter((c) => c.status !== 'deleted'));
  const available = items.filter((i) => i.cp.status === 'available');
  for (const i of items) {
    if (i.cp.pinned) i.reasons.push('pinned');
    if (IN_PROGRESS.includes(i.cp.status)) i.reasons.push('in progress');
    if (i.cp.status === 'error-deleting') i.reasons.push('delete failed');
  }
  keepNewest(available, policy.keepLast, `last ${policy.keepLast}`);
  keepBuckets(policy, available);
  keepWithin(policy, available, now.getTime());
  keepNewest(items.filter((i) => i.cp.status === 'error'), policy.keepFailed, `failed last ${policy.keepFailed}`);
  keepMinimumGood(available, policy.minGood);
  const entries = items.map((i): RetentionEntry<T> => ({ checkpoint: i.cp, action: i.reasons.length > 0 ? 'keep' : 'delete', reasons: i.reasons }));
  return {
    entries,
    keep: entries.filter((e) => e.action === 'keep').map((e) => e.checkpoint),
    delete: entries.filter((e) => e.action === 'delete').map((e) => e.checkpoint),
  };
}

function newestFirst<T extends RetentionCheckpoint>(checkpoints: readonly T[]): Item<T>[] {
  const seen = new Set<string>();
  const items = checkpoints.map((cp) => {
    if (seen.has(cp.id)) throw new Error(`retention: checkpoint ${cp.id} is listed twice`);
    seen.add(cp.id);
    const ms = Date.parse(cp.createdAt);
    if (Number.isNaN(ms)) throw new Error(`retention: checkpoint ${cp.id} has an unreadable createdAt ${JSON.stringify(cp.createdAt)}`);
    return { cp, ms, reasons: [] as string[] };
  });
  return items.sort((a, b) => b.ms - a.ms || (a.cp.id < b.cp.id ? 1 : a.cp.id > b.cp.id ? -1 : 0));
}

function keepNewest(items: readonly Item<unknown>[], n: number, reason: string): void {
  for (const i of items.slice(0, n)) i.reasons.push(reason);
}

/** keepBuckets is restic's GFS walk, once per period: a new bucket name means the newest of that bucket. */
function keepBuckets(policy: RetentionPolicy, available: readonly Item<RetentionCheckpoint>[]): void {
  const kinds = BUCKET_KINDS.filter((k) => policy.keep[k] > 0);
  if (kinds.length === 0) return;
  const bucketsOf = bucketer(policy.timeZone);
  const left = { ...policy.keep };
  const last: Partial<Record<string, string>> = {};
  for (const i of available) {
    const buckets = bucketsOf(i.ms);
    for (const kind of kinds) {
      const name = buckets[kind];
      if (left[kind] > 0 && name !== last[kind]) {
        i.reasons.push(`${kind} ${name}`);
        left[kind] -= 1;
        last[kind] = name;
      }
    }
  }
}

function keepWithin(policy: RetentionPolicy, available: readonly Item<RetentionCheckpoint>[], now: number): void {
  const within = policy.keepWithin;
  if (!within) return;
  // A checkpoint stamped after `now` (clock skew between hosts) is newer than the window's start too.
  for (const i of available) if (i.ms > now - within.ms) i.reasons.push(`within ${within.text}`);
}

function keepMinimumGood(available: readonly Item<RetentionCheckpoint>[], minGood: number): void {
  let kept = available.filter((i) => i.reasons.length > 0).length;
  for (const i of available) {
    if (kept >= minGood) return;
    if (i.reasons.length === 0) {
      i.reasons.push('minimum good');
      kept += 1;
    }
  }
}
