/**
 * Timing: the pure part of the scheduler. Given a trigger's schedule, an operation's cursor (the latest
 * due time already handled) and the time now, decide whether a run is due and which one. No I/O, so the
 * misfire and jitter rules are testable with plain dates.
 */
import { createHash } from 'node:crypto';
import type { Schedule } from '../triggers/schedule.js';

/** MisfirePolicy says what an operation does with runs missed while no scheduler ran. */
export type MisfirePolicy = 'run-once' | 'skip';

/** JitterBounds cap the deterministic delay that spreads runs due at the same instant. */
export interface JitterBounds {
  /** maxMs is the largest jitter whatever the window. */
  readonly maxMs: number;
  /** windowFraction is the largest share of the trigger's window jitter may use, so a jittered run still
   * leaves most of the window for scheduling delays. */
  readonly windowFraction: number;
}

/** jitterMs is the operation's fixed offset after each due time: a hash of its id, scaled into the bound. */
export function jitterMs(operationId: string, windowSeconds: number, bounds: JitterBounds): number {
  const bound = Math.floor(Math.min(bounds.maxMs, windowSeconds * 1000 * bounds.windowFraction));
  if (bound <= 0) return 0;
  const h = createHash('sha256').update(operationId).digest().readUInt32BE(0);
  return Math.floor((h / 0x1_0000_0000) * bound);
}

/** Decision is what to do for an operation at a tick. */
export type Decision =
  | { readonly kind: 'wait' }
  | { readonly kind: 'fire' | 'skip'; readonly dueAt: Date; readonly reason: RunReason; readonly missed: number };

/**
 * RunReason says why a run fired or was skipped at decision time: `on_time` (its first chance, inside the
 * window), `late` (inside the window, but earlier occurrences were missed), `misfire_run_once` (the window
 * passed during downtime; one catch-up run), `misfire_skip` (the window passed; the policy says skip).
 */
export type RunReason = 'on_time' | 'late' | 'misfire_run_once' | 'misfire_skip';

/** MAX_SCAN bounds how many missed occurrences are counted after a long outage; the count saturates. */
const MAX_SCAN = 10_000;

/** Pending is the latest occurrence in (cursor, now] and how many there were. */
export interface Pending { readonly latest: Date; readonly count: number }

/** pendingOccurrences finds the occurrences after `cursor` up to `now`. */
export function pendingOccurrences(schedule: Schedule, cursor: Date, now: Date): Pending | null {
  let after = cursor;
  let latest: Date | null = null;
  let count = 0;
  // Usually one or two occurrences are pending; computing occurrences costs about as much each, so ask
  // for two and double only when an outage left more.
  for (let size = 2; ; size = Math.min(size * 2, 256)) {
    const batch = schedule.upcoming(after, size);
    for (const d of batch) {
      if (d.getTime() > now.getTime()) return latest ? { latest, count } : null;
      latest = d;
      count++;
    }
    if (batch.length < size || count >= MAX_SCAN) return latest ? { latest, count } : null;
    after = batch[batch.length - 1]!;
  }
}

/**
 * decide applies the rules of docs/scheduler.md to an operation's pending occurrences:
 * - nothing pending, or the latest one's jittered fire time not reached: wait;
 * - the latest is inside its window [due, due + window]: fire it (earlier ones are missed, counted);
 * - the window has passed (the scheduler was down): `run-once` fires one catch-up run, `skip` records a skip.
 * Either way only the latest occurrence is claimed, so an outage of any length costs at most one run.
 */
export function decide(p: Pending | null, now: Date, windowMs: number, jitter: number, misfire: MisfirePolicy): Decision {
  if (!p) return { kind: 'wait' };
  const due = p.latest.getTime();
  if (now.getTime() < due + jitter) return { kind: 'wait' };
  if (now.getTime() <= due + windowMs) return { kind: 'fire', dueAt: p.latest, reason: p.count > 1 ? 'late' : 'on_time', missed: p.count - 1 };
  return misfire === 'skip'
    ? { kind: 'skip', dueAt: p.latest, reason: 'misfire_skip', missed: p.count }
    : { kind: 'fire', dueAt: p.latest, reason: 'misfire_run_once', missed: p.count };
}

/** misfireOf reads operation_definition.misfire; an operation that names none gets the scheduler's default. */
export function misfireOf(definition: Readonly<Record<string, unknown>>, fallback: MisfirePolicy = 'run-once'): MisfirePolicy {
  return definition.misfire === 'skip' || definition.misfire === 'run-once' ? definition.misfire : fallback;
}

/** latest is the latest of ISO times and dates, as a Date. */
export function latest(...times: readonly (string | Date | undefined)[]): Date {
  let max = 0;
  for (const t of times) {
    if (t === undefined) continue;
    const ms = typeof t === 'string' ? Date.parse(t) : t.getTime();
    if (Number.isFinite(ms) && ms > max) max = ms;
  }
  return new Date(max);
}
