/**
 * The checkpoint index: one row per checkpoint, written by the protection engine, read by the API.
 * The bank holds the data; this table is what lists, quotas and state changes consult. A `deleted`
 * checkpoint keeps its row (Karbor lets GET by id report `deleted`) but never appears in a list.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CheckpointTable, Database } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

export const CHECKPOINT_STATUSES = ['protecting', 'available', 'error', 'deleting', 'deleted', 'error-deleting', 'wait_copying', 'copying'] as const;
export type CheckpointStatus = (typeof CHECKPOINT_STATUSES)[number];

/** CheckpointPlanRecord is the plan as it was when the checkpoint was taken; later plan edits do not change it. */
export interface CheckpointPlanRecord {
  readonly id: string;
  readonly name: string;
  readonly providerId: string;
  /** extraInfo is kept as the raw JSON text Karbor shows in `protection_plan.resources`. */
  readonly resources: readonly { id: string; type: string; name: string; extraInfo: string | null }[];
}

export interface CheckpointRecord {
  readonly id: string;
  readonly projectId: string;
  readonly providerId: string;
  readonly planId: string;
  readonly status: CheckpointStatus;
  readonly protectionPlan: CheckpointPlanRecord;
  /** resourceGraph is the serialized graph, already JSON text, exactly as clients receive it. */
  readonly resourceGraph: string | null;
  readonly extraInfo: Record<string, unknown> | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** pinned exempts the checkpoint from retention (a legal hold); absent means not pinned. */
  readonly pinned?: boolean;
}

type Db = Kysely<Database>;

export async function insertCheckpoint(db: Db, c: CheckpointRecord): Promise<void> {
  await db.insertInto('checkpoints').values(toRow(c)).execute();
}

export async function getCheckpoint(db: Db, id: string): Promise<CheckpointRecord | undefined> {
  const row = await db.selectFrom('checkpoints').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** listCheckpoints pages like every collection but leaves `deleted` rows out (they stay readable by id). */
export async function listCheckpoints(db: Db, q: PageQuery): Promise<CheckpointRecord[]> {
  const rows = await pageOf<Selectable<CheckpointTable>>(db, 'checkpoints', { ...q, filters: [...q.filters, { op: 'ne', column: 'status', value: 'deleted' }] });
  return rows.map(fromRow);
}

/** countCheckpoints is what the checkpoint quota counts: every checkpoint of the project not yet deleted. */
export async function countCheckpoints(db: Db, projectId: string): Promise<number> {
  const r = await db.selectFrom('checkpoints').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('project_id', '=', projectId).where('status', '!=', 'deleted').executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * setCheckpointStatus moves a checkpoint to `to` only if it is still in one of `from`, so a state change
 * decided on a stale read (the engine finishing meanwhile) is refused instead of overwriting. It tells
 * whether the row changed.
 */
export async function setCheckpointStatus(db: Db, id: string, from: readonly CheckpointStatus[], to: CheckpointStatus, updatedAt: string): Promise<boolean> {
  if (from.length === 0) return false;
  const r = await db.updateTable('checkpoints').set({ status: to, updated_at: updatedAt })
    .where('id', '=', id).where('status', 'in', [...from]).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** mergeCheckpointExtraInfo sets keys of a checkpoint's extra info, keeping the others (a copy's copy_status). */
export async function mergeCheckpointExtraInfo(db: Db, id: string, patch: Record<string, unknown>): Promise<void> {
  const row = await db.selectFrom('checkpoints').select('extra_info').where('id', '=', id).executeTakeFirst();
  if (!row) return;
  const merged = { ...(row.extra_info ? (JSON.parse(row.extra_info) as Record<string, unknown>) : {}), ...patch };
  await db.updateTable('checkpoints').set({ extra_info: JSON.stringify(merged) }).where('id', '=', id).execute();
}

/**
 * copiesOf answers, of the given source checkpoints, those that already have a copy in `providerId`
 * that is not failed or deleted (copy_from in the copy's extra info), mapped to that copy's id.
 */
export async function copiesOf(db: Db, providerId: string, planId: string, sourceIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (sourceIds.length === 0) return out;
  const wanted = new Set(sourceIds);
  const rows = await db.selectFrom('checkpoints').select(['id', 'extra_info'])
    .where('provider_id', '=', providerId).where('plan_id', '=', planId).where('status', 'not in', ['deleted', 'error', 'deleting', 'error-deleting']).execute();
  for (const r of rows) {
    const from = r.extra_info ? (JSON.parse(r.extra_info) as { copy_from?: { checkpoint_id?: unknown } }).copy_from?.checkpoint_id : undefined;
    if (typeof from === 'string' && wanted.has(from)) out.set(from, r.id);
  }
  return out;
}

/**
 * setCheckpointPinned pins or unpins a checkpoint and tells whether the row exists. It does not look at
 * the status: whether pinning makes sense in a state is the service's call.
 */
export async function setCheckpointPinned(db: Db, id: string, pinned: boolean, updatedAt: string): Promise<boolean> {
  const r = await db.updateTable('checkpoints').set({ pinned: pinned ? 1 : 0, updated_at: updatedAt }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

function toRow(c: CheckpointRecord): Insertable<CheckpointTable> {
  return {
    id: c.id,
    project_id: c.projectId,
    provider_id: c.providerId,
    plan_id: c.planId,
    status: c.status,
    protection_plan: JSON.stringify(c.protectionPlan),
    resource_graph: c.resourceGraph,
    extra_info: c.extraInfo ? JSON.stringify(c.extraInfo) : null,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    pinned: c.pinned ? 1 : 0,
  };
}

function fromRow(r: Selectable<CheckpointTable>): CheckpointRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    providerId: r.provider_id,
    planId: r.plan_id,
    status: r.status as CheckpointStatus,
    protectionPlan: JSON.parse(r.protection_plan),
    resourceGraph: r.resource_graph,
    extraInfo: r.extra_info ? JSON.parse(r.extra_info) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    // Left out when false so records written before pinning existed read back unchanged.
    ...(Number(r.pinned) === 1 ? { pinned: true } : {}),
  };
}
