/** Verifications: one row per request to check a checkpoint's data, with per-resource results. */
import type { Kysely } from 'kysely';
import type { Database, VerificationTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

export type VerificationStatus = 'in_progress' | 'success' | 'fail';

export interface VerificationRecord {
  readonly id: string;
  readonly projectId: string;
  readonly providerId: string;
  readonly checkpointId: string;
  readonly parameters: Record<string, Record<string, unknown>>;
  readonly status: VerificationStatus;
  readonly resourcesStatus: Record<string, string>;
  readonly resourcesReason: Record<string, string>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

export async function insertVerification(db: Db, v: VerificationRecord): Promise<void> {
  await db.insertInto('verifications').values(toRow(v)).execute();
}

export async function getVerification(db: Db, id: string): Promise<VerificationRecord | undefined> {
  const row = await db.selectFrom('verifications').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listVerifications(db: Db, q: PageQuery): Promise<VerificationRecord[]> {
  return (await pageOf<VerificationTable>(db, 'verifications', q)).map(fromRow);
}

function toRow(v: VerificationRecord): VerificationTable {
  return {
    id: v.id,
    project_id: v.projectId,
    provider_id: v.providerId,
    checkpoint_id: v.checkpointId,
    parameters: JSON.stringify(v.parameters),
    status: v.status,
    resources_status: JSON.stringify(v.resourcesStatus),
    resources_reason: JSON.stringify(v.resourcesReason),
    created_at: v.createdAt,
    updated_at: v.updatedAt,
  };
}

function fromRow(r: VerificationTable): VerificationRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    providerId: r.provider_id,
    checkpointId: r.checkpoint_id,
    parameters: JSON.parse(r.parameters),
    status: r.status as VerificationStatus,
    resourcesStatus: JSON.parse(r.resources_status),
    resourcesReason: JSON.parse(r.resources_reason),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
