/**
 * The `pinned` column (migration 0003) on SQLite and PostgreSQL: absent means not pinned, pins round
 * trip through every read path, and rows written without the column (as older writers do) read as not pinned.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpoints, type CheckpointRecord, type Store } from '../../src/store/index.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const id = (i: number) => `eeeeeeee-0000-4000-8000-${String(i).padStart(12, '0')}`;
const checkpoint = (i: number, over: Partial<CheckpointRecord> = {}): CheckpointRecord => ({
  id: id(i), projectId: 'p1', providerId: 'prov-a', planId: 'plan-1', status: 'available',
  protectionPlan: { id: 'plan-1', name: 'nightly', providerId: 'prov-a', resources: [] },
  resourceGraph: null, extraInfo: null, createdAt: `2026-01-0${i}T00:00:00.000Z`, updatedAt: `2026-01-0${i}T00:00:00.000Z`, ...over,
});

describe.each(DIALECTS)('checkpoint pins on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterEach(() => cleanup());

  it('stores a pin given at insert, sets and clears it, and lists it', async () => {
    await checkpoints.insertCheckpoint(store.db, checkpoint(1, { pinned: true }));
    await checkpoints.insertCheckpoint(store.db, checkpoint(2));
    expect((await checkpoints.getCheckpoint(store.db, id(1)))?.pinned).toBe(true);
    expect(await checkpoints.getCheckpoint(store.db, id(2))).toEqual(checkpoint(2));

    expect(await checkpoints.setCheckpointPinned(store.db, id(2), true, '2026-02-01T00:00:00.000Z')).toBe(true);
    expect(await checkpoints.setCheckpointPinned(store.db, id(1), false, '2026-02-01T00:00:00.000Z')).toBe(true);
    expect(await checkpoints.setCheckpointPinned(store.db, id(9), true, '2026-02-01T00:00:00.000Z')).toBe(false);
    const listed = await checkpoints.listCheckpoints(store.db, { filters: [], sort: [{ key: 'created_at', dir: 'asc' }], limit: 10 });
    expect(listed.map((c) => [c.id, c.pinned, c.updatedAt])).toEqual([[id(1), undefined, '2026-02-01T00:00:00.000Z'], [id(2), true, '2026-02-01T00:00:00.000Z']]);
  });

  it('reads a row written without the column as not pinned', async () => {
    await store.db.insertInto('checkpoints').values({
      id: id(3), project_id: 'p1', provider_id: 'prov-a', plan_id: 'plan-1', status: 'available', protection_plan: '{}',
      resource_graph: null, extra_info: null, created_at: '2026-01-03T00:00:00.000Z', updated_at: '2026-01-03T00:00:00.000Z',
    }).execute();
    expect((await checkpoints.getCheckpoint(store.db, id(3)))?.pinned).toBeUndefined();
  });
});
