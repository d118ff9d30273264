/**
 * Checkpoints live in the bank (decision 1): a protected checkpoint's manifest, status and resource
 * metadata are records in the provider's bank; a second deployment with an empty database attached to
 * the same bank lists nothing until `hoard bank reindex` (the real CLI) rebuilds its index, then lists
 * the checkpoint, recreates its plan suspended, restores it byte for byte, and deleting it removes its
 * records from the bank. A dry run changes nothing; a second reindex adds nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { CheckpointRecords } from '../../src/bank/records/index.js';
import { Repository } from '../../src/bank/repo/index.js';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { getResourceMetadata } from '../../src/store/operations.js';
import { fsBankPath, startHoard, type TestHoard } from '../helpers/hoard.js';
import { deleteCheckpoint, protectDirectory, restoreDirectory, treeContents } from '../helpers/protect.js';

vi.setConfig({ testTimeout: 300_000 });

let first: TestHoard;
let second: TestHoard;
const roles: ProtectionRole[] = [];
let bank: string;
let source: string;

function hoardCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const records = async () => new CheckpointRecords(await Repository.open(fsBackend({ root: bank }), await readFile(`${bank}.key`), { workers: 0 }));

beforeAll(async () => {
  first = await startHoard();
  roles.push(startProtection(first.hoard, { tickMs: 100 }));
  bank = fsBankPath(first.hoard.config);
  source = join(first.root, 'data');
  await mkdir(join(source, 'sub'), { recursive: true });
  await writeFile(join(source, 'a.txt'), 'alpha\n');
  await writeFile(join(source, 'sub', 'b.bin'), Buffer.alloc(200_000, 7));
  // The second deployment: its own, empty database; the first one's bank and roots.
  second = await startHoard({
    config: (c) => ({
      ...c,
      providers: c.providers.map((p) => (p.id === DEFAULT_PROVIDER_ID ? { ...p, bank: { type: 'fs' as const, path: bank } } : p)),
      protectables: { directory: { roots: [first.root] } },
    }),
  });
  roles.push(startProtection(second.hoard, { tickMs: 100 }));
});
afterAll(async () => {
  for (const r of roles) await r.stop();
  await second?.close();
  await first?.close();
});

describe('checkpoint records in the bank', () => {
  it('a second deployment on the same bank lists, restores and deletes a checkpoint after hoard bank reindex', async () => {
    const token1 = await first.token('demo');
    const { planId, checkpointId: cpId, checkpoint } = await protectDirectory(first, token1, DEFAULT_PROVIDER_ID, source);
    expect(checkpoint.status).toBe('available');
    const shown = { body: { checkpoint } };

    // The bank holds the checkpoint's records, agreeing with the first deployment's database.
    const key = `${DIRECTORY_TYPE}#${directoryId(source)}`;
    const stored = (await (await records()).read(cpId))!;
    expect(stored.status).toBe('available');
    expect(stored.manifest).toMatchObject({ id: cpId, projectId: 'demo', planId, providerId: DEFAULT_PROVIDER_ID, resourceGraph: shown.body.checkpoint.resource_graph });
    expect(stored.resources.get(key)).toEqual(JSON.parse((await getResourceMetadata(first.hoard.store.db, cpId, key))!));
    expect(await (await records()).ids({ planId })).toEqual([cpId]);

    // The second deployment knows nothing yet.
    const token2 = await second.token('demo');
    const listCps = () => second.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token: token2 });
    expect((await listCps()).body.checkpoints).toEqual([]);

    const config = join(second.dataDir, 'hoard.json');
    await writeFile(config, JSON.stringify({
      dataDir: second.dataDir,
      providers: [{ id: DEFAULT_PROVIDER_ID, name: 'fs', plugins: ['hoard.io/directory'], bank: { path: bank } }],
      protectables: { directory: { roots: [first.root] } },
    }));
    const dry = await hoardCli(['bank', 'reindex', '--config', config, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual([expect.objectContaining({ provider: DEFAULT_PROVIDER_ID, added: 1, present: 0, plans_recreated: 1, added_ids: [cpId] })]);
    expect((await listCps()).body.checkpoints).toEqual([]);

    const real = await hoardCli(['bank', 'reindex', '--config', config, '--json']);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toEqual([expect.objectContaining({ added: 1, plans_recreated: 1, plan_ids: [planId] })]);
    const listed = (await listCps()).body.checkpoints;
    expect(listed.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([[cpId, 'available']]);
    const shown2 = await second.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${cpId}`, { token: token2 });
    expect(shown2.body.checkpoint.resource_graph).toBe(shown.body.checkpoint.resource_graph);
    expect(shown2.body.checkpoint.protection_plan).toEqual(shown.body.checkpoint.protection_plan);
    const recreated = await second.api('GET', `/v1/demo/plans/${planId}`, { token: token2 });
    expect(recreated.body.plan).toMatchObject({ id: planId, name: 'data', status: 'suspended', provider_id: DEFAULT_PROVIDER_ID });

    // Reindexing again adds nothing.
    const again = await hoardCli(['bank', 'reindex', '--config', config, '--json']);
    expect(JSON.parse(again.stdout)).toEqual([expect.objectContaining({ added: 0, present: 1 })]);

    // The second deployment restores it byte for byte.
    const target = join(first.root, 'restored-elsewhere');
    const done = await restoreDirectory(second, token2, DEFAULT_PROVIDER_ID, cpId, target);
    expect(done.status, JSON.stringify(done.resources_reason)).toBe('success');
    expect(await treeContents(target)).toEqual(await treeContents(source));

    // Deleting it removes its records from the bank.
    await deleteCheckpoint(second, token2, DEFAULT_PROVIDER_ID, cpId);
    expect(await (await records()).read(cpId)).toBeUndefined();
    expect(await (await records()).ids()).toEqual([]);
  });

  it('reindex refuses a provider whose bank does not exist, and creates nothing', async () => {
    const config = join(second.dataDir, 'missing.json');
    const missing = join(second.dataDir, 'no-bank-here');
    await writeFile(config, JSON.stringify({
      dataDir: join(second.dataDir, 'other'),
      providers: [{ id: DEFAULT_PROVIDER_ID, name: 'fs', plugins: ['hoard.io/directory'], bank: { path: missing } }],
    }));
    const r = await hoardCli(['bank', 'reindex', '--config', config, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ provider: DEFAULT_PROVIDER_ID, error: 'no bank here' })]);
    await expect(readdir(missing)).rejects.toThrow(/ENOENT/);
  });
});
