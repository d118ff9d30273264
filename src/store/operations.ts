/**
 * The protection engine's journal: operations (one per protect, restore or delete run) and their tasks
 * (one per resource and hook). Every function takes a Kysely handle, so the engine runs each state
 * change, with the checks that guard it, inside one transaction of its choosing. Claims use
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the single UPDATE … RETURNING is atomic because
 * SQLite serialises writers.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from './migrations/0001_init.js';
import type { Database, OperationTable, OperationTaskTable } from './schema.js';

/** OPERATION_STATUSES: pending (unclaimed), running, compensating (failed, undoing), done, error. */
export const OPERATION_STATUSES = ['pending', 'running', 'compensating', 'done', 'error'] as const;
/** OperationStatus is one of OPERATION_STATUSES. */
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/** TASK_STATES are a task's journaled states; `compensated` marks a prepareBegin whose undo ran. */
export const TASK_STATES = ['pending', 'running', 'polling', 'done', 'failed', 'compensated'] as const;
/** TaskState is one of TASK_STATES. */
export type TaskState = (typeof TASK_STATES)[number];

/** OperationRow is an operations row with its JSON columns still as text (the engine owns their shape). */
export type OperationRow = Omit<OperationTable, 'status'> & { status: OperationStatus };
/** TaskRow is an operation_tasks row. */
export type TaskRow = Omit<OperationTaskTable, 'state'> & { state: TaskState };
/** TaskKey names one task. */
export interface TaskKey { readonly operationId: string; readonly resourceKey: string; readonly hook: string }

type Db = Kysely<Database>;
// Resources per task INSERT (one bound variable each): well below SQLite's 32766 and PostgreSQL's 65535.
const INSERT_CHUNK = 2000;
// Keys per batched task UPDATE: well under SQLite's variable limit, and a statement that stays cheap to plan.
const UPDATE_CHUNK = 500;

/** insertOperation stores a new operation row. */
export async function insertOperation(db: Db, row: OperationRow): Promise<void> {
  await db.insertInto('operations').values(row).execute();
}

/**
 * insertPendingTasks stores the `pending` task of every resource and hook of a new operation, one
 * statement per INSERT_CHUNK resources that crosses the keys with the hooks in SQL: a 10,000-resource
 * plan has 40,000 task rows, and binding only what differs between them keeps submission cheap.
 */
export async function insertPendingTasks(db: Db, operationId: string, resourceKeys: readonly string[], hooks: readonly string[], now: string): Promise<void> {
  // CAST gives PostgreSQL a type for parameters that no column names.
  const text = (v: string) => sql`(CAST(${v} AS text))`;
  const hookRows = sql.join(hooks.map(text));
  for (let i = 0; i < resourceKeys.length; i += INSERT_CHUNK) {
    const keyRows = sql.join(resourceKeys.slice(i, i + INSERT_CHUNK).map(text));
    await sql`INSERT INTO operation_tasks (operation_id, resource_key, hook, state, attempt, updated_at)
      SELECT CAST(${operationId} AS text), k.column1, h.column1, 'pending', 0, CAST(${now} AS text)
      FROM (VALUES ${keyRows}) AS k CROSS JOIN (VALUES ${hookRows}) AS h`.execute(db);
  }
}

/** getOperation reads one operation. */
export async function getOperation(db: Db, id: string): Promise<OperationRow | undefined> {
  return (await db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst()) as OperationRow | undefined;
}

/** latestOperation finds the newest operation about a checkpoint or restore (for progress and reasons). */
export async function latestOperation(db: Db, by: { checkpointId: string } | { restoreId: string } | { verificationId: string }): Promise<OperationRow | undefined> {
  const q = db.selectFrom('operations').selectAll();
  const filtered = 'checkpointId' in by ? q.where('checkpoint_id', '=', by.checkpointId)
    : 'restoreId' in by ? q.where('restore_id', '=', by.restoreId) : q.where('verification_id', '=', by.verificationId);
  return (await filtered.orderBy('created_at', 'desc').limit(1).executeTakeFirst()) as OperationRow | undefined;
}

/** getTasks reads every task of an operation. */
export async function getTasks(db: Db, operationId: string): Promise<TaskRow[]> {
  return (await db.selectFrom('operation_tasks').selectAll().where('operation_id', '=', operationId).execute()) as TaskRow[];
}

/**
 * getStartedTasks reads the tasks of an operation that have left `pending`. A pending task is known
 * without reading it: submission wrote it with attempt 0 and nothing else set, and a task that leaves
 * pending never returns. So a run loads only these rows, none at all for a fresh operation.
 */
export async function getStartedTasks(db: Db, operationId: string): Promise<TaskRow[]> {
  return (await db.selectFrom('operation_tasks').selectAll().where('operation_id', '=', operationId).where('state', '!=', 'pending').execute()) as TaskRow[];
}

/**
 * claimOperations takes up to `limit` live operations that nobody holds or whose lease expired before
 * `now`, makes `owner` their holder until `until`, and returns their ids. Two workers never get the
 * same operation: PostgreSQL skips rows another claim has locked, SQLite runs the statement alone.
 */
export async function claimOperations(db: Db, dialect: Dialect, owner: string, now: string, until: string, limit: number): Promise<string[]> {
  const lock = dialect === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
  const r = await sql<{ id: string }>`UPDATE operations SET owner = ${owner}, lease_expires_at = ${until}, updated_at = ${now}
    WHERE id IN (SELECT id FROM operations WHERE status IN ('pending', 'running', 'compensating')
      AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < ${now}) ORDER BY created_at LIMIT ${limit} ${lock})
    RETURNING id`.execute(db);
  return r.rows.map((x) => x.id);
}

/** renewLeases extends `owner`'s leases to `until` and returns the ids it still holds. */
export async function renewLeases(db: Db, owner: string, ids: readonly string[], until: string): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.updateTable('operations').set({ lease_expires_at: until }).where('owner', '=', owner)
    .where('id', 'in', [...ids]).returning('id').execute();
  return rows.map((r) => r.id);
}

/** releaseLease gives an operation back so that the next claim takes it at once. */
export async function releaseLease(db: Db, owner: string, id: string): Promise<void> {
  await db.updateTable('operations').set({ owner: null, lease_expires_at: null }).where('id', '=', id).where('owner', '=', owner).execute();
}

/**
 * holdsLease tells whether `owner` still holds the operation: the fence every journal write checks in
 * its transaction. On PostgreSQL the row is share-locked, so a concurrent claim skips it until commit.
 */
export async function holdsLease(db: Db, dialect: Dialect, id: string, owner: string): Promise<boolean> {
  const lock = dialect === 'postgres' ? sql`FOR SHARE` : sql``;
  const r = await sql<{ id: string }>`SELECT id FROM operations WHERE id = ${id} AND owner = ${owner} ${lock}`.execute(db);
  return r.rows.length > 0;
}

/**
 * updateTasks applies one guarded change to many tasks of one operation and hook: each row changes only
 * if it is in one of `from`. It answers the resource keys it changed, so the caller can tell each task
 * apart as if it had been updated alone. The journal's group commit uses it to write a turn's worth of
 * same-shaped transitions in one statement (per UPDATE_CHUNK keys) instead of one statement per task.
 */
export async function updateTasks(db: Db, operationId: string, hook: string, resourceKeys: readonly string[], from: readonly TaskState[], set: Partial<TaskRow>): Promise<Set<string>> {
  const changed = new Set<string>();
  for (let i = 0; i < resourceKeys.length; i += UPDATE_CHUNK) {
    const rows = await db.updateTable('operation_tasks').set(set).where('operation_id', '=', operationId).where('hook', '=', hook)
      .where('state', 'in', [...from]).where('resource_key', 'in', resourceKeys.slice(i, i + UPDATE_CHUNK)).returning('resource_key').execute();
    for (const r of rows) changed.add(r.resource_key);
  }
  return changed;
}

/** setOperationStatus moves an operation to `to` only from one of `from`; it tells whether it did. */
export async function setOperationStatus(db: Db, id: string, from: readonly OperationStatus[], to: OperationStatus, set: Partial<OperationRow>): Promise<boolean> {
  const r = await db.updateTable('operations').set({ ...set, status: to }).where('id', '=', id).where('status', 'in', [...from]).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** mergeNewResources adds original→new ids to a restore's shared map (read-modify-write under the row lock). */
export async function mergeNewResources(db: Db, dialect: Dialect, id: string, entries: Readonly<Record<string, string>>): Promise<void> {
  const row = await lockedRow(db, dialect, 'operations', id, 'new_resources');
  if (!row) return;
  const merged = { ...JSON.parse(row.new_resources as string), ...entries };
  await db.updateTable('operations').set({ new_resources: JSON.stringify(merged) }).where('id', '=', id).execute();
}

/** setRestoreResource records one resource's status (and reason) on a restore row. */
export async function setRestoreResource(db: Db, dialect: Dialect, restoreId: string, key: string, status: string, reason: string | undefined, now: string, table: 'restores' | 'verifications' = 'restores'): Promise<void> {
  const row = await lockedRow(db, dialect, table, restoreId, 'resources_status, resources_reason');
  if (!row) return;
  const statuses = { ...JSON.parse(row.resources_status as string), [key]: status };
  const reasons: Record<string, string> = JSON.parse(row.resources_reason as string);
  if (reason !== undefined) reasons[key] = reason;
  await db.updateTable(table).set({ resources_status: JSON.stringify(statuses), resources_reason: JSON.stringify(reasons), updated_at: now })
    .where('id', '=', restoreId).execute();
}

/** setRestoreStatus moves a restore from in_progress to its end status. */
export async function setRestoreStatus(db: Db, restoreId: string, status: 'success' | 'fail', now: string, table: 'restores' | 'verifications' = 'restores'): Promise<boolean> {
  const r = await db.updateTable(table).set({ status, updated_at: now }).where('id', '=', restoreId).where('status', '=', 'in_progress').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * lockForWrite takes SQLite's write lock at the start of a transaction that reads before it writes. In
 * WAL mode such a transaction's first write fails at once with "database is locked" (SQLITE_BUSY, which
 * busy_timeout does not retry) when another connection wrote after its read began: the API process
 * cancelling while a worker process journals. A statement that writes nothing still takes the lock,
 * waiting its turn. PostgreSQL needs nothing: row locks order its transactions.
 */
export async function lockForWrite(db: Db, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') await sql`UPDATE operations SET id = id WHERE 0 = 1`.execute(db);
}

/** CancelRequest is a user's request to cancel an operation: when (stored time), by whom and why. */
export interface CancelRequest { readonly at: string; readonly by: string | null; readonly reason: string | null }

/** CancelTarget names what an operation works on, the way users name it. */
export type CancelTarget = { readonly checkpointId: string; readonly kinds: readonly string[] } | { readonly restoreId: string } | { readonly verificationId: string };

const cancelColumns = (r: CancelRequest) => ({ cancel_requested_at: r.at, cancel_requested_by: r.by, cancel_reason: r.reason });

/**
 * operationToCancel reads the newest operation about a target (for a checkpoint, of one of `kinds`:
 * restores and verifications name their checkpoint too). On PostgreSQL the row stays locked until the
 * transaction ends, so a worker's claim skips it and its journal writes wait: whatever the caller
 * decides from this row is still true when it writes.
 */
export async function operationToCancel(db: Db, dialect: Dialect, target: CancelTarget): Promise<OperationRow | undefined> {
  let q = db.selectFrom('operations').selectAll();
  if ('checkpointId' in target) q = q.where('checkpoint_id', '=', target.checkpointId).where('kind', 'in', [...target.kinds]);
  else if ('restoreId' in target) q = q.where('restore_id', '=', target.restoreId);
  else q = q.where('verification_id', '=', target.verificationId);
  const row = await q.orderBy('created_at', 'desc').limit(1).$if(dialect === 'postgres', (qb) => qb.forUpdate()).executeTakeFirst();
  return row as OperationRow | undefined;
}

/**
 * markCancel records a cancel request on a pending or running operation that has none yet; it tells
 * whether it did (an operation that ended, is compensating or was already asked is left as it is).
 */
export async function markCancel(db: Db, id: string, r: CancelRequest): Promise<boolean> {
  const u = await db.updateTable('operations').set(cancelColumns(r)).where('id', '=', id).where('status', 'in', ['pending', 'running'])
    .where('cancel_requested_at', 'is', null).executeTakeFirst();
  return Number(u.numUpdatedRows) > 0;
}

/**
 * endUnclaimed ends a pending operation that no worker holds (never claimed, or its holder's lease
 * expired before `r.at`) in `error` with `reason`, recording the request; it tells whether it did. A
 * claimed operation is left to its holder, which learns of the request from markCancel's columns.
 */
export async function endUnclaimed(db: Db, id: string, r: CancelRequest, reason: string): Promise<boolean> {
  const u = await db.updateTable('operations').set({ ...cancelColumns(r), status: 'error', error: reason, owner: null, lease_expires_at: null, updated_at: r.at })
    .where('id', '=', id).where('status', '=', 'pending')
    .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', r.at)])).executeTakeFirst();
  return Number(u.numUpdatedRows) > 0;
}

/**
 * cancelRequests answers the cancel requests among operations `ids` (a worker asks about the few it
 * holds, by primary key, on every tick: cheap enough to notice a request within a tick).
 */
export async function cancelRequests(db: Db, ids: readonly string[]): Promise<(CancelRequest & { readonly id: string })[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('operations').select(['id', 'cancel_requested_at', 'cancel_requested_by', 'cancel_reason'])
    .where('id', 'in', [...ids]).where('cancel_requested_at', 'is not', null).execute();
  return rows.map((r) => ({ id: r.id, at: r.cancel_requested_at!, by: r.cancel_requested_by ?? null, reason: r.cancel_reason ?? null }));
}

/** cancelRequestOf reads an operation row's cancel request, if it has one. */
export function cancelRequestOf(row: OperationRow): CancelRequest | undefined {
  return row.cancel_requested_at ? { at: row.cancel_requested_at, by: row.cancel_requested_by ?? null, reason: row.cancel_reason ?? null } : undefined;
}

/**
 * setRestoreResources records many resources' statuses (and reasons) on a restore or verification row
 * in one read-modify-write: ending a large restore that never ran gives every resource a status at once.
 */
export async function setRestoreResources(db: Db, dialect: Dialect, id: string, entries: readonly { key: string; status: string; reason?: string }[], now: string, table: 'restores' | 'verifications'): Promise<void> {
  const row = await lockedRow(db, dialect, table, id, 'resources_status, resources_reason');
  if (!row) return;
  const statuses: Record<string, string> = JSON.parse(row.resources_status as string);
  const reasons: Record<string, string> = JSON.parse(row.resources_reason as string);
  for (const e of entries) {
    statuses[e.key] = e.status;
    if (e.reason !== undefined) reasons[e.key] = e.reason;
  }
  await db.updateTable(table).set({ resources_status: JSON.stringify(statuses), resources_reason: JSON.stringify(reasons), updated_at: now }).where('id', '=', id).execute();
}

/** getResourceMetadata reads a resource's plugin metadata in a checkpoint. */
export async function getResourceMetadata(db: Db, checkpointId: string, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('checkpoint_resources').select('metadata').where('checkpoint_id', '=', checkpointId).where('resource_key', '=', key).executeTakeFirst();
  return row?.metadata;
}

/** putResourceMetadata writes (or replaces) a resource's plugin metadata in a checkpoint. */
export async function putResourceMetadata(db: Db, checkpointId: string, key: string, metadata: string, now: string): Promise<void> {
  await db.insertInto('checkpoint_resources').values({ checkpoint_id: checkpointId, resource_key: key, metadata, updated_at: now })
    .onConflict((oc) => oc.columns(['checkpoint_id', 'resource_key']).doUpdateSet({ metadata, updated_at: now })).execute();
}

/** deleteCheckpointResources drops every resource record of a deleted checkpoint. */
export async function deleteCheckpointResources(db: Db, checkpointId: string): Promise<void> {
  await db.deleteFrom('checkpoint_resources').where('checkpoint_id', '=', checkpointId).execute();
}

async function lockedRow(db: Db, dialect: Dialect, table: 'operations' | 'restores' | 'verifications', id: string, columns: string): Promise<Record<string, unknown> | undefined> {
  const lock = dialect === 'postgres' ? sql`FOR UPDATE` : sql``;
  const r = await sql<Record<string, unknown>>`SELECT ${sql.raw(columns)} FROM ${sql.table(table)} WHERE id = ${id} ${lock}`.execute(db);
  return r.rows[0];
}
