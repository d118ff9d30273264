/**
 * The scheduler (Karbor's operation engine): fires scheduled operations when their triggers say so.
 *
 * Invariants, across any number of scheduler processes sharing one database (docs/scheduler.md):
 * - exactly once: a due run is claimed by inserting its (scheduled_operation_id, due_at) row; only the
 *   process whose insert lands fires it. No operation belongs to a process, so when one dies the others
 *   fire its operations' next runs. A run claimed by a process that died before firing is reported
 *   failed/abandoned after `staleClaimMs`, never fired twice;
 * - only while the plan is `started` and the operation enabled; resuming counts from the resume;
 * - at most one run per plan at a time: a run due while a checkpoint of the plan is `protecting` is
 *   skipped with reason `overlap`;
 * - missed runs (the window passed while no scheduler ran) follow operation_definition.misfire:
 *   `run-once` (default) fires one catch-up run, `skip` records a skip; never more than one per outage;
 * - runs due at the same instant are spread by a per-operation jitter inside the trigger's window;
 * - every run, skip and failure is an operation log with a reason.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { insertLog } from '../../store/operation-logs.js';
import { abandonStaleClaims } from '../../store/schedule-runs.js';
import type { Clock } from '../../util/clock.js';
import { storedTime } from '../../util/clock.js';
import { newId } from '../../util/ids.js';
import type { CheckpointService } from '../checkpoints/index.js';
import { EntryTable, type Entry } from './entries.js';
import { fireAll, type Planned, type RetentionStep, type RunEvent } from './fire.js';
import { decide, pendingOccurrences, type JitterBounds, type MisfirePolicy } from './timing.js';

export type { RetentionStep, RunEvent } from './fire.js';
export { jitterMs, decide, pendingOccurrences, type MisfirePolicy, type RunReason, type Decision } from './timing.js';

/** SchedulerOptions tune the loop; all times in milliseconds. */
export interface SchedulerOptions {
  /** pollMs is the longest sleep between ticks; the loop wakes earlier for a run due sooner. */
  readonly pollMs: number;
  /** refreshMs is how often the list of schedulable operations is re-read (and stale claims swept). */
  readonly refreshMs: number;
  readonly jitter: JitterBounds;
  /** concurrency is how many checkpoint submissions one tick runs at once. */
  readonly concurrency: number;
  /** slotMs is how long a plan slot lasts if its holder dies while starting a run. */
  readonly slotMs: number;
  /** staleClaimMs: a run still `claimed` after this long lost its scheduler and is reported abandoned. */
  readonly staleClaimMs: number;
  /** batch is how many runs are claimed, fired and recorded together. */
  readonly batch: number;
  /** coalesceMs is the shortest sleep between ticks. */
  readonly coalesceMs: number;
  /** misfire is the policy of operations whose operation_definition names none. */
  readonly misfire: MisfirePolicy;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  pollMs: 1000,
  refreshMs: 5000,
  // A quarter of the window, at most 5 minutes: 10,000 runs due at 02:00 with Karbor's minimum window
  // (900 s) spread over 225 s, and three quarters of the window remain for delays.
  jitter: { maxMs: 300_000, windowFraction: 0.25 },
  concurrency: 8,
  slotMs: 60_000,
  staleClaimMs: 300_000,
  batch: 200,
  coalesceMs: 200,
  misfire: 'run-once',
};

/** SchedulerDeps: the store, the clock, the checkpoint use case, and optionally the retention step. */
export interface SchedulerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly checkpoints: Pick<CheckpointService, 'create'>;
  /** retention is the hook point for retention_protect's second step (services/retention, wired by the lead). */
  readonly retention?: RetentionStep;
  readonly options?: Partial<SchedulerOptions>;
  /** onRun hears every claimed run's outcome (logging, benchmarks). */
  readonly onRun?: (e: RunEvent) => void;
  /** onError hears a failed tick; the next tick tries again. */
  readonly onError?: (err: unknown) => void;
  /** holder names this scheduler in claims and logs; unique per process by default. */
  readonly holder?: string;
}

/** TickReport counts what one tick did. */
export interface TickReport { readonly decided: number; readonly lost: number; readonly abandoned: number }

/** Scheduler is one scheduler instance. tick() is one pass (tests drive it with a fake clock); start() loops. */
export interface Scheduler {
  readonly holder: string;
  tick(): Promise<TickReport>;
  start(): void;
  /** stop ends the loop and waits for a running tick to finish. */
  stop(): Promise<void>;
}

/** createScheduler builds a scheduler; nothing runs until start() or tick(). */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...deps.options };
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const entries = new EntryTable(deps.store, options.jitter, options.misfire);
  const fireDeps = {
    store: deps.store, clock: deps.clock, checkpoints: deps.checkpoints, retention: deps.retention, holder,
    concurrency: options.concurrency, slotMs: options.slotMs, onRun: deps.onRun ?? (() => {}),
  };
  let lastRefresh = -Infinity;
  let running: Promise<TickReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;

  const tickOnce = async (): Promise<TickReport> => {
    const now = deps.clock.now();
    let abandoned = 0;
    if (now.getTime() - lastRefresh >= options.refreshMs || now.getTime() < lastRefresh) {
      await entries.refresh();
      abandoned = await sweepAbandoned(deps, fireDeps.onRun, now, options.staleClaimMs);
      lastRefresh = now.getTime();
    }
    const due = [...entries.byId.values()].filter((e) => e.next !== null && now.getTime() >= e.next.getTime() + e.jitterMs);
    if (due.length === 0) return { decided: 0, lost: 0, abandoned };
    const valid = await entries.recheck(due.map((e) => e.operation.id));
    const planned = plan(due.filter((e) => valid.has(e.operation.id)), now);
    let lost = 0;
    // In batches, so outcomes and logs are written as runs go, not only after a burst's last run.
    for (let i = 0; i < planned.length; i += options.batch) lost += (await fireAll(fireDeps, planned.slice(i, i + options.batch))).lost;
    return { decided: planned.length, lost, abandoned };
  };

  const tick = (): Promise<TickReport> => {
    // Ticks never overlap: a slow database would otherwise make two ticks decide the same run.
    running ??= tickOnce().catch((err: unknown) => {
      // Cursors may have moved past runs that were never claimed: rebuild them from schedule_runs.
      entries.byId.clear();
      lastRefresh = -Infinity;
      throw err;
    }).finally(() => { running = undefined; });
    return running;
  };

  const loop = () => {
    if (stopped) return;
    tick().catch(deps.onError ?? ((err: unknown) => process.stderr.write(`hoard scheduler: tick failed: ${(err as Error)?.message ?? String(err)}\n`)))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, sleepMs(entries.byId.values(), deps.clock.now(), options));
      });
  };

  return {
    holder,
    tick,
    start() {
      if (!stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** plan decides each due entry and moves its cursor past what was decided. */
function plan(due: readonly Entry[], now: Date): Planned[] {
  const out: Planned[] = [];
  for (const e of due) {
    const d = decide(pendingOccurrences(e.schedule, e.cursor, now), now, e.windowMs, e.jitterMs, e.misfire);
    if (d.kind === 'wait') continue;
    out.push({ entry: e, kind: d.kind, dueAt: d.dueAt, reason: d.reason, missed: d.missed });
    // Whether this process wins the claim or another does, the run is handled: move on.
    e.cursor = d.dueAt;
    e.next = e.schedule.next(d.dueAt);
  }
  return out;
}

/**
 * sleepMs wakes the loop at the earliest jittered due time, but at least every pollMs and at most every
 * coalesceMs: runs planned a few milliseconds apart are claimed and recorded together, which costs one
 * round of queries instead of one per run.
 */
function sleepMs(entries: Iterable<Entry>, now: Date, o: Pick<SchedulerOptions, 'pollMs' | 'coalesceMs'>): number {
  let earliest = now.getTime() + o.pollMs;
  for (const e of entries) if (e.next) earliest = Math.min(earliest, e.next.getTime() + e.jitterMs);
  return Math.max(o.coalesceMs, earliest - now.getTime());
}

/** sweepAbandoned reports runs whose scheduler died between claim and fire; each is reported once. */
async function sweepAbandoned(deps: SchedulerDeps, onRun: (e: RunEvent) => void, now: Date, staleMs: number): Promise<number> {
  const runs = await abandonStaleClaims(deps.store.db, storedTime(new Date(now.getTime() - staleMs)), storedTime(now));
  for (const r of runs) {
    const detail = `scheduler ${r.claimedBy} claimed this run at ${r.claimedAt} and stopped before firing it; it is not retried, so it never runs twice`;
    await insertLog(deps.store.db, {
      id: newId(), projectId: r.projectId, operationType: 'protect', checkpointId: null, planId: r.planId, providerId: null, restoreId: null,
      scheduledOperationId: r.scheduledOperationId, status: 'failed', startedAt: storedTime(now), endedAt: storedTime(now), errorInfo: detail,
      extraInfo: { created_by: 'scheduled_operation', scheduled_operation_id: r.scheduledOperationId, due_at: r.dueAt, reason: 'abandoned' },
      createdAt: storedTime(now),
    });
    onRun({ operationId: r.scheduledOperationId, dueAt: new Date(r.dueAt), fireAt: new Date(r.fireAt), endedAt: now, state: 'failed', reason: 'abandoned', detail });
  }
  return runs.length;
}
