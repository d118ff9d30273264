/** Quota limits per project and per quota class; -1 means unlimited. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function projectLimits(db: Db, projectId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('quotas').selectAll().where('project_id', '=', projectId).execute();
  return Object.fromEntries(rows.map((r) => [r.resource, Number(r.hard_limit)]));
}

export async function classLimits(db: Db, className: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('quota_classes').selectAll().where('class_name', '=', className).execute();
  return Object.fromEntries(rows.map((r) => [r.resource, Number(r.hard_limit)]));
}

export async function setProjectLimit(db: Db, projectId: string, resource: string, limit: number): Promise<void> {
  await db.insertInto('quotas').values({ project_id: projectId, resource, hard_limit: limit })
    .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: limit })).execute();
}

export async function deleteProjectLimits(db: Db, projectId: string): Promise<void> {
  await db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
}

export async function setClassLimit(db: Db, className: string, resource: string, limit: number): Promise<void> {
  await db.insertInto('quota_classes').values({ class_name: className, resource, hard_limit: limit })
    .onConflict((oc) => oc.columns(['class_name', 'resource']).doUpdateSet({ hard_limit: limit })).execute();
}

/** countCheckpoints is the checkpoint quota usage: every checkpoint of the project not yet deleted. */
export async function countCheckpoints(db: Db, projectId: string): Promise<number> {
  const r = await db.selectFrom('checkpoints').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('project_id', '=', projectId).where('status', '!=', 'deleted').executeTakeFirstOrThrow();
  return Number(r.n);
}
