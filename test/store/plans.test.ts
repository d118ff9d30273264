import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MarkerNotFound, plans, type PlanRecord, type Store } from '../../src/store/index.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const plan = (i: number, over: Partial<PlanRecord> = {}): PlanRecord => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  projectId: 'p1',
  name: `plan ${i}`,
  description: null,
  providerId: 'prov',
  status: 'suspended',
  parameters: { 'Hoard::FileSystem::Directory': { one_file_system: true, n: 3 } },
  resources: [{ id: `r${i}`, type: 'Hoard::FileSystem::Directory', name: `/d/${i}`, extraInfo: { a: 1 } }, { id: 'shared', type: 'T::X::Y', name: 's', extraInfo: null }],
  createdAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
  updatedAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
  ...over,
});

describe.each(DIALECTS)('plans store on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterEach(() => cleanup());

  it('keeps a plan, its resources in order and typed parameters', async () => {
    await plans.insertPlan(store.db, plan(1));
    expect(await plans.getPlan(store.db, plan(1).id)).toEqual(plan(1));
  });

  it('pages by keyset in both directions with a stable marker', async () => {
    for (let i = 1; i <= 7; i++) await plans.insertPlan(store.db, plan(i, { projectId: i % 2 ? 'p1' : 'p2' }));
    const q = (marker?: string) => plans.listPlans(store.db, { filters: [{ op: 'eq', column: 'project_id', value: 'p1' }], sort: [{ key: 'created_at', dir: 'desc' }], marker, limit: 2 });
    const first = await q();
    expect(first.map((p) => p.name)).toEqual(['plan 7', 'plan 5']);
    const second = await q(first[1]!.id);
    expect(second.map((p) => p.name)).toEqual(['plan 3', 'plan 1']);
    expect(await q(second[1]!.id)).toEqual([]);
    // A marker from another project is not a position in this project's list.
    await expect(q(plan(2).id)).rejects.toBeInstanceOf(MarkerNotFound);
  });

  it('matches name filters literally and case-insensitively', async () => {
    await plans.insertPlan(store.db, plan(1, { name: 'Nightly_100%' }));
    await plans.insertPlan(store.db, plan(2, { name: 'nightlyX100' }));
    const find = (v: string) => plans.listPlans(store.db, { filters: [{ op: 'contains', column: 'name', value: v }], sort: [{ key: 'name', dir: 'asc' }], limit: 10 });
    expect((await find('_100%')).map((p) => p.name)).toEqual(['Nightly_100%']);
    expect((await find('NIGHTLY')).length).toBe(2);
  });

  it('replaces resources on update and removes them with the plan', async () => {
    await plans.insertPlan(store.db, plan(1));
    await plans.updatePlanRow(store.db, { ...plan(1), name: 'renamed', resources: [{ id: 'only', type: 'A::B::C', name: 'o', extraInfo: null }] });
    const p = await plans.getPlan(store.db, plan(1).id);
    expect(p?.name).toBe('renamed');
    expect(p?.resources.map((r) => r.id)).toEqual(['only']);
    await plans.deletePlanRow(store.db, plan(1).id);
    expect(await plans.getPlan(store.db, plan(1).id)).toBeUndefined();
    expect(await store.db.selectFrom('plan_resources').selectAll().execute()).toEqual([]);
  });
});
