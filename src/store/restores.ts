/**
 * Restores: one row per restore request, with the per-resource statuses the engine reports. The
 * credentials a client may send with a target (`restore_auth`) have no column here on purpose: they live
 * in `restore_credentials`, one row per running restore, which nothing that lists or shows restores
 * reads. The engine inserts that row with the restore and deletes it in the transaction that ends the
 * restore (success, failure, cancel or abandon), so credentials are kept only while the restore runs.
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

/** insertRestoreCredentials keeps a restore's `restore_auth` until the restore ends (call it in the submitting transaction). */
export async function insertRestoreCredentials(db: Db, restoreId: string, auth: Readonly<Record<string, unknown>>, now: string): Promise<void> {
  await db.insertInto('restore_credentials').values({ restore_id: restoreId, auth: JSON.stringify(auth), created_at: now }).execute();
}

/** deleteRestoreCredentials forgets a restore's credentials; forgetting none succeeds. */
export async function deleteRestoreCredentials(db: Db, restoreId: string): Promise<void> {
  await db.deleteFrom('restore_credentials').where('restore_id', '=', restoreId).execute();
}

/**
 * restoreDestination is what a restore's hooks need to write elsewhere: its target and, while it runs,
 * its credentials (null when none were sent or the restore has ended). Undefined when there is no such restore.
 */
export async function restoreDestination(db: Db, restoreId: string): Promise<{ target: string | null; auth: Record<string, unknown> | null } | undefined> {
  const row = await db.selectFrom('restores')
    .leftJoin('restore_credentials', 'restore_credentials.restore_id', 'restores.id')
    .select(['restores.restore_target as target', 'restore_credentials.auth as auth'])
    .where('restores.id', '=', restoreId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { target: row.target, auth: row.auth ? (JSON.parse(row.auth) as Record<string, unknown>) : null };
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
