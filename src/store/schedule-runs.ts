/**
 * Schedule runs: the scheduler's claims. A due run of a scheduled operation is claimed by inserting its
 * (scheduled_operation_id, due_at) row; the insert that wins the primary key fires the run, every other
 * process's insert does nothing. This is the whole of the cross-process agreement: no operation belongs to
 * a host, so any surviving scheduler fires any operation's next run.
 *
 * Plan slots are short leases (seconds) that serialise "is the plan busy?" with "start its checkpoint"
 * across schedulers; a slot whose holder died simply expires.
 */
import type { Kysely } from 'kysely';
import type { Database, ScheduleRunTable } from './schema.js';

type Db = Kysely<Database>;

/** RunState is where a claimed run is: `claimed` until fired, skipped or failed. */
export type RunState = 'claimed' | 'fired' | 'skipped' | 'failed';

/** ScheduleRunRecord is one claimed run; times are stored ISO text. */
export interface ScheduleRunRecord {
  readonly scheduledOperationId: string;
  readonly dueAt: string;
  readonly projectId: string;
  readonly planId: string;
  readonly fireAt: string;
  readonly claimedBy: string;
  readonly claimedAt: string;
  readonly state: RunState;
  readonly reason: string | null;
  readonly checkpointId: string | null;
  readonly logId: string | null;
  readonly endedAt: string | null;
}

/** RunOutcome is what became of a claimed run. */
export interface RunOutcome {
  readonly state: Exclude<RunState, 'claimed'>;
  readonly reason: string;
  readonly checkpointId?: string | null;
  readonly logId?: string | null;
  readonly endedAt: string;
}

/** RunKey names one run. */
export interface RunKey { readonly scheduledOperationId: string; readonly dueAt: string }

const CHUNK = 400;

/**
 * claimRuns inserts the runs and answers the keys this call inserted: those are the caller's to fire.
 * A key already present (another scheduler claimed it, or this one earlier) is silently left alone.
 */
export async function claimRuns(db: Db, runs: readonly ScheduleRunRecord[]): Promise<RunKey[]> {
  const won: RunKey[] = [];
  for (let i = 0; i < runs.length; i += CHUNK) {
    const rows = await db.insertInto('schedule_runs').values(runs.slice(i, i + CHUNK).map(toRow))
      .onConflict((oc) => oc.columns(['scheduled_operation_id', 'due_at']).doNothing())
      .returning(['scheduled_operation_id', 'due_at']).execute();
    for (const r of rows) won.push({ scheduledOperationId: r.scheduled_operation_id, dueAt: r.due_at });
  }
  return won;
}

/** finishRun records a claimed run's outcome; a run already finished keeps its first outcome. */
export async function finishRun(db: Db, key: RunKey, o: RunOutcome): Promise<boolean> {
  const r = await db.updateTable('schedule_runs')
    .set({ state: o.state, reason: o.reason, checkpoint_id: o.checkpointId ?? null, log_id: o.logId ?? null, ended_at: o.endedAt })
    .where('scheduled_operation_id', '=', key.scheduledOperationId).where('due_at', '=', key.dueAt).where('state', '=', 'claimed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** lastDueAt is, per operation, the latest due time any scheduler has claimed (the operation's cursor). */
export async function lastDueAt(db: Db, operationIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < operationIds.length; i += CHUNK) {
    const rows = await db.selectFrom('schedule_runs')
      .select((eb) => ['scheduled_operation_id', eb.fn.max('due_at').as('last')])
      .where('scheduled_operation_id', 'in', operationIds.slice(i, i + CHUNK))
      .groupBy('scheduled_operation_id').execute();
    for (const r of rows) if (r.last) out.set(r.scheduled_operation_id, String(r.last));
  }
  return out;
}

/** listRuns lists an operation's runs, oldest due first (for tests, the CLI and the docs' examples). */
export async function listRuns(db: Db, scheduledOperationId: string): Promise<ScheduleRunRecord[]> {
  const rows = await db.selectFrom('schedule_runs').selectAll().where('scheduled_operation_id', '=', scheduledOperationId).orderBy('due_at').execute();
  return rows.map(fromRow);
}

/**
 * abandonStaleClaims ends runs left `claimed` since before `before` (their scheduler died between claim
 * and fire) as failed/abandoned. One UPDATE … RETURNING, so each such run is reported by one caller only.
 */
export async function abandonStaleClaims(db: Db, before: string, now: string): Promise<ScheduleRunRecord[]> {
  const rows = await db.updateTable('schedule_runs').set({ state: 'failed', reason: 'abandoned', ended_at: now })
    .where('state', '=', 'claimed').where('claimed_at', '<', before).returningAll().execute();
  return rows.map(fromRow);
}

/** setRunLog links a finished run to the operation log that reports it. */
export async function setRunLog(db: Db, key: RunKey, logId: string): Promise<void> {
  await db.updateTable('schedule_runs').set({ log_id: logId })
    .where('scheduled_operation_id', '=', key.scheduledOperationId).where('due_at', '=', key.dueAt).execute();
}

/**
 * acquirePlanSlots takes the slot of each plan that is free or whose lease expired before `now`, and
 * answers the plans it got. A plan it did not get is being started by another scheduler right now.
 */
export async function acquirePlanSlots(db: Db, planIds: readonly string[], holder: string, now: string, expiresAt: string): Promise<Set<string>> {
  const got = new Set<string>();
  for (let i = 0; i < planIds.length; i += CHUNK) {
    const rows = await db.insertInto('schedule_plan_slots')
      .values(planIds.slice(i, i + CHUNK).map((plan_id) => ({ plan_id, holder, expires_at: expiresAt })))
      .onConflict((oc) => oc.column('plan_id')
        .doUpdateSet({ holder: (eb) => eb.ref('excluded.holder'), expires_at: (eb) => eb.ref('excluded.expires_at') })
        .where('schedule_plan_slots.expires_at', '<', now))
      .returning('plan_id').execute();
    for (const r of rows) got.add(r.plan_id);
  }
  return got;
}

/** releasePlanSlots frees the slots this holder took. */
export async function releasePlanSlots(db: Db, planIds: readonly string[], holder: string): Promise<void> {
  for (let i = 0; i < planIds.length; i += CHUNK) {
    await db.deleteFrom('schedule_plan_slots').where('plan_id', 'in', planIds.slice(i, i + CHUNK)).where('holder', '=', holder).execute();
  }
}

/** busyPlans are the plans among `planIds` with a checkpoint still `protecting`. */
export async function busyPlans(db: Db, planIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < planIds.length; i += CHUNK) {
    const rows = await db.selectFrom('checkpoints').select('plan_id').distinct()
      .where('plan_id', 'in', planIds.slice(i, i + CHUNK)).where('status', '=', 'protecting').execute();
    for (const r of rows) out.add(r.plan_id);
  }
  return out;
}

function toRow(r: ScheduleRunRecord): ScheduleRunTable {
  return {
    scheduled_operation_id: r.scheduledOperationId, due_at: r.dueAt, project_id: r.projectId, plan_id: r.planId, fire_at: r.fireAt,
    claimed_by: r.claimedBy, claimed_at: r.claimedAt, state: r.state, reason: r.reason, checkpoint_id: r.checkpointId, log_id: r.logId, ended_at: r.endedAt,
  };
}

function fromRow(r: ScheduleRunTable): ScheduleRunRecord {
  return {
    scheduledOperationId: r.scheduled_operation_id, dueAt: r.due_at, projectId: r.project_id, planId: r.plan_id, fireAt: r.fire_at,
    claimedBy: r.claimed_by, claimedAt: r.claimed_at, state: r.state as RunState, reason: r.reason, checkpointId: r.checkpoint_id, logId: r.log_id, endedAt: r.ended_at,
  };
}
