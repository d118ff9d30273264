/**
 * The retention use case over a real SQLite store with a fixed clock: the default policy from the plan's
 * retention_protect scheduled operation, project scoping, deletes through the checkpoint delete use case
 * (rows go to `deleting` with their engine operation), dry runs that write nothing, pins, and
 * checkpoints that change between the decision and their delete.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import type { Caller } from '../../src/model/caller.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { compose, type Hoard } from '../../src/roles/compose.js';
import { retentionService, type RetentionParts, type RetentionService } from '../../src/services/retention/index.js';
import { checkpoints, tokens, type CheckpointRecord } from '../../src/store/index.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const demo: Caller = { userId: 'u-demo', projectId: 'demo', roles: ['member'], isAdmin: false };
const other: Caller = { userId: 'u-other', projectId: 'other', roles: ['member'], isAdmin: false };
const uuid = (n: number) => `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, '0')}`;

let dir: string;
let hoard: Hoard;
let planId: string;
let retention: RetentionService;
let parts: RetentionParts;

function checkpoint(n: number, createdAt: string, over: Partial<CheckpointRecord> = {}): CheckpointRecord {
  return {
    id: uuid(n), projectId: 'demo', providerId: DEFAULT_PROVIDER_ID, planId, status: 'available',
    protectionPlan: { id: planId, name: 'photos', providerId: DEFAULT_PROVIDER_ID, resources: [] },
    resourceGraph: '[{}, []]', extraInfo: null, createdAt, updatedAt: createdAt, ...over,
  };
}

const statusOf = async (n: number) => (await checkpoints.getCheckpoint(hoard.store.db, uuid(n)))?.status;
const statuses = async (ns: number[]) => Promise.all(ns.map(statusOf));

async function scheduleRetention(definition: Record<string, unknown>): Promise<string> {
  const trigger = await hoard.services.triggers.create(demo, { name: 'nightly', type: 'time', properties: { format: 'crontab', pattern: '0 3 * * *', window: 900 } });
  const op = await hoard.services.scheduledOperations.create(demo, {
    name: 'keep', operation_type: 'retention_protect', trigger_id: trigger.id, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: planId, ...definition },
  });
  return op.id;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hoard-retention-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'photos'), { recursive: true });
  const config = { ...defaultConfig(dir), protectables: { directory: { roots: [root] } } };
  hoard = await compose(config, { clock: { now: () => NOW } });
  for (const p of ['demo', 'other']) await tokens.ensureProject(hoard.store.db, p, NOW.toISOString());
  const path = join(root, 'photos');
  planId = (await hoard.services.plans.create(demo, { name: 'photos', provider_id: DEFAULT_PROVIDER_ID, resources: [{ id: directoryId(path), type: DIRECTORY_TYPE, name: path }] })).id;
  parts = { plans: hoard.services.plans, checkpoints: hoard.services.checkpoints };
  retention = retentionService(hoard.services.deps, parts);
  const days = ['2026-11-30', '2026-11-29', '2026-11-28', '2026-11-20', '2026-11-10'];
  for (const [i, d] of days.entries()) await checkpoints.insertCheckpoint(hoard.store.db, checkpoint(i + 1, `${d}T01:00:00.000Z`));
  await checkpoints.insertCheckpoint(hoard.store.db, checkpoint(6, '2026-11-30T02:00:00.000Z', { status: 'protecting' }));
  await checkpoints.insertCheckpoint(hoard.store.db, checkpoint(7, '2026-11-01T00:00:00.000Z', { projectId: 'other' }));
});

afterEach(async () => {
  await hoard.close();
  await rm(dir, { recursive: true, force: true });
});

describe('explain', () => {
  it('takes the policy from the plan\'s retention_protect operation, deciding at the clock\'s time', async () => {
    const opId = await scheduleRetention({ max_backups: '2', retention_duration: '10' });
    const r = await retention.explain(demo, planId);
    expect(r.source).toEqual({ kind: 'scheduled_operation', id: opId });
    expect(r.decidedAt).toBe(NOW.toISOString());
    expect(r.decision.entries.map((e) => [e.checkpoint.id, e.action, e.reasons])).toEqual([
      [uuid(6), 'keep', ['in progress']],
      [uuid(1), 'keep', ['last 2', 'within 10d']],
      [uuid(2), 'keep', ['last 2', 'within 10d']],
      [uuid(3), 'keep', ['within 10d']],
      // 10 days and 11 hours old: keep_within counts elapsed time, not calendar dates.
      [uuid(4), 'delete', []],
      [uuid(5), 'delete', []],
    ]);
  });

  it('says there is no policy when the plan has none, and refuses to guess between two different ones', async () => {
    await expect(retention.explain(demo, planId)).rejects.toMatchObject({ reason: 'missing_field', message: expect.stringContaining('has no retention policy') });
    await scheduleRetention({ max_backups: 0, retention_duration: -1 });
    await expect(retention.explain(demo, planId)).rejects.toMatchObject({ reason: 'missing_field' });
    await scheduleRetention({ max_backups: 2 });
    await scheduleRetention({ max_backups: 3 });
    await expect(retention.explain(demo, planId)).rejects.toThrow('different limits');
  });

  it('hides another project\'s plan and refuses a bad policy by name', async () => {
    await expect(retention.explain(other, planId, { keep_last: 1 })).rejects.toMatchObject({ reason: 'plan_not_found' });
    await expect(retention.explain(demo, planId, { keep_last: 1, keep_dayly: 2 })).rejects.toMatchObject({ reason: 'invalid_field', message: expect.stringContaining('"keep_dayly"') });
  });
});

describe('apply', () => {
  it('a dry run reports the deletions and changes nothing', async () => {
    const r = await retention.apply(demo, planId, { keep_last: 1 }, { dryRun: true });
    expect(r.decision.delete.map((c) => c.id)).toEqual([uuid(2), uuid(3), uuid(4), uuid(5)]);
    expect(r.deleted).toEqual([]);
    expect(await statuses([1, 2, 3, 4, 5, 6])).toEqual(['available', 'available', 'available', 'available', 'available', 'protecting']);
  });

  it('deletes through the checkpoint delete use case, oldest first, and leaves pinned and kept ones alone', async () => {
    await retention.setPinned(demo, DEFAULT_PROVIDER_ID, uuid(4), true);
    const r = await retention.apply(demo, planId, { keep_last: 1, min_good: 1 }, { dryRun: false });
    expect(r.deleted).toEqual([uuid(5), uuid(3), uuid(2)]);
    expect(await statuses([1, 2, 3, 4, 5, 6, 7])).toEqual(['available', 'deleting', 'deleting', 'available', 'deleting', 'protecting', 'available']);
    const ops = await hoard.store.db.selectFrom('operations').select(['checkpoint_id', 'kind']).where('kind', '=', 'delete').execute();
    expect(ops.map((o) => o.checkpoint_id).sort()).toEqual([uuid(2), uuid(3), uuid(5)]);
    // Nothing more to do: the deleting ones are in progress, the rest is kept.
    expect((await retention.apply(demo, planId, { keep_last: 1 }, { dryRun: false })).deleted).toEqual([]);
  });

  it('skips a checkpoint pinned or changed after the decision, and still deletes the others', async () => {
    const remove = parts.checkpoints.remove;
    const racing: RetentionParts = {
      plans: parts.plans,
      checkpoints: {
        get: parts.checkpoints.get,
        async remove(caller, providerId, id) {
          if (id === uuid(5)) {
            await checkpoints.setCheckpointPinned(hoard.store.db, uuid(4), true, NOW.toISOString());
            await checkpoints.setCheckpointStatus(hoard.store.db, uuid(3), ['available'], 'protecting', NOW.toISOString());
          }
          return remove(caller, providerId, id);
        },
      },
    };
    const r = await retentionService(hoard.services.deps, racing).apply(demo, planId, { keep_last: 1 }, { dryRun: false });
    expect(r.deleted).toEqual([uuid(5), uuid(2)]);
    expect(r.skipped).toEqual([
      { id: uuid(4), reason: 'invalid_state', message: expect.stringContaining('pinned after the decision') },
      { id: uuid(3), reason: 'invalid_state', message: expect.stringContaining('protecting') },
    ]);
    expect(await statuses([2, 3, 4, 5])).toEqual(['deleting', 'protecting', 'available', 'deleting']);
  });
});

describe('pin and unpin', () => {
  it('pins and unpins a visible checkpoint; refuses another project and a checkpoint being deleted', async () => {
    expect((await retention.setPinned(demo, DEFAULT_PROVIDER_ID, uuid(2), true)).pinned).toBe(true);
    expect((await checkpoints.getCheckpoint(hoard.store.db, uuid(2)))?.pinned).toBe(true);
    expect((await retention.setPinned(demo, DEFAULT_PROVIDER_ID, uuid(2), false)).pinned).toBeUndefined();
    expect((await checkpoints.getCheckpoint(hoard.store.db, uuid(2)))?.pinned).toBeUndefined();
    await expect(retention.setPinned(other, DEFAULT_PROVIDER_ID, uuid(2), true)).rejects.toMatchObject({ reason: 'forbidden' });
    await checkpoints.setCheckpointStatus(hoard.store.db, uuid(3), ['available'], 'deleting', NOW.toISOString());
    await expect(retention.setPinned(demo, DEFAULT_PROVIDER_ID, uuid(3), true)).rejects.toMatchObject({ reason: 'invalid_state' });
  });
});
