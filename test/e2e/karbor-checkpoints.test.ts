/**
 * The real Karbor CLI against Hoard for checkpoints, restores and verifications on the default provider
 * (`hoard.io/directory`). Fixture checkpoints and restores are written straight into the store. No
 * protection worker runs here: requests are validated in full and then accepted (one row in its
 * transient state, nothing else); verification-create starts a verification the same way. The engine's working paths are test/e2e/karbor-protect.test.ts (No-Op provider) and
 * test/e2e/karbor-directory.test.ts (this provider, real data).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID, NOOP_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import {
  checkpoints, quotas, restores, verifications,
  type CheckpointRecord, type RestoreRecord, type VerificationRecord,
} from '../../src/store/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable, tableRows } from '../helpers/karbor.js';

// Each run of the Python CLI costs seconds; tests that run several need more than the default minute.
vi.setConfig({ testTimeout: 180_000 });

let h: TestHoard;
let token: string;
let otherToken: string;
let planId: string;
let noopPlanId: string;
const run = (...args: string[]) => karbor(`${h.url}/v1/demo`, token, args);
const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;
/** ids reads a list's Id column; multi-line cells add rows with an empty Id. */
const ids = (r: { stdout: string }) => tableRows(r.stdout).map((x) => x.Id).filter(Boolean);
const uuid = (n: number) => `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, '0')}`;
const UNKNOWN = '99999999-9999-4999-8999-999999999999';
const GRAPH = JSON.stringify([{ '0x0': [DIRECTORY_TYPE, 'dir-1', '/srv/photos', null] }, []]);

function checkpoint(n: number, over: Partial<CheckpointRecord> = {}): CheckpointRecord {
  return {
    id: uuid(n),
    projectId: 'demo',
    providerId: DEFAULT_PROVIDER_ID,
    planId,
    status: 'available',
    protectionPlan: { id: planId, name: 'photos', providerId: DEFAULT_PROVIDER_ID, resources: [{ id: 'dir-1', type: DIRECTORY_TYPE, name: '/srv/photos', extraInfo: null }] },
    resourceGraph: GRAPH,
    extraInfo: { created_by: 'manual' },
    createdAt: `2026-03-${String(n).padStart(2, '0')}T10:00:00.000Z`,
    updatedAt: `2026-03-${String(n).padStart(2, '0')}T10:00:00.000Z`,
    ...over,
  };
}

const restoreRow = (n: number, over: Partial<RestoreRecord> = {}): RestoreRecord => ({
  id: uuid(100 + n),
  projectId: 'demo',
  providerId: DEFAULT_PROVIDER_ID,
  checkpointId: uuid(1),
  restoreTarget: null,
  parameters: { [DIRECTORY_TYPE]: { restore_path: '/tmp/back' } },
  status: 'success',
  resourcesStatus: { [`${DIRECTORY_TYPE}#dir-9`]: 'available' },
  resourcesReason: {},
  createdAt: `2026-03-2${n}T00:00:00.000Z`,
  updatedAt: `2026-03-2${n}T00:00:00.000Z`,
  ...over,
});

/** rowCounts is what must not change when a request is refused. */
async function rowCounts(): Promise<number[]> {
  const db = h.hoard.store.db;
  const count = async (t: 'checkpoints' | 'restores' | 'verifications') => (await db.selectFrom(t).select('id').execute()).length;
  return [await count('checkpoints'), await count('restores'), await count('verifications')];
}

beforeAll(async () => {
  h = await startHoard();
  await mkdir(join(h.root, 'photos'));
  token = await h.token('demo', 'member');
  otherToken = await h.token('other', 'member');
  const resources = [{ id: directoryId(join(h.root, 'photos')), type: DIRECTORY_TYPE, name: join(h.root, 'photos') }];
  planId = (await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'photos', provider_id: DEFAULT_PROVIDER_ID, resources } } })).body.plan.id;
  noopPlanId = (await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'noop', provider_id: NOOP_PROVIDER_ID, resources } } })).body.plan.id;
  const db = h.hoard.store.db;
  await checkpoints.insertCheckpoint(db, checkpoint(1));
  await checkpoints.insertCheckpoint(db, checkpoint(2, { status: 'error' }));
  await checkpoints.insertCheckpoint(db, checkpoint(3, { status: 'protecting' }));
  await checkpoints.insertCheckpoint(db, checkpoint(4, { status: 'deleted' }));
  await checkpoints.insertCheckpoint(db, checkpoint(5, { projectId: 'other' }));
  await checkpoints.insertCheckpoint(db, checkpoint(6, { providerId: NOOP_PROVIDER_ID }));
  await restores.insertRestore(db, restoreRow(1));
  await restores.insertRestore(db, restoreRow(2, { status: 'fail', resourcesStatus: { [`${DIRECTORY_TYPE}#dir-1`]: 'error' }, resourcesReason: { [`${DIRECTORY_TYPE}#dir-1`]: 'disk full' } }));
  await restores.insertRestore(db, restoreRow(3, { projectId: 'other' }));
  const { restoreTarget: _t, ...v } = restoreRow(1);
  await verifications.insertVerification(db, { ...v, id: uuid(200) } satisfies VerificationRecord);
});
afterAll(() => h.close());

describe('checkpoint-list and checkpoint-show', () => {
  it('lists the live checkpoints of the caller under the provider, newest first, without deleted ones', async () => {
    const r = await run('checkpoint-list', DEFAULT_PROVIDER_ID);
    expect(r.code, r.stderr).toBe(0);
    expect(ids(r)).toEqual([uuid(3), uuid(2), uuid(1)].sort());
    const rows = tableRows(r.stdout);
    expect(rows.find((x) => x.Id === uuid(2))?.Status).toBe('error');
    expect(rows.find((x) => x.Id === uuid(1))?.['Protection plan']).toBe('Name: photos');
    expect(rows.find((x) => x.Id === uuid(1))?.['Created at']).toBe('2026-03-01');
  });

  it('filters by date range (end date inclusive) and plan, and refuses a malformed date', async () => {
    const ranged = await run('checkpoint-list', DEFAULT_PROVIDER_ID, '--start_date', '2026-03-02', '--end_date', '2026-03-03', '--sort', 'created_at:asc');
    expect(ids(ranged)).toEqual([uuid(2), uuid(3)]);
    const byPlan = await h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints?plan_id=${noopPlanId}`, { token });
    expect(byPlan.body).toEqual({ checkpoints: [] });
    const bad = await h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints?end_date=2026-02-30`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain('end_date');
  });

  it('pages with limit and marker', async () => {
    expect(ids(await run('checkpoint-list', DEFAULT_PROVIDER_ID, '--limit', '2', '--sort', 'created_at:desc'))).toEqual([uuid(3), uuid(2)]);
    expect(ids(await run('checkpoint-list', DEFAULT_PROVIDER_ID, '--limit', '2', '--sort', 'created_at:desc', '--marker', uuid(2)))).toEqual([uuid(1)]);
  });

  it('shows a checkpoint with its resource graph as a JSON string the CLI can pretty-print', async () => {
    const r = await run('checkpoint-show', DEFAULT_PROVIDER_ID, uuid(1));
    expect(r.code, r.stderr).toBe(0);
    const cp = propertyTable(r.stdout);
    expect(cp.status).toBe('available');
    expect(cp.created_at).toBe('2026-03-01');
    // The CLI json.loads the graph and re-dumps it indented: only a string survives that.
    expect(cp.resource_graph).toContain('"0x0": [');
    expect(cp.resource_graph).toContain('"/srv/photos"');
    expect(cp.extra_info).toBe('{"created_by":"manual"}');
    expect(cp.protection_plan).toContain(`"provider_id": "${DEFAULT_PROVIDER_ID}"`);
  });

  it('shows a deleted checkpoint by id, refuses another project\'s (403) and reports unknown ones (404)', async () => {
    expect(propertyTable((await run('checkpoint-show', DEFAULT_PROVIDER_ID, uuid(4))).stdout).status).toBe('deleted');
    expect(out(await run('checkpoint-show', DEFAULT_PROVIDER_ID, uuid(5)))).toContain('(HTTP 403)');
    expect(out(await run('checkpoint-show', DEFAULT_PROVIDER_ID, UNKNOWN))).toContain('(HTTP 404)');
    const status = async (provider: string, id: string) => (await h.api('GET', `/v1/demo/providers/${provider}/checkpoints/${id}`, { token })).status;
    // A checkpoint of another provider is not in this provider's index.
    expect(await status(DEFAULT_PROVIDER_ID, uuid(6))).toBe(404);
    expect(await status(UNKNOWN, uuid(1))).toBe(404);
    expect(await status('not-a-uuid', uuid(1))).toBe(400);
    expect(await status(DEFAULT_PROVIDER_ID, 'not-a-uuid')).toBe(400);
  });
});

describe('checkpoint-reset-state', () => {
  it('resets an error checkpoint to available and back, answering {}', async () => {
    const r = await run('checkpoint-reset-state', DEFAULT_PROVIDER_ID, uuid(2), '--available');
    expect(r.code, out(r)).toBe(0);
    expect(propertyTable((await run('checkpoint-show', DEFAULT_PROVIDER_ID, uuid(2))).stdout).status).toBe('available');
    const api = await h.api('PUT', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${uuid(2)}`, { token, body: { 'os-resetState': { state: 'error' } } });
    expect([api.status, api.body]).toEqual([200, {}]);
    expect((await checkpoints.getCheckpoint(h.hoard.store.db, uuid(2)))?.status).toBe('error');
  });

  it('refuses a checkpoint the engine is working on, another project\'s, and a state outside available|error', async () => {
    const busy = await run('checkpoint-reset-state', DEFAULT_PROVIDER_ID, uuid(3), '--available');
    expect(busy.code).not.toBe(0);
    expect(out(busy)).toContain('invalid input or current checkpoint state');
    expect((await checkpoints.getCheckpoint(h.hoard.store.db, uuid(3)))?.status).toBe('protecting');
    expect(out(await run('checkpoint-reset-state', DEFAULT_PROVIDER_ID, uuid(5)))).toContain('not allowed');
    const bad = await h.api('PUT', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${uuid(1)}`, { token, body: { 'os-resetState': { state: 'deleted' } } });
    expect(bad.status).toBe(400);
  });
});

describe('checkpoint-create', () => {
  it('validates in full, then accepts the checkpoint as protecting, writing exactly that row', async () => {
    const before = await rowCounts();
    const r = await run('checkpoint-create', DEFAULT_PROVIDER_ID, planId, '--extra_info', 'note=before upgrade');
    expect(r.code, out(r)).toBe(0);
    const cp = propertyTable(r.stdout);
    expect(cp.status).toBe('protecting');
    expect(cp.extra_info).toBe('{"created_by":"manual","note":"before upgrade"}');
    expect(await checkpoints.getCheckpoint(h.hoard.store.db, cp.id!)).toMatchObject({ providerId: DEFAULT_PROVIDER_ID, planId, status: 'protecting', extraInfo: { note: 'before upgrade' } });
    const api = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: planId, extra_info: { note: 'x' } } } });
    expect(api.status).toBe(200);
    expect(api.body.checkpoint).toMatchObject({ status: 'protecting', protection_plan: { id: planId }, extra_info: '{"created_by":"manual","note":"x"}' });
    expect(await rowCounts()).toEqual([before[0]! + 2, before[1], before[2]]);
  });

  it('reports an unknown or foreign plan as 404 and a plan of another provider as 400', async () => {
    expect(out(await run('checkpoint-create', DEFAULT_PROVIDER_ID, UNKNOWN))).toContain('(HTTP 404)');
    const foreign = await karbor(`${h.url}/v1/other`, otherToken, ['checkpoint-create', DEFAULT_PROVIDER_ID, planId]);
    expect(out(foreign)).toContain('(HTTP 404)');
    const wrongProvider = await run('checkpoint-create', DEFAULT_PROVIDER_ID, noopPlanId);
    expect(out(wrongProvider)).toContain('(HTTP 400)');
    expect(out(wrongProvider)).toContain(NOOP_PROVIDER_ID);
  });

  it('refuses both spellings of extra info at once, and an exhausted checkpoint quota with 413', async () => {
    const both = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: planId, 'extra-info': {}, extra_info: {} } } });
    expect(both.status).toBe(400);
    // demo has six checkpoints that are not deleted (available, error, the fixture protecting one, the two
    // the previous test created, and one of the noop provider).
    await quotas.setProjectLimit(h.hoard.store.db, 'demo', 'checkpoints', 6);
    try {
      const r = await run('checkpoint-create', DEFAULT_PROVIDER_ID, planId);
      expect(out(r)).toContain('(HTTP 413)');
      // The deleted checkpoint does not count: one more slot gets past the quota.
      await quotas.setProjectLimit(h.hoard.store.db, 'demo', 'checkpoints', 7);
      const past = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: planId } } });
      expect(past.status).toBe(200);
      expect(past.body.checkpoint.status).toBe('protecting');
    } finally {
      await quotas.setProjectLimit(h.hoard.store.db, 'demo', 'checkpoints', -1);
    }
  });
});

describe('checkpoint-delete', () => {
  it('validates existence, ownership and state, then accepts the deletion of an error checkpoint as deleting', async () => {
    // uuid(2) (error) is deleted here: uuid(1) stays available for the restores below.
    const r = await run('checkpoint-delete', DEFAULT_PROVIDER_ID, uuid(2));
    expect(r.code, out(r)).toBe(0);
    expect((await checkpoints.getCheckpoint(h.hoard.store.db, uuid(2)))?.status).toBe('deleting');
    expect((await checkpoints.getCheckpoint(h.hoard.store.db, uuid(1)))?.status).toBe('available');
    expect(out(await run('checkpoint-delete', DEFAULT_PROVIDER_ID, uuid(3)))).toContain('(HTTP 400)');
    expect(out(await run('checkpoint-delete', DEFAULT_PROVIDER_ID, UNKNOWN))).toContain('checkpoint not found');
    const foreign = await h.api('DELETE', `/v1/other/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${uuid(1)}`, { token: otherToken });
    expect(foreign.status).toBe(403);
  });
});

describe('restores', () => {
  const restoresCreated: string[] = [];
  const create = (...args: string[]) => run('restore-create', DEFAULT_PROVIDER_ID, ...args);

  it('restore-create validates checkpoint, state and parameters, then accepts the restore as in_progress', async () => {
    const before = await rowCounts();
    expect(out(await create(UNKNOWN))).toContain('(HTTP 404)');
    expect(out(await create(uuid(5)))).toContain('(HTTP 403)');
    expect(out(await create(uuid(3)))).toContain('(HTTP 400)');
    const badParams = await create(uuid(1), '--parameters', `resource_type=${DIRECTORY_TYPE},restore_mode=fast`);
    expect(out(badParams)).toContain('(HTTP 400)');
    expect(out(badParams)).toContain('restore_mode');
    const ok = await create(uuid(1), '--parameters', `resource_type=${DIRECTORY_TYPE},restore_path=/tmp/back`);
    expect(ok.code, out(ok)).toBe(0);
    const accepted = propertyTable(ok.stdout);
    expect(accepted.status).toBe('in_progress');
    restoresCreated.push(accepted.id!);
    expect(await restores.getRestore(h.hoard.store.db, accepted.id!)).toMatchObject({ checkpointId: uuid(1), status: 'in_progress', parameters: { [DIRECTORY_TYPE]: { restore_path: '/tmp/back' } } });
    expect(await rowCounts()).toEqual([before[0], before[1]! + 1, before[2]]);
  });

  it('never echoes restore_auth, not even in an error', async () => {
    const body = { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: uuid(1), restore_target: 'http://keystone:5000/v3', restore_auth: { type: 'password', username: 'bob', password: 'hunter2-secret' }, parameters: { [DIRECTORY_TYPE]: { conflict: 'explode' } } } };
    const bad = await h.api('POST', '/v1/demo/restores', { token, body });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('hunter2-secret');
    // The directory plugin cannot restore to a Keystone URL: refused (nothing written) rather than restored in place.
    const elsewhere = await h.api('POST', '/v1/demo/restores', { token, body: { restore: { ...body.restore, parameters: {} } } });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.badRequest.message).toContain('only to sftp, ssh targets');
    expect(elsewhere.text).not.toContain('hunter2-secret');
    // Credentials without a target authenticate nothing: accepted, not kept, never shown.
    const accepted = await h.api('POST', '/v1/demo/restores', { token, body: { restore: { ...body.restore, restore_target: null, parameters: {} } } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.restore.status).toBe('in_progress');
    restoresCreated.push(accepted.body.restore.id);
    expect(accepted.text).not.toContain('hunter2-secret');
    const missing = await h.api('POST', '/v1/demo/restores', { token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: uuid(1) } } });
    expect(missing.status).toBe(400);
    expect(missing.body.badRequest.message).toContain('parameters');
  });

  it('restore-list and restore-show read the restore table, scoped to the project', async () => {
    expect(ids(await run('restore-list'))).toEqual([uuid(101), uuid(102), ...restoresCreated].sort());
    expect(ids(await run('restore-list', '--status', 'fail'))).toEqual([uuid(102)]);
    const shown = propertyTable((await run('restore-show', uuid(102))).stdout);
    expect(shown.status).toBe('fail');
    expect(shown.resources_reason).toContain('disk full');
    expect(shown).not.toHaveProperty('restore_auth');
    expect(out(await run('restore-show', uuid(103)))).toContain('(HTTP 404)');
  });
});

describe('verifications', () => {
  it('verification-create refuses parameters a plugin cannot verify and a checkpoint not available, and otherwise starts one', async () => {
    const before = await rowCounts();
    const withParams = await run('verification-create', DEFAULT_PROVIDER_ID, uuid(1), '--parameters', `resource_type=${DIRECTORY_TYPE},deep=true`);
    expect(out(withParams)).toContain('(HTTP 400)');
    expect(out(await run('verification-create', DEFAULT_PROVIDER_ID, uuid(2)))).toContain('(HTTP 400)');
    expect(await rowCounts()).toEqual(before);
    // No protection role runs here: the verification is accepted and waits in_progress for a worker.
    const started = await run('verification-create', DEFAULT_PROVIDER_ID, uuid(1));
    expect(started.code, out(started)).toBe(0);
    expect(propertyTable(started.stdout)).toMatchObject({ checkpoint_id: uuid(1), status: 'in_progress' });
    const [c, r, v] = before;
    expect(await rowCounts()).toEqual([c, r, v! + 1]);
  });

  it('verification-list and verification-show read the verification table', async () => {
    const listed = ids(await run('verification-list'));
    expect(listed).toHaveLength(2);
    expect(listed).toContain(uuid(200));
    expect(propertyTable((await run('verification-show', uuid(200))).stdout).checkpoint_id).toBe(uuid(1));
    expect(out(await karbor(`${h.url}/v1/other`, otherToken, ['verification-show', uuid(200)]))).toContain('(HTTP 404)');
  });
});
