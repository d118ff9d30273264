/**
 * Plans and their resources. A plan row and its resource rows change together in one transaction;
 * reads return the plan with its resources in the order the caller gave them.
 */
import type { Kysely } from 'kysely';
import type { Database, PlanTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

export interface PlanResourceRecord {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly extraInfo: Record<string, unknown> | null;
}

export interface PlanRecord {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string | null;
  readonly providerId: string;
  readonly status: 'suspended' | 'started';
  readonly parameters: Record<string, Record<string, unknown>>;
  readonly resources: readonly PlanResourceRecord[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

export async function insertPlan(db: Db, p: PlanRecord): Promise<void> {
  await db.insertInto('plans').values(toRow(p)).execute();
  await writeResources(db, p.id, p.resources);
}

export async function updatePlanRow(db: Db, p: PlanRecord): Promise<void> {
  const { id: _id, ...row } = toRow(p);
  await db.updateTable('plans').set(row).where('id', '=', p.id).execute();
  await db.deleteFrom('plan_resources').where('plan_id', '=', p.id).execute();
  await writeResources(db, p.id, p.resources);
}

export async function deletePlanRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('plan_resources').where('plan_id', '=', id).execute();
  await db.deleteFrom('plans').where('id', '=', id).execute();
}

export async function getPlan(db: Db, id: string): Promise<PlanRecord | undefined> {
  const row = await db.selectFrom('plans').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [plan] = await withResources(db, [row]);
  return plan;
}

export async function listPlans(db: Db, q: PageQuery): Promise<PlanRecord[]> {
  return withResources(db, await pageOf<PlanTable>(db, 'plans', q));
}

export async function countPlans(db: Db, projectId: string): Promise<number> {
  const r = await db.selectFrom('plans').select((eb) => eb.fn.countAll<string | number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function writeResources(db: Db, planId: string, resources: readonly PlanResourceRecord[]): Promise<void> {
  if (resources.length === 0) return;
  await db.insertInto('plan_resources').values(resources.map((r, i) => ({
    plan_id: planId,
    position: i,
    resource_id: r.id,
    resource_type: r.type,
    resource_name: r.name,
    extra_info: r.extraInfo ? JSON.stringify(r.extraInfo) : null,
  }))).execute();
}

async function withResources(db: Db, rows: PlanTable[]): Promise<PlanRecord[]> {
  if (rows.length === 0) return [];
  const res = await db.selectFrom('plan_resources').selectAll().where('plan_id', 'in', rows.map((r) => r.id)).orderBy('plan_id').orderBy('position').execute();
  const byPlan = new Map<string, PlanResourceRecord[]>();
  for (const r of res) {
    const list = byPlan.get(r.plan_id) ?? [];
    list.push({ id: r.resource_id, type: r.resource_type, name: r.resource_name, extraInfo: r.extra_info ? JSON.parse(r.extra_info) : null });
    byPlan.set(r.plan_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    description: r.description,
    providerId: r.provider_id,
    status: r.status as PlanRecord['status'],
    parameters: JSON.parse(r.parameters),
    resources: byPlan.get(r.id) ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

function toRow(p: PlanRecord): PlanTable {
  return {
    id: p.id,
    project_id: p.projectId,
    name: p.name,
    description: p.description,
    provider_id: p.providerId,
    status: p.status,
    parameters: JSON.stringify(p.parameters),
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}
