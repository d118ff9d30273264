/**
 * Restores: one row per restore request, with the per-resource statuses the engine reports. The
 * credentials a client may send (`restore_auth`) have no column on purpose: they are never stored.
 */
import type { Kysely } from 'kysely';
import type { Database, RestoreTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

export type RestoreStatus = 'in_progress' | 'success' | 'fail';

export interface RestoreRecord {
  readonly id: string;
  readonly projectId: string;
  readonly providerId: string;
  readonly checkpointId: string;
  readonly restoreTarget: string | null;
  readonly parameters: Record<string, Record<string, unknown>>;
  readonly status: RestoreStatus;
  /** Keyed `<type>#<id>`; the id is usually the restored (new) resource's. */
  readonly resourcesStatus: Record<string, string>;
  readonly resourcesReason: Record<string, string>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

export async function insertRestore(db: Db, r: RestoreRecord): Promise<void> {
  await db.insertInto('restores').values(toRow(r)).execute();
}

export async function getRestore(db: Db, id: string): Promise<RestoreRecord | undefined> {
  const row = await db.selectFrom('restores').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listRestores(db: Db, q: PageQuery): Promise<RestoreRecord[]> {
  return (await pageOf<RestoreTable>(db, 'restores', q)).map(fromRow);
}

function toRow(r: RestoreRecord): RestoreTable {
  return {
    id: r.id,
    project_id: r.projectId,
    provider_id: r.providerId,
    checkpoint_id: r.checkpointId,
    restore_target: r.restoreTarget,
    parameters: JSON.stringify(r.parameters),
    status: r.status,
    resources_status: JSON.stringify(r.resourcesStatus),
    resources_reason: JSON.stringify(r.resourcesReason),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function fromRow(r: RestoreTable): RestoreRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    providerId: r.provider_id,
    checkpointId: r.checkpoint_id,
    restoreTarget: r.restore_target,
    parameters: JSON.parse(r.parameters),
    status: r.status as RestoreStatus,
    resourcesStatus: JSON.parse(r.resources_status),
    resourcesReason: JSON.parse(r.resources_reason),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
