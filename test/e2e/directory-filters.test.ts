/**
 * The directory plugin's path options through the HTTP API: a plan's `exclude` keeps matching paths out
 * of the checkpoint (a full restore does not bring them back), and a restore's `include` writes only the
 * selected paths (granular restore), never the rest of the tree.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { DIRECTORY_TYPE, directoryId } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { treeContents, until } from '../helpers/protect.js';

vi.setConfig({ testTimeout: 120_000 });

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('directory plugin path options', () => {
  it('leaves excluded paths out of the checkpoint and restores only the included ones', async () => {
    const h: TestHoard = await startHoard();
    const role: ProtectionRole = startProtection(h.hoard, { tickMs: 100 });
    cleanups.push(async () => { await role.stop(); await h.close(); });
    const token = await h.token('demo');
    const source = join(h.root, 'app');
    await mkdir(join(source, 'docs'), { recursive: true });
    await mkdir(join(source, 'cache'), { recursive: true });
    await writeFile(join(source, 'config.yaml'), 'a: 1\n');
    await writeFile(join(source, 'scratch.tmp'), 'junk');
    await writeFile(join(source, 'docs', 'guide.md'), '# guide\n');
    await writeFile(join(source, 'docs', 'draft.tmp'), 'junk');
    await writeFile(join(source, 'cache', 'big.bin'), Buffer.alloc(100_000, 1));

    const resources = [{ id: directoryId(source), type: DIRECTORY_TYPE, name: source }];
    const parameters = { [DIRECTORY_TYPE]: { exclude: '*.tmp, cache/' } };
    const plan = await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'app', provider_id: DEFAULT_PROVIDER_ID, resources, parameters } } });
    expect(plan.status, plan.text).toBe(200);
    const cp = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: plan.body.plan.id } } });
    const id = cp.body.checkpoint.id as string;
    const done = await until(() => h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${id}`, { token }), (r) => r.body.checkpoint.status !== 'protecting', 'protect');
    expect(done.body.checkpoint.status).toBe('available');

    const restore = async (target: string, extra: Record<string, unknown>) => {
      const r = await h.api('POST', '/v1/demo/restores', {
        token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: id, parameters: { [DIRECTORY_TYPE]: { restore_path: target, ...extra } } } },
      });
      expect(r.status, r.text).toBe(200);
      return (await until(() => h.api('GET', `/v1/demo/restores/${r.body.restore.id}`, { token }), (x) => x.body.restore.status !== 'in_progress', 'restore')).body.restore;
    };
    const full = join(h.root, 'full');
    expect((await restore(full, {})).status).toBe('success');
    expect(Object.keys(await treeContents(full)).sort()).toEqual(['config.yaml', 'docs/guide.md']);

    const some = join(h.root, 'some');
    expect((await restore(some, { include: 'docs/' })).status).toBe('success');
    expect(Object.keys(await treeContents(some))).toEqual(['docs/guide.md']);
  });
});
