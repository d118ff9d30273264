import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import {
  PENDING_PREFIX, Repository, backupTree, check, isRepoError, layout, openWriter, prune, restoreTree, saveSnapshot,
} from '../../../src/bank/repo/index.js';
import { describeTree, fileTree, newRepo, seeded, tempDir } from './helpers.js';

const PASS = 'correct horse';
const FAST = { ttlMs: 4_000, skewMs: 200 };

async function keysUnder(backend: BankBackend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list(prefix)) out.push(info.key);
  return out;
}

async function backup(backend: BankBackend, spec: Record<string, Buffer | string>): Promise<{ snapshot: string; src: string; added: number }> {
  const src = await tempDir('src');
  await fileTree(src, spec);
  const w = await openWriter(backend, PASS, { ...FAST, packTarget: 512 * 1024 });
  const { root } = await backupTree(w.repo, src);
  const snapshot = await saveSnapshot(w.repo, { tags: [], sections: { files: { kind: 'tree', root, bytes: 0, items: 0 } } });
  await w.close();
  return { snapshot, src, added: w.repo.stats.blobsAdded };
}

async function restoresIdentical(backend: BankBackend, snapshot: string, src: string): Promise<void> {
  const repo = await Repository.open(backend, PASS);
  const snap = JSON.parse(repo.openObject('snapshot', snapshot, await backend.get(layout.snapshot(snapshot))).toString()) as { sections: { files: { root: string } } };
  const dst = await tempDir('dst');
  await restoreTree(repo, snap.sections.files.root, dst);
  expect(await describeTree(dst)).toEqual(await describeTree(src));
}

async function checkOk(backend: BankBackend): Promise<void> {
  const r = await check(await Repository.open(backend, PASS, { loadIndex: false }), { readData: true });
  expect(r.findings).toEqual([]);
}

const reader = (backend: BankBackend) => Repository.open(backend, PASS, { loadIndex: false });

describe('prune', () => {
  it('forgets a snapshot, deletes what only it used, keeps what others share, and leaves a checkable bank', async () => {
    const { backend } = await newRepo();
    const shared = seeded(200 * 1024, 'shared');
    const a = await backup(backend, { 'shared.bin': shared, 'only-a.bin': seeded(600 * 1024, 'a') });
    const b = await backup(backend, { 'shared.bin': shared, 'only-b.bin': seeded(300 * 1024, 'b') });
    const before = await keysUnder(backend, layout.dataPrefix);

    const r = await prune(await reader(backend), { ...FAST, forget: [a.snapshot] });
    expect(r.forgotten).toEqual([a.snapshot]);
    expect(r.deferred).toEqual([]);
    expect(r.packsDeleted + r.packsRepacked).toBeGreaterThan(0);
    expect(r.bytesFreed).toBeGreaterThan(500 * 1024);
    expect(await keysUnder(backend, layout.snapshotsPrefix)).toEqual([layout.snapshot(b.snapshot)]);
    expect((await keysUnder(backend, layout.dataPrefix)).length).toBeLessThan(before.length);
    expect(await keysUnder(backend, PENDING_PREFIX)).toEqual([]);
    await restoresIdentical(backend, b.snapshot, b.src);
    await checkOk(backend);

    // Nothing left to collect: a second prune deletes nothing.
    const again = await prune(await reader(backend), FAST);
    expect(again.packsDeleted + again.packsRepacked + again.orphansDeleted).toBe(0);
    await restoresIdentical(backend, b.snapshot, b.src);
  });

  it('repacks a partly used pack past the threshold and keeps it below', async () => {
    for (const [threshold, repacked] of [[0.1, true], [0.6, false]] as const) {
      const { backend } = await newRepo();
      // Small files share one pack, so forgetting one snapshot leaves that pack partly used.
      const keep = seeded(100 * 1024, 'keep');
      const a = await backup(backend, { 'keep.bin': keep, 'drop.bin': seeded(30 * 1024, `drop-${threshold}`) });
      const b = await backup(backend, { 'keep.bin': keep });
      const r = await prune(await reader(backend), { ...FAST, forget: [a.snapshot], repackThreshold: threshold });
      expect(r.packsRepacked > 0).toBe(repacked);
      await restoresIdentical(backend, b.snapshot, b.src);
      await checkOk(backend);
    }
  });

  it('never deletes a blob a writer that started earlier deduplicated against', async () => {
    const { backend } = await newRepo();
    const content = seeded(400 * 1024, 'reused');
    const old = await backup(backend, { 'f.bin': content });
    const src = await tempDir('src');
    await fileTree(src, { 'again.bin': content });
    const w = await openWriter(backend, PASS, { ...FAST, packTarget: 512 * 1024 });
    const { root } = await backupTree(w.repo, src);
    expect(w.repo.stats.blobsAdded).toBeLessThan(3); // the file's chunks were deduplicated, not stored

    // The writer is live, so the prune may not delete what it might name: it defers.
    const packs = await keysUnder(backend, layout.dataPrefix);
    const r = await prune(await reader(backend), { ...FAST, forget: [old.snapshot] });
    expect(r.deferred).toHaveLength(1);
    expect(await keysUnder(backend, layout.dataPrefix)).toEqual(expect.arrayContaining(packs));
    const snapshot = await saveSnapshot(w.repo, { tags: [], sections: { files: { kind: 'tree', root, bytes: 0, items: 0 } } });
    await w.close();
    const after = await prune(await reader(backend), FAST);
    expect(after.deferred).toEqual([]);
    await restoresIdentical(backend, snapshot, src);
    await checkOk(backend);
  });

  it('a writer started during a prune stores doomed blobs anew; a waiting prune then deletes the old copies', async () => {
    const { backend } = await newRepo();
    const content = seeded(400 * 1024, 'doomed');
    const old = await backup(backend, { 'f.bin': content });
    const early = await openWriter(backend, PASS, FAST);
    const pruning = prune(await reader(backend), { ...FAST, forget: [old.snapshot], waitMs: 30_000 });
    while ((await keysUnder(backend, PENDING_PREFIX)).length === 0) await new Promise((r) => setTimeout(r, 20));

    const late = await backup(backend, { 'same.bin': content });
    expect(late.added).toBeGreaterThan(2); // not deduplicated against blobs announced for deletion
    await early.close();
    const r = await pruning;
    expect(r.deferred).toEqual([]);
    expect(r.packsDeleted).toBeGreaterThan(0);
    await restoresIdentical(backend, late.snapshot, late.src);
    await checkOk(backend);
  });

  it('lets one prune run at a time', async () => {
    const { backend } = await newRepo();
    const w = await openWriter(backend, PASS, FAST);
    await w.repo.saveBlob('data', Buffer.from('garbage'));
    await w.repo.flush();
    const first = prune(await reader(backend), { ...FAST, waitMs: 2_000 });
    while ((await keysUnder(backend, PENDING_PREFIX)).length === 0) await new Promise((r) => setTimeout(r, 20));
    const err = await prune(await reader(backend), FAST).catch((e: unknown) => e);
    expect(isRepoError(err, 'locked')).toBe(true);
    expect((err as Error).message).toMatch(/locked.*prune/i);
    await w.close();
    expect((await first).packsDeleted).toBe(1);
  });
});
