/**
 * Firing: turn a tick's decisions into runs. Order matters and is the whole correctness argument:
 * 1. claim every decided run (INSERT … ON CONFLICT DO NOTHING): only runs this process inserted go on;
 * 2. take the plan slot of each run that would fire, then look for a checkpoint still `protecting`:
 *    a busy plan's run is skipped (overlap), never queued, so runs cannot pile up behind a slow one;
 * 3. submit the checkpoint through the same use case as POST /checkpoints;
 * 4. free the slots and record every outcome on its run and in an operation log, with its reason.
 * Steps 1–2 are one transaction and step 4 another, so a batch costs two commits of its own besides
 * one per checkpoint: on SQLite each commit is a WAL append, and they were most of the scheduler's cost.
 */
import type { CheckpointRecord, Store } from '../../store/index.js';
import { insertLogs, type OperationLogRecord } from '../../store/operation-logs.js';
import { acquirePlanSlots, busyPlans, claimRuns, finishRun, releasePlanSlots, type RunKey, type RunOutcome, type ScheduleRunRecord } from '../../store/schedule-runs.js';
import { isHoardError } from '../../model/errors.js';
import type { Caller } from '../../model/caller.js';
import type { Clock } from '../../util/clock.js';
import { storedTime } from '../../util/clock.js';
import { newId } from '../../util/ids.js';
import type { CheckpointService } from '../checkpoints/index.js';
import type { Entry } from './entries.js';
import type { RunReason } from './timing.js';

/** Planned is a decided run of an entry. */
export interface Planned {
  readonly entry: Entry;
  readonly kind: 'fire' | 'skip';
  readonly dueAt: Date;
  readonly reason: RunReason;
  readonly missed: number;
}

/** OutcomeReason adds the reasons only firing can give to the decision's. */
export type OutcomeReason = RunReason | 'overlap' | 'protect_failed' | 'abandoned';

/** RunEvent reports one claimed run's end to whoever listens (the role's log line, the benchmark). */
export interface RunEvent {
  readonly operationId: string;
  readonly dueAt: Date;
  readonly fireAt: Date;
  readonly endedAt: Date;
  readonly state: RunOutcome['state'];
  readonly reason: OutcomeReason;
  readonly detail?: string;
  readonly checkpointId?: string;
}

/**
 * RetentionStep is the hook point for `retention_protect`: after its protect was submitted, the scheduler
 * calls afterProtect. services/retention provides it (wired in roles/scheduler.ts); until then a
 * retention_protect only protects and its log says retention was not run.
 */
export interface RetentionStep {
  afterProtect(run: { readonly caller: Caller; readonly operation: Entry['operation']; readonly checkpoint: CheckpointRecord; readonly dueAt: Date }): Promise<void>;
}

/** FireDeps are what firing needs. */
export interface FireDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly checkpoints: Pick<CheckpointService, 'create'>;
  readonly retention?: RetentionStep | undefined;
  readonly holder: string;
  readonly concurrency: number;
  readonly slotMs: number;
  readonly onRun: (e: RunEvent) => void;
}

/** fireAll claims and runs a tick's decisions; it answers how many runs another scheduler had claimed. */
export async function fireAll(deps: FireDeps, planned: readonly Planned[]): Promise<{ lost: number }> {
  if (planned.length === 0) return { lost: 0 };
  const { mine, slots, busy } = await claim(deps, planned);
  const out: Outcomes = [];
  let held: readonly string[] = [...slots];
  try {
    for (const p of mine) if (p.kind === 'skip') finish(deps, out, p, { state: 'skipped', reason: p.reason, detail: misfireDetail(p) });
    const go = admit(deps, out, mine.filter((p) => p.kind === 'fire'), slots, busy);
    const retain: Submitted[] = [];
    await pool(go, deps.concurrency, async (p) => {
      const s = await submit(deps, out, p);
      if (s && p.entry.operation.operationType === 'retention_protect') retain.push(s);
      else if (s) fired(deps, out, s, undefined);
    });
    if (retain.length > 0) {
      // The checkpoints are committed `protecting`: from here on they keep their plans busy, so the slots
      // need not be held through retention, which may take a while.
      await releasePlanSlots(deps.store.db, held, deps.holder);
      held = [];
      await pool(retain, deps.concurrency, async (s) => fired(deps, out, s, await runRetention(deps, s)));
    }
  } finally {
    await flush(deps, out, held);
  }
  return { lost: planned.length - mine.length };
}

/** Claim is what one claim transaction won: the runs to handle, the plan slots held, and which of those plans are busy. */
interface Claim { readonly mine: readonly Planned[]; readonly slots: ReadonlySet<string>; readonly busy: ReadonlySet<string> }

/**
 * claim inserts the runs, takes the slots of the plans whose runs would fire and reads which of them are
 * busy, in one transaction. Runs and plans go in key order, so two schedulers claiming overlapping
 * batches wait for each other in the same order instead of deadlocking (PostgreSQL).
 */
async function claim(deps: FireDeps, planned: readonly Planned[]): Promise<Claim> {
  const now = deps.clock.now();
  const byKey = new Map(planned.map((p) => [runKey(p.entry.operation.id, storedTime(p.dueAt)), p]));
  const rows = planned.map((p) => claimRow(p, deps.holder, now)).sort((a, b) => compare(runKey(a.scheduledOperationId, a.dueAt), runKey(b.scheduledOperationId, b.dueAt)));
  return deps.store.db.transaction().execute(async (trx) => {
    const won = await claimRuns(trx, rows);
    const mine = won.map((k) => byKey.get(runKey(k.scheduledOperationId, k.dueAt))!);
    const plans = [...new Set(mine.filter((p) => p.kind === 'fire').map((p) => p.entry.operation.planId))].sort(compare);
    if (plans.length === 0) return { mine, slots: new Set<string>(), busy: new Set<string>() };
    const slots = await acquirePlanSlots(trx, plans, deps.holder, storedTime(now), storedTime(new Date(now.getTime() + deps.slotMs)));
    return { mine, slots, busy: await busyPlans(trx, [...slots]) };
  });
}

/** admit answers the runs that may start: one per plan, whose slot this scheduler holds and whose plan is idle; the others are skipped as overlap. */
function admit(deps: FireDeps, out: Outcomes, fires: readonly Planned[], slots: ReadonlySet<string>, busy: ReadonlySet<string>): Planned[] {
  const started = new Set<string>();
  const go: Planned[] = [];
  for (const p of fires) {
    const plan = p.entry.operation.planId;
    if (!slots.has(plan)) finish(deps, out, p, { state: 'skipped', reason: 'overlap', detail: `another scheduler is starting a run of plan ${plan} right now` });
    else if (busy.has(plan)) finish(deps, out, p, { state: 'skipped', reason: 'overlap', detail: `a checkpoint of plan ${plan} is still protecting; at most one run per plan at a time` });
    else if (started.has(plan)) finish(deps, out, p, { state: 'skipped', reason: 'overlap', detail: `another scheduled operation of plan ${plan} fired for the same time` });
    else { started.add(plan); go.push(p); }
  }
  return go;
}

/** fired records a run whose checkpoint was accepted, with its retention step's result if it had one. */
function fired(deps: FireDeps, out: Outcomes, s: Submitted, retention: string | undefined): void {
  const { p, checkpoint } = s;
  finish(deps, out, p, { state: 'fired', reason: p.reason, checkpointId: checkpoint.id, ...(p.missed > 0 ? { detail: misfireDetail(p) } : {}), retention });
}

/** Submitted is a run whose checkpoint was accepted, waiting for its retention step and its record. */
interface Submitted { readonly p: Planned; readonly caller: Caller; readonly checkpoint: CheckpointRecord }

/** submit creates the run's checkpoint as the operation's user; a refusal ends the run as failed. */
async function submit(deps: FireDeps, out: Outcomes, p: Planned): Promise<Submitted | undefined> {
  const op = p.entry.operation;
  const caller: Caller = { userId: op.userId, projectId: op.projectId, roles: ['member'], isAdmin: false };
  const extraInfo = {
    created_by: 'scheduled_operation', scheduled_operation_id: op.id, trigger_id: p.entry.triggerId, due_at: storedTime(p.dueAt),
    ...(p.reason === 'misfire_run_once' ? { misfire: 'run-once' } : {}),
  };
  try {
    const checkpoint = await deps.checkpoints.create(caller, String(op.operationDefinition.provider_id), { plan_id: op.planId, extraInfo });
    return { p, caller, checkpoint };
  } catch (err) {
    const code = isHoardError(err) ? err.reason : 'internal';
    finish(deps, out, p, { state: 'failed', reason: 'protect_failed', detail: `${code}: ${(err as Error)?.message ?? String(err)}` });
    return undefined;
  }
}

/** runRetention is the retention_protect hook point; its failure never undoes the protect. */
async function runRetention(deps: FireDeps, { p, caller, checkpoint }: Submitted): Promise<string | undefined> {
  if (!deps.retention) return 'not_run: no retention step is wired into this scheduler';
  try {
    await deps.retention.afterProtect({ caller, operation: p.entry.operation, checkpoint, dueAt: p.dueAt });
    return 'done';
  } catch (err) {
    return `failed: ${(err as Error)?.message ?? String(err)}`;
  }
}

interface Finish {
  readonly state: RunOutcome['state'];
  readonly reason: OutcomeReason;
  readonly detail?: string | undefined;
  readonly checkpointId?: string;
  readonly retention?: string | undefined;
}

const LOG_STATUS = { fired: 'success', skipped: 'skipped', failed: 'failed' } as const;

/** Outcome is a run's ended state, buffered until the tick writes all of them in one transaction. */
interface Outcome {
  readonly log: OperationLogRecord;
  readonly key: RunKey;
  readonly outcome: RunOutcome;
  readonly event: RunEvent;
}

/** Outcomes collects a tick's ended runs. */
type Outcomes = Outcome[];

/** finish records a run's outcome (written by flush) with its operation log. */
function finish(deps: FireDeps, out: Outcomes, p: Planned, f: Finish): void {
  const op = p.entry.operation;
  const ended = deps.clock.now();
  const logId = newId();
  const fireAt = new Date(p.dueAt.getTime() + p.entry.jitterMs);
  const log: OperationLogRecord = {
    id: logId, projectId: op.projectId, operationType: 'protect', checkpointId: f.checkpointId ?? null, planId: op.planId,
    providerId: String(op.operationDefinition.provider_id), restoreId: null, scheduledOperationId: op.id, status: LOG_STATUS[f.state],
    startedAt: storedTime(ended), endedAt: storedTime(ended), errorInfo: f.state === 'fired' ? null : (f.detail ?? f.reason),
    extraInfo: {
      created_by: 'scheduled_operation', scheduled_operation_id: op.id, operation_type: op.operationType, trigger_id: p.entry.triggerId,
      due_at: storedTime(p.dueAt), fire_at: storedTime(fireAt), reason: f.reason, missed: p.missed, scheduler: deps.holder,
      ...(f.detail && f.state === 'fired' ? { detail: f.detail } : {}), ...(f.retention ? { retention: f.retention } : {}),
    },
    createdAt: storedTime(ended),
  };
  out.push({
    log,
    key: { scheduledOperationId: op.id, dueAt: storedTime(p.dueAt) },
    outcome: { state: f.state, reason: f.reason, checkpointId: f.checkpointId ?? null, logId, endedAt: storedTime(ended) },
    event: {
      operationId: op.id, dueAt: p.dueAt, fireAt, endedAt: ended, state: f.state, reason: f.reason,
      ...(f.detail ? { detail: f.detail } : {}), ...(f.checkpointId ? { checkpointId: f.checkpointId } : {}),
    },
  });
}

/**
 * flush frees the batch's remaining plan slots and writes its outcomes and logs, in one transaction. A
 * crash before it leaves those runs `claimed`, later reported abandoned (docs/scheduler.md); a failed
 * write still frees the slots, so the plans need not wait for the leases to expire.
 */
async function flush(deps: FireDeps, out: Outcomes, held: readonly string[]): Promise<void> {
  if (out.length === 0 && held.length === 0) return;
  try {
    await deps.store.db.transaction().execute(async (trx) => {
      await releasePlanSlots(trx, held, deps.holder);
      await insertLogs(trx, out.map((o) => o.log));
      for (const o of out) await finishRun(trx, o.key, o.outcome);
    });
  } catch (err) {
    await releasePlanSlots(deps.store.db, held, deps.holder).catch(() => undefined);
    throw err;
  }
  for (const o of out) deps.onRun(o.event);
}

function misfireDetail(p: Planned): string | undefined {
  if (p.missed === 0) return undefined;
  const policy = p.reason === 'misfire_skip' ? 'skip: nothing ran' : p.reason === 'misfire_run_once' ? 'run-once: one catch-up run' : 'the latest is still inside its window';
  return `${p.missed} occurrence(s) up to ${storedTime(p.dueAt)} passed while no scheduler ran (${policy})`;
}

function claimRow(p: Planned, holder: string, now: Date): ScheduleRunRecord {
  const op = p.entry.operation;
  return {
    scheduledOperationId: op.id, dueAt: storedTime(p.dueAt), projectId: op.projectId, planId: op.planId,
    fireAt: storedTime(new Date(p.dueAt.getTime() + p.entry.jitterMs)), claimedBy: holder, claimedAt: storedTime(now),
    state: 'claimed', reason: null, checkpointId: null, logId: null, endedAt: null,
  };
}

function runKey(id: string, dueAt: string): string {
  return `${id}@${dueAt}`;
}

/** compare orders strings by code unit, the same in every process (localeCompare is not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** pool runs fn over items with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await fn(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
