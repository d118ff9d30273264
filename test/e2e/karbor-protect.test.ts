/**
 * The full protection cycle with the REAL Karbor CLI against Hoard with the engine running: a No-Op
 * provider plan of directories, checkpoint-create, poll until `available`, list with its resource
 * graph, restore-create, poll until `success`, checkpoint-delete, poll until `deleted`. Everything is
 * asserted on what the CLI prints.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NOOP_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable, tableRows } from '../helpers/karbor.js';

vi.setConfig({ testTimeout: 300_000 });

let h: TestHoard;
let protection: ProtectionRole;
let token: string;
const run = (...args: string[]) => karbor(`${h.url}/v1/demo`, token, args);
const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

/** until runs a CLI show until `field` reads one of `want` (or a terminal value it then returns). */
async function until(args: string[], field: string, want: string): Promise<Record<string, string>> {
  for (let i = 0; i < 30; i++) {
    const r = await run(...args);
    expect(r.code, out(r)).toBe(0);
    const shown = propertyTable(r.stdout);
    if (shown[field] === want) return shown;
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`${args.join(' ')} never showed ${field}=${want}`);
}

beforeAll(async () => {
  h = await startHoard();
  protection = startProtection(h.hoard, { tickMs: 100 });
  token = await h.token('demo', 'member');
  for (const d of ['photos', 'mail']) await mkdir(join(h.root, d));
});
afterAll(async () => {
  await protection.stop();
  await h.close();
});

describe('karbor CLI, No-Op provider, engine running', () => {
  it('protects, lists, restores and deletes a plan of directories', async () => {
    const dirs = ['photos', 'mail'].map((d) => join(h.root, d));
    const resources = dirs.map((d) => `${directoryId(d)}=${DIRECTORY_TYPE}=${d}`).join(',');
    const plan = await run('plan-create', 'dirs', NOOP_PROVIDER_ID, resources);
    expect(plan.code, out(plan)).toBe(0);
    const planId = propertyTable(plan.stdout).id!;

    const created = await run('checkpoint-create', NOOP_PROVIDER_ID, planId);
    expect(created.code, out(created)).toBe(0);
    const cp = propertyTable(created.stdout);
    expect(cp.status).toBe('protecting');
    // The POST answer already carries the graph, as a string the CLI could parse and pretty-print.
    expect(cp.resource_graph).toContain('"0x1": [');

    const available = await until(['checkpoint-show', NOOP_PROVIDER_ID, cp.id!], 'status', 'available');
    expect(available.resource_graph).toContain(`"${directoryId(dirs[0]!)}"`);
    expect(available.resource_graph).toContain(`"${dirs[1]}"`);

    // Hoard's extra `progress` field: every hook of both resources done, counted before the work began.
    const shown = await h.api('GET', `/v1/demo/providers/${NOOP_PROVIDER_ID}/checkpoints/${cp.id}`, { token });
    expect(shown.body.checkpoint.progress).toMatchObject({ status: 'done', error: null, overall: { resources_done: 2, resources_total: 2, hooks_done: 8, hooks_total: 8 } });

    const listed = tableRows((await run('checkpoint-list', NOOP_PROVIDER_ID)).stdout).find((r) => r.Id === cp.id);
    expect(listed?.Status).toBe('available');
    expect(listed?.['Protection plan']).toBe('Name: dirs');
    const listedJson = await h.api('GET', `/v1/demo/providers/${NOOP_PROVIDER_ID}/checkpoints`, { token });
    expect(JSON.parse(listedJson.body.checkpoints[0].resource_graph)[0]).toHaveProperty('0x0');

    const restore = await run('restore-create', NOOP_PROVIDER_ID, cp.id!);
    expect(restore.code, out(restore)).toBe(0);
    const restoreId = propertyTable(restore.stdout).id!;
    expect(propertyTable(restore.stdout).status).toBe('in_progress');
    const restored = await until(['restore-show', restoreId], 'status', 'success');
    for (const d of dirs) expect(restored.resources_status).toContain(`${DIRECTORY_TYPE}#${directoryId(d)}`);
    expect(restored.resources_status).toContain('available');
    const restoreShown = await h.api('GET', `/v1/demo/restores/${restoreId}`, { token });
    expect(restoreShown.body.restore.progress).toMatchObject({ status: 'done', overall: { resources_done: 2, resources_total: 2 } });

    const del = await run('checkpoint-delete', NOOP_PROVIDER_ID, cp.id!);
    expect(del.code, out(del)).toBe(0);
    await until(['checkpoint-show', NOOP_PROVIDER_ID, cp.id!], 'status', 'deleted');
    expect(tableRows((await run('checkpoint-list', NOOP_PROVIDER_ID)).stdout).map((r) => r.Id)).not.toContain(cp.id);

    const logs = tableRows((await run('operationlog-list')).stdout);
    expect(logs.map((l) => l.Status ?? l.status)).toEqual(expect.arrayContaining(['available', 'success', 'deleted']));
  });
});
