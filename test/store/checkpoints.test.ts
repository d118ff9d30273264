import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkpoints, MarkerNotFound, restores, verifications,
  type CheckpointRecord, type PageQuery, type RestoreRecord, type Store, type VerificationRecord,
} from '../../src/store/index.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const id = (prefix: string, i: number) => `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`;

const checkpoint = (i: number, over: Partial<CheckpointRecord> = {}): CheckpointRecord => ({
  id: id('00000000', i),
  projectId: 'p1',
  providerId: 'prov-a',
  planId: 'plan-1',
  status: 'available',
  protectionPlan: { id: 'plan-1', name: 'nightly', providerId: 'prov-a', resources: [{ id: 'r1', type: 'Hoard::FileSystem::Directory', name: '/srv', extraInfo: '{"k": 1}' }] },
  resourceGraph: '[{"0x0": ["Hoard::FileSystem::Directory", "r1", "/srv", null]}, []]',
  extraInfo: { created_by: 'manual' },
  createdAt: `2026-01-${String(i).padStart(2, '0')}T12:00:00.000Z`,
  updatedAt: `2026-01-${String(i).padStart(2, '0')}T12:00:00.000Z`,
  ...over,
});

const restore = (i: number, over: Partial<RestoreRecord> = {}): RestoreRecord => ({
  id: id('11111111', i),
  projectId: 'p1',
  providerId: 'prov-a',
  checkpointId: checkpoint(1).id,
  restoreTarget: i % 2 ? null : 'http://elsewhere',
  parameters: { 'Hoard::FileSystem::Directory': { restore_path: '/tmp/x', overwrite: false } },
  status: 'success',
  resourcesStatus: { 'Hoard::FileSystem::Directory#r1': 'available' },
  resourcesReason: {},
  createdAt: `2026-02-${String(i).padStart(2, '0')}T00:00:00.000Z`,
  updatedAt: `2026-02-${String(i).padStart(2, '0')}T00:00:00.000Z`,
  ...over,
});

const verification = (i: number, over: Partial<VerificationRecord> = {}): VerificationRecord => {
  const { restoreTarget: _t, ...rest } = restore(i);
  return { ...rest, id: id('22222222', i), resourcesReason: { 'Hoard::FileSystem::Directory#r1': 'checksum ok' }, ...over };
};

const inP1 = (extra: PageQuery['filters'] = []): PageQuery['filters'] => [{ op: 'eq', column: 'project_id', value: 'p1' }, ...extra];
const newestFirst: PageQuery['sort'] = [{ key: 'created_at', dir: 'desc' }];

describe.each(DIALECTS)('checkpoint, restore and verification store on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterEach(() => cleanup());

  it('keeps a checkpoint with its plan snapshot, graph text and extra info', async () => {
    await checkpoints.insertCheckpoint(store.db, checkpoint(1));
    expect(await checkpoints.getCheckpoint(store.db, checkpoint(1).id)).toEqual(checkpoint(1));
    expect(await checkpoints.getCheckpoint(store.db, checkpoint(2).id)).toBeUndefined();
  });

  it('pages checkpoints by keyset, leaving deleted ones out without cutting a page short', async () => {
    for (let i = 1; i <= 8; i++) {
      await checkpoints.insertCheckpoint(store.db, checkpoint(i, { status: [3, 4, 5].includes(i) ? 'deleted' : 'available', projectId: i === 8 ? 'p2' : 'p1' }));
    }
    const q = (marker?: string) => checkpoints.listCheckpoints(store.db, { filters: inP1(), sort: newestFirst, marker, limit: 2 });
    const first = await q();
    expect(first.map((c) => c.id)).toEqual([checkpoint(7).id, checkpoint(6).id]);
    // The next two live rows sit behind three deleted ones: the page is still full.
    const second = await q(first[1]!.id);
    expect(second.map((c) => c.id)).toEqual([checkpoint(2).id, checkpoint(1).id]);
    expect(await q(second[1]!.id)).toEqual([]);
    await expect(q(checkpoint(8).id)).rejects.toBeInstanceOf(MarkerNotFound);
  });

  it('filters checkpoints by a date range on created_at and by plan', async () => {
    for (let i = 1; i <= 5; i++) await checkpoints.insertCheckpoint(store.db, checkpoint(i, { planId: i === 3 ? 'plan-2' : 'plan-1' }));
    const list = (filters: PageQuery['filters']) => checkpoints.listCheckpoints(store.db, { filters: inP1(filters), sort: [{ key: 'created_at', dir: 'asc' }], limit: 10 });
    const range = await list([{ op: 'gte', column: 'created_at', value: '2026-01-02' }, { op: 'lt', column: 'created_at', value: '2026-01-05' }]);
    expect(range.map((c) => c.createdAt.slice(0, 10))).toEqual(['2026-01-02', '2026-01-03', '2026-01-04']);
    expect((await list([{ op: 'eq', column: 'plan_id', value: 'plan-2' }])).map((c) => c.id)).toEqual([checkpoint(3).id]);
  });

  it('counts live checkpoints per project and changes status only from the allowed states', async () => {
    await checkpoints.insertCheckpoint(store.db, checkpoint(1));
    await checkpoints.insertCheckpoint(store.db, checkpoint(2, { status: 'deleted' }));
    await checkpoints.insertCheckpoint(store.db, checkpoint(3, { status: 'protecting' }));
    await checkpoints.insertCheckpoint(store.db, checkpoint(4, { projectId: 'p2' }));
    expect(await checkpoints.countCheckpoints(store.db, 'p1')).toBe(2);

    expect(await checkpoints.setCheckpointStatus(store.db, checkpoint(1).id, ['available', 'error'], 'error', '2026-03-01T00:00:00.000Z')).toBe(true);
    const changed = await checkpoints.getCheckpoint(store.db, checkpoint(1).id);
    expect([changed?.status, changed?.updatedAt]).toEqual(['error', '2026-03-01T00:00:00.000Z']);
    expect(await checkpoints.setCheckpointStatus(store.db, checkpoint(3).id, ['available', 'error'], 'available', '2026-03-01T00:00:00.000Z')).toBe(false);
    expect((await checkpoints.getCheckpoint(store.db, checkpoint(3).id))?.status).toBe('protecting');
  });

  it('keeps restores with typed parameters and pages them by status', async () => {
    for (let i = 1; i <= 5; i++) await restores.insertRestore(store.db, restore(i, { status: i === 4 ? 'fail' : 'success' }));
    expect(await restores.getRestore(store.db, restore(2).id)).toEqual(restore(2));
    const q = (marker?: string) => restores.listRestores(store.db, { filters: inP1([{ op: 'eq', column: 'status', value: 'success' }]), sort: newestFirst, marker, limit: 2 });
    const first = await q();
    expect(first.map((r) => r.id)).toEqual([restore(5).id, restore(3).id]);
    expect((await q(first[1]!.id)).map((r) => r.id)).toEqual([restore(2).id, restore(1).id]);
  });

  it('keeps verifications and scopes their list to a project', async () => {
    await verifications.insertVerification(store.db, verification(1));
    await verifications.insertVerification(store.db, verification(2, { projectId: 'p2' }));
    expect(await verifications.getVerification(store.db, verification(1).id)).toEqual(verification(1));
    const mine = await verifications.listVerifications(store.db, { filters: inP1(), sort: newestFirst, limit: 10 });
    expect(mine.map((v) => v.id)).toEqual([verification(1).id]);
  });
});
