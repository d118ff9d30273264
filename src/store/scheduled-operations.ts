/**
 * Scheduled operations: what to run (a protect of one plan) when a trigger fires. `plan_id` is copied
 * out of the definition so plan deletion and the scheduler find users by index, not by parsing JSON.
 */
import type { Kysely } from 'kysely';
import type { Database, ScheduledOperationTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

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
