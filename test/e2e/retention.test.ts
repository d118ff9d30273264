/**
 * Retention end to end through the real HTTP API and the `hoard` client: explain with the plan's
 * retention_protect operation or an explicit policy, dry runs that change nothing, apply deleting
 * exactly what explain said (rows go to `deleting`; no protection worker runs here), pins that survive,
 * and Karbor fault bodies for bad input. History rows are written straight into the store; the policies
 * used have no keep_within, so nothing depends on the wall clock.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { checkpoints, type CheckpointRecord } from '../../src/store/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';

vi.setConfig({ testTimeout: 120_000 });

let h: TestHoard;
let token: string;
let otherToken: string;
let planId: string;
let opId: string;
const uuid = (n: number) => `cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`;
const base = () => `/v1/demo/plans/${planId}/retention`;
const cpPath = (n: number | string) => `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${typeof n === 'number' ? uuid(n) : n}`;
const GFS = { keep_daily: 2, keep_weekly: 2, time_zone: 'Europe/Berlin', min_good: 1, keep_failed: 1 };

/** HISTORY: [n, created_at, status]; 3 is 00:30 on the 28th in Berlin, the same local day as 2. */
const HISTORY: readonly [number, string, CheckpointRecord['status']][] = [
  [1, '2026-11-29T10:00:00.000Z', 'protecting'],
  [2, '2026-11-28T10:00:00.000Z', 'available'],
  [3, '2026-11-27T23:30:00.000Z', 'available'],
  [4, '2026-11-27T22:00:00.000Z', 'available'],
  [5, '2026-11-26T10:00:00.000Z', 'error'],
  [6, '2026-11-25T10:00:00.000Z', 'error'],
  [7, '2026-11-20T10:00:00.000Z', 'available'],
  [8, '2026-11-10T10:00:00.000Z', 'available'],
  [9, '2026-11-01T10:00:00.000Z', 'available'],
];

interface Run { code: number; stdout: string; stderr: string }
function hoard(args: readonly string[]): Promise<Run> {
  const env = { ...process.env, HOARD_URL: h.url, HOARD_TOKEN: token, HOARD_PROJECT: 'demo', NO_COLOR: '1', FORCE_COLOR: '0' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), env, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
const cells = (out: string) => out.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));

const explain = (policy?: unknown) => h.api('GET', policy === undefined ? base() : `${base()}?policy=${encodeURIComponent(JSON.stringify(policy))}`, { token });
const verdicts = (body: any) => Object.fromEntries(body.retention.checkpoints.map((c: any) => [c.id, `${c.action}: ${c.reasons.join(', ')}`]));
const statusOf = async (n: number) => (await h.api('GET', cpPath(n), { token })).body.checkpoint.status;

beforeAll(async () => {
  h = await startHoard();
  const photos = join(h.root, 'photos');
  await mkdir(photos);
  token = await h.token('demo', 'member');
  otherToken = await h.token('other', 'member');
  const plan = await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'photos', provider_id: DEFAULT_PROVIDER_ID, resources: [{ id: directoryId(photos), type: DIRECTORY_TYPE, name: photos }] } } });
  planId = plan.body.plan.id;
  const trigger = await h.api('POST', '/v1/demo/triggers', { token, body: { trigger_info: { name: 'nightly', type: 'time', properties: { format: 'crontab', pattern: '0 3 * * *', window: 900 } } } });
  const op = await h.api('POST', '/v1/demo/scheduled_operations', {
    token,
    body: { scheduled_operation: { name: 'keep 3', operation_type: 'retention_protect', trigger_id: trigger.body.trigger_info.id, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: planId, max_backups: '3' } } },
  });
  opId = op.body.scheduled_operation.id;
  for (const [n, createdAt, status] of HISTORY) {
    await checkpoints.insertCheckpoint(h.hoard.store.db, {
      id: uuid(n), projectId: 'demo', providerId: DEFAULT_PROVIDER_ID, planId, status,
      protectionPlan: { id: planId, name: 'photos', providerId: DEFAULT_PROVIDER_ID, resources: [] },
      resourceGraph: '[{}, []]', extraInfo: { created_by: 'manual' }, createdAt, updatedAt: createdAt,
    });
  }
});
afterAll(() => h.close());

describe('explain', () => {
  it('uses the plan\'s retention_protect operation when no policy is given (max_backups → keep_last)', async () => {
    const r = await explain();
    expect(r.status, r.text).toBe(200);
    expect(r.body.retention).toMatchObject({ plan_id: planId, policy_source: { kind: 'scheduled_operation', id: opId }, policy: { keep_last: 3, min_good: 1 }, keep: 5, delete: 4 });
    expect(verdicts(r.body)).toEqual({
      [uuid(1)]: 'keep: in progress', [uuid(2)]: 'keep: last 3', [uuid(3)]: 'keep: last 3', [uuid(4)]: 'keep: last 3',
      [uuid(5)]: 'keep: failed last 1', [uuid(6)]: 'delete: ', [uuid(7)]: 'delete: ', [uuid(8)]: 'delete: ', [uuid(9)]: 'delete: ',
    });
  });

  it('explains a GFS policy in the policy\'s time zone', async () => {
    const r = await explain(GFS);
    expect(r.status, r.text).toBe(200);
    expect(verdicts(r.body)).toEqual({
      [uuid(1)]: 'keep: in progress', [uuid(2)]: 'keep: daily 2026-11-28, weekly 2026-W48', [uuid(3)]: 'delete: ', [uuid(4)]: 'keep: daily 2026-11-27',
      [uuid(5)]: 'keep: failed last 1', [uuid(6)]: 'delete: ', [uuid(7)]: 'keep: weekly 2026-W47', [uuid(8)]: 'delete: ', [uuid(9)]: 'delete: ',
    });
  });

  it('refuses bad policies and other projects with Karbor fault bodies', async () => {
    const typo = await explain({ keep_dayly: 2 });
    expect(typo.status).toBe(400);
    expect(typo.body.badRequest).toMatchObject({ reason: 'invalid_field', message: expect.stringContaining('"keep_dayly"') });
    const notJson = await h.api('GET', `${base()}?policy=%7Bkeep`, { token });
    expect(notJson.body.badRequest.message).toContain('not valid JSON');
    const extra = await h.api('GET', `${base()}?keep_last=3`, { token });
    expect(extra.body.badRequest.reason).toBe('invalid_filter');
    const body = await h.api('POST', base(), { token, body: { policy: GFS, dryrun: true } });
    expect(body.body.badRequest.reason).toBe('unknown_field');
    expect((await h.api('GET', `/v1/other/plans/${planId}/retention`, { token: otherToken })).status).toBe(404);
  });
});

describe('pin, dry run and apply', () => {
  it('pins a checkpoint the policy would delete, and explain keeps it for that reason', async () => {
    const pinned = await h.api('POST', `${cpPath(8)}/pin`, { token });
    expect(pinned.status, pinned.text).toBe(200);
    expect(pinned.body.checkpoint).toMatchObject({ id: uuid(8), status: 'available', pinned: true });
    expect(verdicts((await explain(GFS)).body)[uuid(8)]).toBe('keep: pinned');
    // A pinned checkpoint is shown as such, and a user's own delete is refused until it is unpinned.
    expect((await h.api('GET', cpPath(8), { token })).body.checkpoint.pinned).toBe(true);
    const del = await h.api('DELETE', cpPath(8), { token });
    expect(del.status).toBe(400);
    expect(del.body.badRequest.message).toBe(`Checkpoint ${uuid(8)} is pinned; unpin it (hoard checkpoint unpin ${uuid(8)}) before deleting it.`);
    expect((await h.api('GET', cpPath(8), { token })).body.checkpoint.status).toBe('available');
    const foreign = await h.api('POST', `${cpPath(8).replace('/v1/demo/', '/v1/other/')}/pin`, { token: otherToken });
    expect(foreign.body.forbidden?.reason, foreign.text).toBe('forbidden');
    expect((await h.api('POST', `${cpPath('dddddddd-0000-4000-8000-000000000000')}/pin`, { token })).body.itemNotFound.reason).toBe('checkpoint_not_found');
  });

  it('a dry run answers what apply would delete and changes nothing', async () => {
    const dry = await h.api('POST', base(), { token, body: { policy: GFS, dry_run: true } });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.retention).toMatchObject({ dry_run: true, deleted: [], skipped: [], delete: 3 });
    for (const [n, , status] of HISTORY) expect(await statusOf(n)).toBe(status);
  });

  it('apply deletes exactly what explain says, through the delete use case; pinned and kept ones survive', async () => {
    const said = (await explain(GFS)).body.retention.checkpoints.filter((c: any) => c.action === 'delete').map((c: any) => c.id);
    expect(said).toEqual([uuid(3), uuid(6), uuid(9)]);
    const applied = await h.api('POST', base(), { token, body: { policy: GFS } });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.retention).toMatchObject({ dry_run: false, skipped: [] });
    expect([...applied.body.retention.deleted].sort()).toEqual([...said].sort());
    for (const n of [3, 6, 9]) expect(await statusOf(n)).toBe('deleting');
    for (const n of [1, 2, 4, 5, 7, 8]) expect(await statusOf(n)).toBe(HISTORY.find(([m]) => m === n)![2]);
    const again = await h.api('POST', base(), { token, body: { policy: GFS } });
    expect(again.body.retention.deleted).toEqual([]);
    expect(verdicts((await explain(GFS)).body)[uuid(9)]).toBe('keep: in progress');
  });
});

describe('hoard retention and hoard checkpoint pin|unpin', () => {
  it('prints the decision as a table and applies a dry run with flags', async () => {
    const r = await hoard(['retention', 'explain', planId, '--keep-daily', '2', '--keep-weekly', '2', '--tz', 'Europe/Berlin']);
    expect(r.code, r.stderr).toBe(0);
    const rows = cells(r.stdout);
    expect(rows[0]).toEqual(['checkpoint', 'created', 'status', 'action', 'reasons']);
    expect(rows.find((x) => x[0] === uuid(7))?.slice(2)).toEqual(['available', 'KEEP', 'weekly 2026-W47']);
    expect(r.stdout).toContain('Policy (request)');

    const dry = await hoard(['retention', 'apply', planId, '--policy', '{"keep_last":1}', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).retention).toMatchObject({ dry_run: true, deleted: [] });
    const both = await hoard(['retention', 'explain', planId, '--policy', '{"keep_last":1}', '--keep-daily', '2']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('not both');
  });

  it('unpins and pins by id', async () => {
    const un = await hoard(['checkpoint', 'unpin', uuid(8)]);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout.trim()).toBe(`Unpinned checkpoint ${uuid(8)}.`);
    expect(verdicts((await explain(GFS)).body)[uuid(8)]).toBe('delete: ');
    const pin = await hoard(['checkpoint', 'pin', uuid(8), '--json']);
    expect(JSON.parse(pin.stdout).checkpoint.pinned).toBe(true);
  });
});
