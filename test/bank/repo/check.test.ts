import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import {
  Repository, backupTree, check, layout, loadTree, saveSnapshot, writeStream, type CheckResult,
} from '../../../src/bank/repo/index.js';
import type { FileNode } from '../../../src/bank/repo/tree.js';
import { fileTree, newRepo, seeded, tempDir } from './helpers.js';

async function flip(backend: BankBackend, key: string, at: number): Promise<void> {
  const bytes = Buffer.from(await backend.get(key));
  bytes[at]! ^= 0x01;
  await backend.put(key, bytes);
}

async function keysUnder(backend: BankBackend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list(prefix)) out.push(info.key);
  return out;
}

// Two snapshots sharing b/ (incremental), each flushed, so each has its own index file.
async function twoSnapshots() {
  const { repo, backend } = await newRepo();
  const src = await tempDir('src');
  await fileTree(src, { 'a/small.txt': 'small\n', 'b/big.bin': seeded(300 * 1024, 'big'), 'b/other.bin': seeded(40 * 1024, 'other') });
  const first = await backupTree(repo, src);
  async function* one(): AsyncGenerator<Buffer> { yield seeded(100 * 1024, 'dump'); }
  const dump = await writeStream(repo, one());
  const s1 = await saveSnapshot(repo, { tags: [], sections: { files: { kind: 'tree', root: first.root, bytes: 0, items: 0 }, db: { kind: 'stream', root: dump.id, bytes: 0, items: 0 } } });
  const index1 = await keysUnder(backend, layout.indexPrefix);
  await fileTree(src, { 'c/new.bin': seeded(120 * 1024, 'new') });
  const second = await backupTree(repo, src, { parent: first.root });
  const s2 = await saveSnapshot(repo, { tags: [], sections: { files: { kind: 'tree', root: second.root, bytes: 0, items: 0 } } });
  const index2 = (await keysUnder(backend, layout.indexPrefix)).filter((k) => !index1.includes(k));
  await repo.close();
  const root = await loadTree(await Repository.open(backend, 'correct horse'), first.root);
  const bDir = root.nodes.find((n) => n.name === 'b')!;
  return { backend, s1, s2, index1: index1[0]!, index2: index2[0]!, bTree: bDir.type === 'dir' ? bDir.subtree : '', dumpId: dump.id };
}

async function fresh(backend: BankBackend, readData: boolean): Promise<CheckResult> {
  return check(await Repository.open(backend, 'correct horse', { loadIndex: false }), { readData });
}

async function bigChunk(backend: BankBackend, bTree: string): Promise<{ id: string; key: string; offset: number }> {
  const repo = await Repository.open(backend, 'correct horse');
  const big = (await loadTree(repo, bTree)).nodes.find((n) => n.name === 'big.bin') as FileNode;
  const id = big.content[0]!;
  const loc = repo.locate(id)!;
  return { id, key: layout.pack(loc.pack), offset: loc.offset };
}

describe('check', () => {
  it('passes an intact repository, with and without reading data', async () => {
    const { backend, s1, s2 } = await twoSnapshots();
    for (const readData of [false, true]) {
      const r = await fresh(backend, readData);
      expect(r.findings).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.stats.snapshots).toBe(2);
      expect(r.unindexedPacks).toEqual([]);
      if (readData) expect(r.stats.bytesRead).toBeGreaterThan(400 * 1024);
    }
    expect([s1, s2]).toHaveLength(2);
  });

  it('a flipped byte in a pack: --read-data names the pack, the blob, and the file in both snapshots', async () => {
    const { backend, s1, s2, bTree } = await twoSnapshots();
    const chunk = await bigChunk(backend, bTree);
    await flip(backend, chunk.key, chunk.offset + 20);

    // Structure alone cannot see changed bytes inside a blob: that is what --read-data is for.
    expect((await fresh(backend, false)).ok).toBe(true);
    const r = await fresh(backend, true);
    expect(r.ok).toBe(false);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'pack', object: chunk.key }));
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'blob', object: chunk.id }));
    const files = r.findings.filter((f) => f.kind === 'file');
    expect(files.map((f) => [f.snapshot, f.section, f.path]).sort()).toEqual([[s1, 'files', '/b/big.bin'], [s2, 'files', '/b/big.bin']].sort());
    expect(files[0]!.reason).toMatch(/authentication failed/);
    expect([...r.damagedSnapshots].sort()).toEqual([s1, s2].sort());
  });

  it('a flipped byte in an index file names the file and the snapshot whose blobs it located', async () => {
    const { backend, s1, s2, index2 } = await twoSnapshots();
    await flip(backend, index2, 30);
    const r = await fresh(backend, true);
    expect(r.ok).toBe(false);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'index', object: index2 }));
    expect(r.findings.find((f) => f.kind === 'index')!.reason).toMatch(/index authentication failed/);
    // The second snapshot's new root tree was listed only there; the first snapshot is unaffected.
    expect(r.damagedSnapshots).toEqual([s2]);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'tree', snapshot: s2, path: '/' }));
    expect(r.unindexedPacks.length).toBeGreaterThan(0);
    expect(s1).not.toBe(s2);
  });

  it('a flipped byte in a snapshot names the snapshot; in a tree names the directory in every snapshot sharing it', async () => {
    const { backend, s1, s2, bTree, dumpId } = await twoSnapshots();
    await flip(backend, layout.snapshot(s1), 40);
    let r = await fresh(backend, false);
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'snapshot', object: layout.snapshot(s1), snapshot: s1 })]);
    await backend.remove(layout.snapshot(s1));

    const repo = await Repository.open(backend, 'correct horse');
    const loc = repo.locate(bTree)!;
    await flip(backend, layout.pack(loc.pack), loc.offset + 5);
    r = await fresh(backend, false);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'tree', object: bTree, snapshot: s2, path: '/b' }));
    expect(r.findings.filter((f) => f.kind === 'file')).toEqual([]);
    expect(r.damagedSnapshots).toEqual([s2]);
    expect(dumpId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a damaged stream chunk names the stream section; a missing pack is named as missing', async () => {
    const { backend, s1, dumpId } = await twoSnapshots();
    const repo = await Repository.open(backend, 'correct horse');
    const manifest = JSON.parse((await repo.loadBlob(dumpId)).toString()) as { chunks: string[] };
    const loc = repo.locate(manifest.chunks[0]!)!;
    await backend.remove(layout.pack(loc.pack));
    const r = await fresh(backend, false);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'pack', object: layout.pack(loc.pack) }));
    expect(r.findings.find((f) => f.kind === 'pack')!.reason).toMatch(/is missing/);
    expect(r.findings).toContainEqual(expect.objectContaining({ kind: 'stream', snapshot: s1, section: 'db' }));
  });
});
