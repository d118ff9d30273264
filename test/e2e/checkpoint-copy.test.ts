/**
 * Copy through the HTTP API (Karbor's POST /providers/{id}/checkpoints/action {"copy": ...}): a plan's
 * checkpoints are copied into a second provider's own bank (another key, another directory); each copy
 * goes wait_copying → copying → available with copy_status `finished`, restores byte for byte after
 * the originals are deleted, and is logged. Copying again copies nothing; a second checkpoint copies
 * incrementally (the destination bank grows by about the change, not by the whole tree); bad requests
 * are refused and write nothing. The destination bank checks clean.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { Repository, check } from '../../src/bank/repo/index.js';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { DIRECTORY_TYPE, directoryId } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { deleteCheckpoint, restoreDirectory, treeContents, until } from '../helpers/protect.js';

vi.setConfig({ testTimeout: 300_000 });

const OFFSITE = '5b0a3c1e-8f3e-4c61-9d0c-3f1e2a7b9c01';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function packBytes(bank: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await stat(p)).size;
    }
  };
  await walk(join(bank, 'data'));
  return total;
}

describe.each(['sqlite', 'postgres'] as const)('checkpoint copy to another provider on %s', (db) => {
  it('copies a plan\'s checkpoints into another bank, incrementally, and the copies restore on their own', async () => {
    let offsiteBank = '';
    const h: TestHoard = await startHoard({
      db,
      config: (c) => {
        const main = c.providers.find((p) => p.id === DEFAULT_PROVIDER_ID)!;
        offsiteBank = join(c.dataDir, 'bank-offsite');
        return { ...c, providers: [...c.providers, { ...main, id: OFFSITE, name: 'Offsite', bank: { type: 'fs', path: offsiteBank } }] };
      },
    });
    const role: ProtectionRole = startProtection(h.hoard, { tickMs: 100 });
    cleanups.push(async () => { await role.stop(); await h.close(); });
    const token = await h.token('demo');

    const source = join(h.root, 'data');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'big.bin'), randomBytes(3_000_000));
    await writeFile(join(source, 'sub', 'notes.txt'), 'first version\n');
    const first = await treeContents(source);

    const resources = [{ id: directoryId(source), type: DIRECTORY_TYPE, name: source }];
    const plan = await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'data', provider_id: DEFAULT_PROVIDER_ID, resources } } });
    expect(plan.status, plan.text).toBe(200);
    const planId = plan.body.plan.id as string;
    const take = async (): Promise<string> => {
      const r = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: planId } } });
      expect(r.status, r.text).toBe(200);
      const id = r.body.checkpoint.id as string;
      const end = await until(() => h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${id}`, { token }), (x) => x.body.checkpoint.status !== 'protecting', 'protect');
      expect(end.body.checkpoint.status).toBe('available');
      return id;
    };
    const cp1 = await take();
    const copyAction = (parameters: Record<string, unknown>) =>
      h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/action`, { token, body: { copy: { plan_id: planId, parameters } } });
    const copiesIn = async () => (await h.api('GET', `/v1/demo/providers/${OFFSITE}/checkpoints`, { token })).body.checkpoints as any[];

    // Bad requests are refused with a reason and create nothing.
    const noDest = await copyAction({});
    expect(noDest.status).toBe(400);
    expect(noDest.text).toMatch(/destination_provider_id/);
    expect((await copyAction({ destination_provider_id: DEFAULT_PROVIDER_ID })).status).toBe(400);
    expect((await copyAction({ destination_provider_id: '0d8b2a39-1c3e-4b8f-9a57-000000000000' })).status).toBe(404);
    expect((await copyAction({ destination_provider_id: OFFSITE, bogus: 1 })).status).toBe(400);
    expect(await copiesIn()).toHaveLength(0);

    // The first copy: one pair, and the copy runs to available with Karbor's copy_status.
    const copied = await copyAction({ destination_provider_id: OFFSITE });
    expect(copied.status, copied.text).toBe(200);
    expect(copied.body.copy).toMatchObject({ provider_id: DEFAULT_PROVIDER_ID, plan_id: planId, destination_provider_id: OFFSITE });
    const pairs1 = copied.body.copy.checkpoint_id as { checkpoint_protect_id: string; checkpoint_copy_id: string }[];
    expect(pairs1.map((p) => p.checkpoint_protect_id)).toEqual([cp1]);
    const copy1 = pairs1[0]!.checkpoint_copy_id;
    const shown = await until(() => h.api('GET', `/v1/demo/providers/${OFFSITE}/checkpoints/${copy1}`, { token }),
      (x) => !['wait_copying', 'copying'].includes(x.body.checkpoint.status), 'copy');
    expect(shown.body.checkpoint.status, shown.text).toBe('available');
    const extra = JSON.parse(shown.body.checkpoint.extra_info as string);
    expect(extra).toMatchObject({ copy_status: 'finished', created_by: 'copy', copy_from: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: cp1 } });
    expect(shown.body.checkpoint.protection_plan.id).toBe(planId);
    const sizeAfterFirst = await packBytes(offsiteBank);
    expect(sizeAfterFirst).toBeGreaterThan(2_900_000);

    // Copying again has nothing to do.
    const again = await copyAction({ destination_provider_id: OFFSITE });
    expect(again.body.copy.checkpoint_id).toEqual([]);

    // A second checkpoint after a small change: only it is copied, and the offsite bank grows by about the change.
    await writeFile(join(source, 'sub', 'notes.txt'), 'second version, a little longer\n');
    await writeFile(join(source, 'sub', 'new.bin'), randomBytes(200_000));
    const second = await treeContents(source);
    const cp2 = await take();
    const copied2 = await copyAction({ destination_provider_id: OFFSITE, checkpoint_id: cp2 });
    expect(copied2.status, copied2.text).toBe(200);
    const copy2 = copied2.body.copy.checkpoint_id[0].checkpoint_copy_id as string;
    const shown2 = await until(() => h.api('GET', `/v1/demo/providers/${OFFSITE}/checkpoints/${copy2}`, { token }),
      (x) => !['wait_copying', 'copying'].includes(x.body.checkpoint.status), 'second copy');
    expect(shown2.body.checkpoint.status, shown2.text).toBe('available');
    const growth = (await packBytes(offsiteBank)) - sizeAfterFirst;
    expect(growth).toBeGreaterThan(150_000);
    expect(growth).toBeLessThan(1_000_000);
    expect((await copiesIn()).map((c) => c.id).sort()).toEqual([copy1, copy2].sort());

    // The originals go; the copies restore on their own, byte for byte.
    await deleteCheckpoint(h, token, DEFAULT_PROVIDER_ID, cp1);
    await deleteCheckpoint(h, token, DEFAULT_PROVIDER_ID, cp2);
    const target1 = join(h.root, 'restored-1');
    const r1 = await restoreDirectory(h, token, OFFSITE, copy1, target1);
    expect(r1.status, JSON.stringify(r1)).toBe('success');
    expect(await treeContents(target1)).toEqual(first);
    const target2 = join(h.root, 'restored-2');
    const r2 = await restoreDirectory(h, token, OFFSITE, copy2, target2);
    expect(r2.status, JSON.stringify(r2)).toBe('success');
    expect(await treeContents(target2)).toEqual(second);

    // The copy is logged as Karbor logs copies.
    const logs = await h.api('GET', `/v1/demo/operation_logs?checkpoint_id=${copy1}`, { token });
    expect(logs.body.operation_logs.map((l: any) => [l.operation_type, l.status])).toContainEqual(['copy', 'available']);

    // The destination bank is whole: its own key opens it and the full check finds nothing.
    const repo = await Repository.open(fsBackend({ root: offsiteBank }), await readFile(`${offsiteBank}.key`), { workers: 0, loadIndex: false });
    const result = await check(repo, { readData: true });
    expect(result.findings, JSON.stringify(result.findings.slice(0, 3))).toEqual([]);
  });
});
