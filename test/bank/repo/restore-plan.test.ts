/**
 * Edge cases of the pack-ordered restore (restore-plan.ts, worker-restore.ts): one blob written to
 * several places, ranges merged across blobs nobody wants, files spread over several packs and
 * finished only after their last blob, trailing holes. Each runs with and without worker threads.
 */
import { stat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import { Repository, backupTree, layout, loadTree, restoreTree, type TreeNode } from '../../../src/bank/repo/index.js';
import { SMALL, describeTree, fileTree, newRepo, seeded, tempDir } from './helpers.js';

const T = 1_650_000_000;

// counting wraps a backend and counts ranged reads of packs, to see how many requests a restore made.
function counting(inner: BankBackend): { backend: BankBackend; packReads: string[] } {
  const packReads: string[] = [];
  const backend: BankBackend = Object.create(inner) as BankBackend;
  backend.get = (key, range) => {
    if (key.startsWith('data/')) packReads.push(key);
    return inner.get(key, range);
  };
  return { backend, packReads };
}

async function filesOf(repo: Repository, root: string): Promise<Map<string, TreeNode>> {
  const out = new Map<string, TreeNode>();
  const walk = async (id: string, prefix: string): Promise<void> => {
    for (const n of (await loadTree(repo, id)).nodes) {
      out.set(prefix + n.name!, n);
      if (n.type === 'dir') await walk(n.subtree, `${prefix}${n.name!}/`);
    }
  };
  await walk(root, '');
  return out;
}

const content = (n: TreeNode | undefined): readonly string[] => (n?.type === 'file' ? n.content : []);

describe.each([
  ['worker threads', 'shared' as const],
  ['the calling thread', 0 as const],
])('restore plan on %s', (_label, workers) => {
  const opts = { ...SMALL, workers };

  it('writes a blob shared between files, and repeated within one file, to every place', async () => {
    const { repo, backend } = await newRepo('pw', opts);
    const src = await tempDir('src');
    const a = seeded(700 * 1024, 'shared-a');
    // A chunk repeated back to back cuts into that chunk each time (the gear hash restarts at every
    // chunk): one blob at several offsets of one file.
    const x = repo.newChunker().push(seeded(1024 * 1024, 'shared-x'))[0]!;
    const pattern = Buffer.concat([x, x, x, seeded(1000, 'shared-tail'), x]);
    await fileTree(src, {
      'a.bin': { content: a, mtime: T },
      'a-copy.bin': { content: a, mtime: T + 1 },
      'dir/a-again.bin': { content: a, mode: 0o600, mtime: T + 2 },
      'pattern.txt': { content: pattern, mtime: T + 3 },
      'pattern-then-a.bin': Buffer.concat([pattern, a]),
    });
    const { root } = await backupTree(repo, src);
    await repo.flush();
    const files = await filesOf(repo, root);
    const pat = content(files.get('pattern.txt'));
    expect(new Set(pat).size).toBeLessThan(pat.length);
    expect(content(files.get('a-copy.bin'))).toEqual(content(files.get('a.bin')));

    const dst = join(await tempDir('dst'), 'out');
    const reopened = await Repository.open(backend, 'pw', { workers });
    const stats = await restoreTree(reopened, root, dst);
    expect(stats.files).toBe(5);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
  });

  it('reads blobs of one pack with few requests when others lie between them, and writes none of the gap', async () => {
    const { repo: first, backend } = await newRepo('pw', { ...opts, packTarget: 4 * 1024 * 1024 });
    const src = await tempDir('src');
    const spec: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) spec[`f${String(i).padStart(2, '0')}.bin`] = seeded(40 * 1024 + i * 1000, `gap${i}`);
    await fileTree(src, spec);
    await backupTree(first, src);
    await first.flush();
    // The second backup keeps every third file: the others stay in the pack between the wanted ones.
    for (let i = 0; i < 12; i++) if (i % 3 !== 0) await rm(join(src, `f${String(i).padStart(2, '0')}.bin`));
    const repo = await Repository.open(backend, 'pw', opts);
    const { root } = await backupTree(repo, src);
    await repo.flush();

    const { backend: counted, packReads } = counting(backend);
    const reader = await Repository.open(counted, 'pw', { workers });
    const dst = join(await tempDir('dst'), 'out');
    await restoreTree(reader, root, dst);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
    const dataPacks = new Set([...(await filesOf(reader, root)).values()].flatMap((n) => content(n).map((id) => layout.pack(reader.locate(id)!.pack))));
    expect(dataPacks.size).toBe(1);
    // All four files sit in that pack, less than MERGE_GAP apart: one request for all of them.
    expect(packReads.filter((k) => dataPacks.has(k))).toHaveLength(1);
  });

  it('restores files whose blobs span several packs, with attributes set after the last blob and a trailing hole', async () => {
    const { repo, backend } = await newRepo('pw', opts);
    const src = await tempDir('src');
    const big = seeded(3 * 1024 * 1024 + 333, 'span');
    await fileTree(src, {
      'big.bin': { content: big, mode: 0o640, mtime: T + 10 },
      'big-reversed.bin': { content: Buffer.concat([big.subarray(2 * 1024 * 1024), big.subarray(0, 2 * 1024 * 1024)]), mtime: T + 11 },
    });
    // Data, then a zero tail longer than max: its last blobs are holes, so only truncate sets the size.
    await writeFile(join(src, 'tail-hole.img'), Buffer.concat([seeded(600 * 1024, 'head'), Buffer.alloc(1024 * 1024)]));
    const { root } = await backupTree(repo, src);
    await repo.flush();
    const files = await filesOf(repo, root);
    const packs = new Set(content(files.get('big.bin')).map((id) => repo.locate(id)!.pack));
    expect(packs.size).toBeGreaterThan(3);

    const dst = join(await tempDir('dst'), 'out');
    const stats = await restoreTree(await Repository.open(backend, 'pw', { workers }), root, dst);
    expect(stats.bytes).toBe(big.length * 2 + 1624 * 1024);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
    const hole = await stat(join(dst, 'tail-hole.img'));
    expect(hole.size).toBe(1624 * 1024);
    expect(hole.blocks * 512).toBeLessThan(1024 * 1024);
  });
});
