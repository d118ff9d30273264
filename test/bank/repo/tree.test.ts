import { stat, writeFile, utimes, appendFile, truncate, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Repository, backupTree, listSnapshots, loadSnapshot, loadTree, restoreTree, saveSnapshot, type Progress,
} from '../../../src/bank/repo/index.js';
import { describeTree, fileTree, newRepo, seeded, tempDir } from './helpers.js';

const T = 1_600_000_000;

async function sampleTree(root: string): Promise<void> {
  await fileTree(root, {
    'readme.txt': 'hello\n',
    'empty.txt': '',
    'docs/a.md': { content: '# a\n'.repeat(1000), mode: 0o640, mtime: T },
    'docs/deep/deeper/b.bin': seeded(700 * 1024, 'b'),
    'docs/deep/deeper/b-copy.bin': seeded(700 * 1024, 'b'),
    'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755, mtime: T + 1 },
    'empty-dir': { dir: true, mode: 0o750, mtime: T + 2 },
    'links/to-readme': { symlink: '../readme.txt' },
    'links/dangling': { symlink: 'does/not/exist' },
    'private': { dir: true, mode: 0o500, mtime: T + 3 },
  });
  // Names are bytes: invalid UTF-8 and control characters must survive.
  await writeFile(Buffer.concat([Buffer.from(`${root}/odd-`), Buffer.from([0xff, 0x01, 0x0a]), Buffer.from('.txt')]), 'odd bytes');
  await writeFile(join(root, 'ünïcødé ✓.txt'), 'unicode');
  // A sparse 5 MiB file with data at both ends.
  const fh = await openFile(join(root, 'sparse.img'), 'w');
  await fh.write(Buffer.from('start'), 0, 5, 0);
  await fh.write(Buffer.from('end'), 0, 3, 5 * 1024 * 1024 - 3);
  await fh.close();
}

describe('file tree backup and restore', () => {
  it('restores a tree byte-identical with modes, mtimes, symlinks, empty dirs and odd names', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    await sampleTree(src);
    const progress: Progress[] = [];
    const { root, stats } = await backupTree(repo, src, { onProgress: (p) => progress.push(p) });
    await repo.flush();
    expect(stats.files).toBe(9);
    expect(stats.symlinks).toBe(2);
    expect(progress.at(-1)?.bytesDone).toBe(stats.bytes);

    const reopened = await Repository.open(repo.backend, 'correct horse');
    const dst = join(await tempDir('dst'), 'restored');
    const rs = await restoreTree(reopened, root, dst, { bytesTotal: stats.bytes });
    expect(rs.bytes).toBe(stats.bytes);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
    // The zero middle of the sparse file came back as a hole, not as written zeros.
    const sparse = await stat(join(dst, 'sparse.img'));
    expect(sparse.size).toBe(5 * 1024 * 1024);
    expect(sparse.blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('adds almost nothing when the same data is backed up again', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    await sampleTree(src);
    await backupTree(repo, src);
    await repo.flush();
    const before = { ...repo.stats };
    // No parent: every file is read and chunked again, so only deduplication can avoid storing it.
    const second = await backupTree(repo, src);
    await repo.flush();
    expect(second.stats.newBytes).toBe(0);
    expect(repo.stats.rawBytesAdded - before.rawBytesAdded).toBe(0);
    expect(repo.stats.packsWritten).toBe(before.packsWritten);
    // The copy of b.bin deduplicated inside the first run too: stored raw bytes are well under the tree size.
    expect(before.rawBytesAdded).toBeLessThan(second.stats.bytes - 600 * 1024);
  });

  it('reuses unchanged files from the parent and reads changed ones', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    await sampleTree(src);
    const first = await backupTree(repo, src);
    const id1 = await saveSnapshot(repo, { tags: ['t'], sections: { files: { kind: 'tree', root: first.root, bytes: first.stats.bytes, items: first.stats.files } } });

    await appendFile(join(src, 'readme.txt'), 'changed\n');
    await writeFile(join(src, 'docs/new.txt'), 'new file');
    const snap = await loadSnapshot(repo, id1);
    const second = await backupTree(repo, src, { parent: snap.sections.files!.root });
    await saveSnapshot(repo, { parent: id1, tags: [], sections: { files: { kind: 'tree', root: second.root, bytes: second.stats.bytes, items: second.stats.files } } });
    expect(second.stats.files).toBe(10);
    expect(second.stats.filesUnchanged).toBe(8);

    const dst = await tempDir('dst');
    await restoreTree(repo, second.root, dst);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
    const listed = await listSnapshots(repo);
    expect(listed.map((s) => s.id)).toContain(id1);
    expect(listed).toHaveLength(2);
  });

  it('notices a change that keeps size and mtime only through the inode', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    await fileTree(src, { 'f.txt': { content: 'aaaa', mtime: T } });
    const first = await backupTree(repo, src);
    // Same size, same mtime, new inode (write a new file and rename over): must be read again.
    await fileTree(src, { 'g.txt': { content: 'bbbb', mtime: T } });
    const { rename } = await import('node:fs/promises');
    await rename(join(src, 'g.txt'), join(src, 'f.txt'));
    const second = await backupTree(repo, src, { parent: first.root });
    expect(second.stats.filesUnchanged).toBe(0);
    const dst = await tempDir('dst');
    await restoreTree(repo, second.root, dst);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
  });

  it('keeps the parent tree of an unchanged directory, and a new one for any change the parent cannot show', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    await fileTree(src, {
      'same/a.txt': { content: 'a', mtime: T },
      'same/deeper/b.txt': { content: 'b', mtime: T },
      'mode/c.txt': { content: 'c', mode: 0o644, mtime: T },
      'gone/d.txt': { content: 'd', mtime: T },
      'gone/e.txt': { content: 'e', mtime: T },
      'link/l': { symlink: 'one' },
    });
    const first = await backupTree(repo, src);
    const subtree = async (root: string, name: string): Promise<string> => {
      const n = (await loadTree(repo, root)).nodes.find((x) => x.name === name)!;
      return n.type === 'dir' ? n.subtree : '';
    };
    // Only a mode, a removed file, and a symlink target change: sizes, mtimes and inodes of the rest stay.
    const { chmod, rm, symlink, unlink } = await import('node:fs/promises');
    await chmod(join(src, 'mode/c.txt'), 0o600);
    await rm(join(src, 'gone/e.txt'));
    await unlink(join(src, 'link/l'));
    await symlink('two', join(src, 'link/l'));
    for (const d of ['mode', 'gone', 'link']) await utimes(join(src, d), T, T);
    const second = await backupTree(repo, src, { parent: first.root });
    expect(await subtree(second.root, 'same')).toBe(await subtree(first.root, 'same'));
    for (const d of ['mode', 'gone', 'link']) expect(await subtree(second.root, d)).not.toBe(await subtree(first.root, d));
    const dst = await tempDir('dst');
    await restoreTree(repo, second.root, dst);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
  });

  it('chunks a large file into many blobs and restores it exactly', async () => {
    const { repo } = await newRepo();
    const src = await tempDir('src');
    const big = Buffer.concat([seeded(3 * 1024 * 1024, 'big'), Buffer.from('text '.repeat(300_000))]);
    await writeFile(join(src, 'big'), big);
    await truncate(join(src, 'big'), big.length);
    await utimes(join(src, 'big'), T, T);
    const { root } = await backupTree(repo, src);
    expect(repo.stats.blobsAdded).toBeGreaterThan(10);
    const dst = await tempDir('dst');
    await restoreTree(repo, root, dst);
    expect(await describeTree(dst)).toEqual(await describeTree(src));
  });
});
