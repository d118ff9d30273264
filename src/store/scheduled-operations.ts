/**
 * Scheduled operations: what to run (a protect of one plan) when a trigger fires. `plan_id` is copied
 * out of the definition so plan deletion and the scheduler find users by index, not by parsing JSON.
 */
import type { Kysely } from 'kysely';
import type { Database, ScheduledOperationTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';
import type { TriggerPropertiesRecord } from './triggers.js';

export interface ScheduledOperationRecord {
  readonly id: string;
  readonly projectId: string;
  readonly userId: string;
  readonly name: string;
  readonly description: string | null;
  readonly operationType: 'protect' | 'retention_protect';
  readonly triggerId: string;
  readonly planId: string;
  readonly operationDefinition: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

export async function insertOperation(db: Db, op: ScheduledOperationRecord): Promise<void> {
  await db.insertInto('scheduled_operations').values(toRow(op)).execute();
}

export async function deleteOperationRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('scheduled_operations').where('id', '=', id).execute();
}

export async function getOperation(db: Db, id: string): Promise<ScheduledOperationRecord | undefined> {
  const row = await db.selectFrom('scheduled_operations').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listOperations(db: Db, q: PageQuery): Promise<ScheduledOperationRecord[]> {
  return (await pageOf<ScheduledOperationTable>(db, 'scheduled_operations', q)).map(fromRow);
}

/** operationIdsUsingTrigger lists every operation (any project, enabled or not) that names the trigger. */
export async function operationIdsUsingTrigger(db: Db, triggerId: string): Promise<string[]> {
  const rows = await db.selectFrom('scheduled_operations').select('id').where('trigger_id', '=', triggerId).orderBy('id').execute();
  return rows.map((r) => r.id);
}

/** listEnabledByTrigger is what fires when a trigger does: its enabled operations across all projects. */
export async function listEnabledByTrigger(db: Db, triggerId: string): Promise<ScheduledOperationRecord[]> {
  const rows = await db.selectFrom('scheduled_operations').selectAll()
    .where('trigger_id', '=', triggerId).where('enabled', '=', 1).orderBy('created_at').orderBy('id').execute();
  return rows.map(fromRow);
}

/**
 * SchedulableOperation is an operation the scheduler may fire now (enabled, its plan `started`), with
 * what it needs to compute due runs: its trigger's properties and the times its inputs last changed.
 */
export interface SchedulableOperation {
  readonly operation: ScheduledOperationRecord;
  readonly planUpdatedAt: string;
  readonly trigger: { readonly id: string; readonly properties: TriggerPropertiesRecord; readonly updatedAt: string };
}

/** listSchedulable reads, across all projects, every enabled operation whose plan is started, in one query. */
export async function listSchedulable(db: Db, onlyIds?: readonly string[]): Promise<SchedulableOperation[]> {
  const q = db.selectFrom('scheduled_operations as so')
    .innerJoin('plans as p', 'p.id', 'so.plan_id')
    .innerJoin('triggers as t', 't.id', 'so.trigger_id')
    .selectAll('so')
    .select(['p.updated_at as plan_updated_at', 't.properties as trigger_properties', 't.updated_at as trigger_updated_at'])
    .where('so.enabled', '=', 1).where('p.status', '=', 'started');
  let rows: Awaited<ReturnType<typeof q.execute>>;
  if (onlyIds) {
    rows = [];
    // Chunked: SQLite and PostgreSQL both cap the number of bound parameters.
    for (let i = 0; i < onlyIds.length; i += 500) rows.push(...await q.where('so.id', 'in', onlyIds.slice(i, i + 500)).execute());
  } else {
    rows = await q.execute();
  }
  return rows.map((r) => ({
    operation: fromRow(r),
    planUpdatedAt: r.plan_updated_at,
    trigger: { id: r.trigger_id, properties: JSON.parse(r.trigger_properties) as TriggerPropertiesRecord, updatedAt: r.trigger_updated_at },
  }));
}

/** SchedulableVersion is a schedulable operation's id and the update times that make up its version. */
export interface SchedulableVersion { readonly id: string; readonly updatedAt: string; readonly planUpdatedAt: string; readonly triggerUpdatedAt: string }

/**
 * listSchedulableVersions is listSchedulable without the payload: cheap enough to poll every few seconds,
 * and to re-check the operations about to fire on every tick (`onlyIds`).
 */
export async function listSchedulableVersions(db: Db, onlyIds?: readonly string[]): Promise<SchedulableVersion[]> {
  const q = db.selectFrom('scheduled_operations as so')
    .innerJoin('plans as p', 'p.id', 'so.plan_id')
    .innerJoin('triggers as t', 't.id', 'so.trigger_id')
    .select(['so.id as id', 'so.updated_at as updated_at', 'p.updated_at as plan_updated_at', 't.updated_at as trigger_updated_at'])
    .where('so.enabled', '=', 1).where('p.status', '=', 'started');
  let rows: Awaited<ReturnType<typeof q.execute>>;
  if (onlyIds) {
    rows = [];
    for (let i = 0; i < onlyIds.length; i += 500) rows.push(...await q.where('so.id', 'in', onlyIds.slice(i, i + 500)).execute());
  } else {
    rows = await q.execute();
  }
  return rows.map((r) => ({ id: r.id, updatedAt: r.updated_at, planUpdatedAt: r.plan_updated_at, triggerUpdatedAt: r.trigger_updated_at }));
}

/**
 * setOperationEnabled enables or disables an operation and tells whether it changed. An operation already
 * in that state is left alone, updated_at included: the scheduler counts due runs from updated_at, so
 * touching it would forgo a run that is due but not yet fired.
 */
export async function setOperationEnabled(db: Db, id: string, enabled: boolean, updatedAt: string): Promise<boolean> {
  const r = await db.updateTable('scheduled_operations').set({ enabled: enabled ? 1 : 0, updated_at: updatedAt })
    .where('id', '=', id).where('enabled', '=', enabled ? 0 : 1).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

function toRow(op: ScheduledOperationRecord): ScheduledOperationTable {
  return {
    id: op.id,
    project_id: op.projectId,
    user_id: op.userId,
    name: op.name,
    description: op.description,
    operation_type: op.operationType,
    trigger_id: op.triggerId,
    plan_id: op.planId,
    operation_definition: JSON.stringify(op.operationDefinition),
    enabled: op.enabled ? 1 : 0,
    created_at: op.createdAt,
    updated_at: op.updatedAt,
  };
}

function fromRow(r: ScheduledOperationTable): ScheduledOperationRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    name: r.name,
    description: r.description,
    operationType: r.operation_type as ScheduledOperationRecord['operationType'],
    triggerId: r.trigger_id,
    planId: r.plan_id,
    operationDefinition: JSON.parse(r.operation_definition),
    // PostgreSQL may hand integers back as strings through some drivers; compare by value.
    enabled: Number(r.enabled) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
