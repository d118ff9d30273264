/**
 * The `hoard` client verbs as a user runs them: a child process against a real server, connection
 * from flags or HOARD_* variables, JSON with --json and tables otherwise, Karbor faults on stderr.
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

interface Run { code: number; stdout: string; stderr: string }

let h: TestHoard;
let env: NodeJS.ProcessEnv;
const photos = () => join(h.root, 'photos');

/** hoard runs src/main.ts the way the installed binary would run dist/main.js. */
function hoard(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), env: { ...env, ...extraEnv }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** cells reads the data rows of a cli-table3 table printed without border colours. */
function cells(out: string): string[][] {
  return out.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
}

beforeAll(async () => {
  h = await startHoard();
  await mkdir(photos());
  const token = await h.token('demo', 'member');
  // Variables a user sets once; the flags are tested separately below.
  env = { ...process.env, HOARD_URL: h.url, HOARD_TOKEN: token, HOARD_PROJECT: 'demo', NO_COLOR: '1', FORCE_COLOR: '0' };
});
afterAll(() => h.close());

describe('hoard plan', () => {
  it('creates, lists, shows and deletes a plan with --json', async () => {
    const created = await hoard(['plan', 'create', '--name', 'nightly', '--resource', `${DIRECTORY_TYPE}=${directoryId(photos())}=${photos()}`,
      '--parameters-json', `{"${DIRECTORY_TYPE}":{"exclude":"*.tmp"}}`, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const plan = JSON.parse(created.stdout).plan;
    expect(plan).toMatchObject({ name: 'nightly', status: 'suspended', provider_id: DEFAULT_PROVIDER_ID, parameters: { [DIRECTORY_TYPE]: { exclude: '*.tmp' } } });
    expect(plan.resources).toEqual([{ id: directoryId(photos()), type: DIRECTORY_TYPE, name: photos() }]);

    const listed = JSON.parse((await hoard(['plan', 'list', '--json'])).stdout);
    expect(listed.plans.map((p: { id: string }) => p.id)).toEqual([plan.id]);
    expect(JSON.parse((await hoard(['plan', 'show', plan.id, '--json'])).stdout)).toEqual({ plan });

    const del = await hoard(['plan', 'delete', plan.id, '--json']);
    expect(del.code, del.stderr).toBe(0);
    expect((await h.api('GET', `/v1/demo/plans/${plan.id}`, { token: env.HOARD_TOKEN! })).status).toBe(404);
  });

  it('prints readable tables without --json, taking the connection from flags', async () => {
    const flags = ['--url', h.url, '--token', env.HOARD_TOKEN!, '--project', 'demo'];
    const noEnv = { HOARD_URL: '', HOARD_TOKEN: '', HOARD_PROJECT: '' };
    // The resource name defaults to its id when NAME is left out.
    const created = await hoard(['plan', 'create', '--name', 'tabled', '--resource', `${DIRECTORY_TYPE}=${directoryId(photos())}`, ...flags], noEnv);
    expect(created.code, created.stderr).toBe(0);
    const props = Object.fromEntries(cells(created.stdout).map(([k, v]) => [k, v]));
    expect(props.name).toBe('tabled');
    expect(props.status).toBe('suspended');
    expect(created.stdout).toContain(`"name": "${directoryId(photos())}"`);

    const list = await hoard(['plan', 'list', ...flags], noEnv);
    expect(cells(list.stdout)[0]).toEqual(['id', 'name', 'status', 'provider_id', 'resources']);
    expect(cells(list.stdout).slice(1)).toEqual([[props.id, 'tabled', 'suspended', DEFAULT_PROVIDER_ID, '1']]);

    const del = await hoard(['plan', 'delete', props.id!]);
    expect(del.stdout.trim()).toBe(`Deleted plan ${props.id}.`);
  });

  it('reports a Karbor fault on stderr with its HTTP status and exits 1', async () => {
    const missing = await hoard(['plan', 'show', '11111111-1111-4111-8111-111111111111']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim()).toBe('hoard: Plan 11111111-1111-4111-8111-111111111111 could not be found. (HTTP 404)');
    const badResource = await hoard(['plan', 'create', '--name', 'x', '--resource', 'just-an-id']);
    expect(badResource.code).toBe(1);
    expect(badResource.stderr).toContain('expected TYPE=ID[=NAME]');
  });
});

describe('hoard checkpoint', () => {
  const cp = (n: number, status: CheckpointRecord['status']): CheckpointRecord => ({
    id: `cccccccc-0000-4000-8000-00000000000${n}`,
    projectId: 'demo',
    providerId: DEFAULT_PROVIDER_ID,
    planId: 'dddddddd-0000-4000-8000-000000000001',
    status,
    protectionPlan: { id: 'dddddddd-0000-4000-8000-000000000001', name: 'photos', providerId: DEFAULT_PROVIDER_ID, resources: [] },
    resourceGraph: '[{"0x0": ["Hoard::FileSystem::Directory", "d1", "/srv", null]}, []]',
    extraInfo: { created_by: 'manual' },
    createdAt: `2026-04-0${n}T08:00:00.000Z`,
    updatedAt: `2026-04-0${n}T08:00:00.000Z`,
  });

  beforeAll(async () => {
    await checkpoints.insertCheckpoint(h.hoard.store.db, cp(1, 'available'));
    await checkpoints.insertCheckpoint(h.hoard.store.db, cp(2, 'error'));
  });

  it('lists checkpoints as a table and as raw JSON, with filters', async () => {
    const table = await hoard(['checkpoint', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(cells(table.stdout).slice(1)).toEqual([
      [cp(2, 'error').id, 'error', 'photos', cp(2, 'error').planId, '2026-04-02'],
      [cp(1, 'available').id, 'available', 'photos', cp(1, 'available').planId, '2026-04-01'],
    ]);
    const json = JSON.parse((await hoard(['checkpoint', 'list', '--status', 'available', '--end-date', '2026-04-01', '--json'])).stdout);
    expect(json.checkpoints.map((c: { id: string }) => c.id)).toEqual([cp(1, 'available').id]);
  });

  it('shows one checkpoint with its graph as the API sends it', async () => {
    const shown = JSON.parse((await hoard(['checkpoint', 'show', cp(1, 'available').id, '--json'])).stdout);
    expect(shown.checkpoint.resource_graph).toBe(cp(1, 'available').resourceGraph);
    expect(shown.checkpoint.created_at).toBe('2026-04-01');
    const table = await hoard(['checkpoint', 'show', cp(1, 'available').id]);
    expect(Object.fromEntries(cells(table.stdout).map(([k, v]) => [k, v])).status).toBe('available');
  });

  it('passes a refused delete through as an error, and submits an allowed one', async () => {
    await checkpoints.insertCheckpoint(h.hoard.store.db, cp(3, 'protecting'));
    const refused = await hoard(['checkpoint', 'delete', cp(3, 'protecting').id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^hoard: .*protecting.* \(HTTP 400\)\n$/);
    const accepted = await hoard(['checkpoint', 'delete', cp(1, 'available').id]);
    expect(accepted.code, accepted.stderr).toBe(0);
    // No protection worker runs in this test, so the checkpoint waits in `deleting` for one.
    expect((await checkpoints.getCheckpoint(h.hoard.store.db, cp(1, 'available').id))?.status).toBe('deleting');
  });
});
