/**
 * Operation logs: one row per protect, delete, restore, verify or copy run, written by the protection
 * engine when a flow starts and finished when it ends. Rows are never deleted with their checkpoint,
 * so the history of a deleted checkpoint stays readable.
 */
import type { Kysely } from 'kysely';
import type { Database, OperationLogTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

/** OperationLogRecord is one operation log row in Hoard's own naming; times are stored ISO text. */
export interface OperationLogRecord {
  readonly id: string;
  readonly projectId: string;
  readonly operationType: string;
  readonly checkpointId: string | null;
  readonly planId: string | null;
  readonly providerId: string | null;
  readonly restoreId: string | null;
  readonly scheduledOperationId: string | null;
  readonly status: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly errorInfo: string | null;
  readonly extraInfo: Record<string, unknown> | null;
  readonly createdAt: string;
}

/** OperationLogChange is what may change after a log is started: its outcome, never its subject. */
export interface OperationLogChange {
  readonly status: string;
  readonly endedAt?: string | null;
  readonly errorInfo?: string | null;
  readonly extraInfo?: Record<string, unknown> | null;
}

type Db = Kysely<Database>;

/** insertLog stores a new log row. */
export async function insertLog(db: Db, r: OperationLogRecord): Promise<void> {
  await db.insertInto('operation_logs').values(toRow(r)).execute();
}

/**
 * insertLogs stores many new log rows with one statement per chunk: the scheduler records a batch of
 * runs at once, and one INSERT per row cost more than the rows themselves.
 */
export async function insertLogs(db: Db, rows: readonly OperationLogRecord[]): Promise<void> {
  // 14 columns a row: 200 rows stay under SQLite's and PostgreSQL's bound-parameter limits.
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('operation_logs').values(rows.slice(i, i + 200).map(toRow)).execute();
}

/** updateLog applies a change and returns the row as it is now, or undefined if there is no such log. */
export async function updateLog(db: Db, id: string, c: OperationLogChange): Promise<OperationLogRecord | undefined> {
  const set: Partial<OperationLogTable> = { status: c.status };
  if (c.endedAt !== undefined) set.ended_at = c.endedAt;
  if (c.errorInfo !== undefined) set.error_info = c.errorInfo;
  if (c.extraInfo !== undefined) set.extra_info = c.extraInfo === null ? null : JSON.stringify(c.extraInfo);
  const res = await db.updateTable('operation_logs').set(set).where('id', '=', id).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return undefined;
  return getLog(db, id);
}

/** getLog reads one log by id, whatever its project. */
export async function getLog(db: Db, id: string): Promise<OperationLogRecord | undefined> {
  const row = await db.selectFrom('operation_logs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** listLogs returns one page of logs matching the query. */
export async function listLogs(db: Db, q: PageQuery): Promise<OperationLogRecord[]> {
  return (await pageOf<OperationLogTable>(db, 'operation_logs', q)).map(fromRow);
}

function toRow(r: OperationLogRecord): OperationLogTable {
  return {
    id: r.id,
    project_id: r.projectId,
    operation_type: r.operationType,
    checkpoint_id: r.checkpointId,
    plan_id: r.planId,
    provider_id: r.providerId,
    restore_id: r.restoreId,
    scheduled_operation_id: r.scheduledOperationId,
    status: r.status,
    started_at: r.startedAt,
    ended_at: r.endedAt,
    error_info: r.errorInfo,
    extra_info: r.extraInfo === null ? null : JSON.stringify(r.extraInfo),
    created_at: r.createdAt,
  };
}

function fromRow(r: OperationLogTable): OperationLogRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    operationType: r.operation_type,
    checkpointId: r.checkpoint_id,
    planId: r.plan_id,
    providerId: r.provider_id,
    restoreId: r.restore_id,
    scheduledOperationId: r.scheduled_operation_id,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    errorInfo: r.error_info,
    extraInfo: r.extra_info === null ? null : (JSON.parse(r.extra_info) as Record<string, unknown>),
    createdAt: r.created_at,
  };
}
