/**
 * Path filters of the data path: a backup's `exclude` patterns leave entries (and everything under an
 * excluded directory) out of the snapshot; `oneFileSystem` keeps a mount point as an empty directory;
 * a granular restore's `include` writes only the selected entries and the directories leading to them,
 * and its progress totals count the selection. Patterns follow util/globs.ts (restic-like).
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupTree, loadTree, restoreTree, type Progress } from '../../../src/bank/repo/index.js';
import { pathMatcher } from '../../../src/util/globs.js';
import { describeTree, fileTree, newRepo, tempDir } from './helpers.js';

async function listAll(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(e.isDirectory() ? `${r}/` : r);
    if (e.isDirectory()) out.push(...(await listAll(dir, r)));
  }
  return out;
}

const SPEC = {
  'keep.txt': 'keep',
  'scratch.tmp': 'tmp at the top',
  'docs/guide.md': 'guide',
  'docs/old.tmp': 'tmp below',
  'cache/blob': 'cache at the top',
  'src/cache/blob': 'a cache dir that is not at the top',
  'build/out.o': 'build dir',
  'src/build': 'a file named build',
  'logs/a.gz': 'rotated',
  'logs/a.log': 'live',
  'logs/deeper/b.gz': 'rotated, deeper',
};

describe('backup exclude and restore include', () => {
  it('excludes by name at any depth, anchored paths, and directories only', async () => {
    const { repo } = await newRepo('filters');
    const dir = await tempDir('filters-src');
    await fileTree(dir, SPEC);
    const { root, stats } = await backupTree(repo, dir, { exclude: pathMatcher(['*.tmp', '/cache', 'build/', 'logs/*.gz']) });
    await repo.flush();
    const out = await tempDir('filters-out');
    await rm(out, { recursive: true });
    await restoreTree(repo, root, out);
    expect(await listAll(out)).toEqual([
      'docs/', 'docs/guide.md', 'keep.txt', 'logs/', 'logs/a.log', 'logs/deeper/', 'logs/deeper/b.gz',
      'src/', 'src/build', 'src/cache/', 'src/cache/blob',
    ]);
    // scratch.tmp, docs/old.tmp, cache, build and logs/a.gz were left out.
    expect(stats.excluded).toBe(5);
  });

  it('restores only what include selects, with the directories leading to it, and counts the selection', async () => {
    const { repo } = await newRepo('filters');
    const dir = await tempDir('include-src');
    await fileTree(dir, SPEC);
    const { root } = await backupTree(repo, dir);
    await repo.flush();
    const out = await tempDir('include-out');
    await rm(out, { recursive: true });
    const seen: Progress[] = [];
    const stats = await restoreTree(repo, root, out, { include: pathMatcher(['*.gz', 'docs/']), onProgress: (p) => seen.push(p), bytesTotal: 1e9 });
    expect(await listAll(out)).toEqual(['docs/', 'docs/guide.md', 'docs/old.tmp', 'logs/', 'logs/a.gz', 'logs/deeper/', 'logs/deeper/b.gz']);
    const bytes = ['guide', 'tmp below', 'rotated', 'rotated, deeper'].reduce((n, s) => n + s.length, 0);
    expect(stats).toMatchObject({ files: 4, bytes });
    expect(seen.at(-1)).toMatchObject({ bytesDone: bytes, bytesTotal: bytes });
    // A selection that matches nothing writes nothing but the target itself.
    const none = await tempDir('include-none');
    expect(await restoreTree(repo, root, none, { include: pathMatcher(['*.nothing']) })).toMatchObject({ files: 0 });
    expect(await readdir(none)).toEqual([]);
    // Without include the whole tree comes back.
    const all = await tempDir('include-all');
    await rm(all, { recursive: true });
    await restoreTree(repo, root, all);
    expect(await describeTree(all)).toEqual(await describeTree(dir));
  });

  it('keeps a mount point below the directory as an empty directory with oneFileSystem', async () => {
    // /dev holds mount points (shm, pts, mqueue) on Linux machines and containers alike; find one.
    const candidates = ['shm', 'pts', 'mqueue', 'hugepages'];
    const devDev = (await lstat('/dev')).dev;
    let mount: string | undefined;
    for (const c of candidates) {
      const st = await lstat(join('/dev', c)).catch(() => undefined);
      if (st?.isDirectory() && st.dev !== devDev) { mount = c; break; }
    }
    if (!mount) {
      console.warn('no mount point below /dev on this machine; oneFileSystem not exercised');
      return;
    }
    const { repo } = await newRepo('filters');
    const { root, stats } = await backupTree(repo, '/dev', { oneFileSystem: true, exclude: pathMatcher(candidates.filter((c) => c !== mount)) });
    const node = (await loadTree(repo, root)).nodes.find((n) => n.name === mount);
    expect(node?.type).toBe('dir');
    expect((await loadTree(repo, (node as { subtree: string }).subtree)).nodes).toEqual([]);
    expect(stats.excluded).toBeGreaterThanOrEqual(1);
  });
});
