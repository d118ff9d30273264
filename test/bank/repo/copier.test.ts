/**
 * copyTree between two repositories with different keys: the copy restores to the same tree (names,
 * modes, times, links, bytes); with the previous copy as parent only changed chunks are read from the
 * source; without it every chunk is read again but nothing is stored twice; and damage in the source
 * fails the copy naming the pack instead of copying it.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupTree, copyTree, restoreTree } from '../../../src/bank/repo/index.js';
import { damagePacks } from '../../helpers/bank-damage.js';
import { describeTree, fileTree, newRepo, seeded, tempDir } from './helpers.js';

describe('copyTree', () => {
  it('copies a tree into a repository with other keys, and a second copy reads only what changed', async () => {
    const { repo: src } = await newRepo('source');
    const { repo: dst } = await newRepo('destination');
    const dir = await tempDir('copy-src');
    await fileTree(dir, {
      'a/big.bin': seeded(2_000_000, 'big'),
      'a/b/small.txt': 'hello\n',
      'c/other.bin': seeded(300_000, 'other'),
      'link': { symlink: 'a/b/small.txt' },
      'empty': { dir: true, mode: 0o700 },
    });
    const first = await backupTree(src, dir);
    await src.flush();
    const c1 = await copyTree(src, dst, first.root);
    await dst.flush();
    expect(c1.files).toBe(3);
    expect(c1.bytes).toBe(2_000_000 + 6 + 300_000);
    expect(c1.blobsRead).toBeGreaterThan(3);
    const out1 = await tempDir('copy-out1');
    await rm(out1, { recursive: true });
    await restoreTree(dst, c1.root, out1);
    expect(await describeTree(out1)).toEqual(await describeTree(dir));

    // Change one small file; the parent pair makes every unchanged chunk a lookup, not a read.
    await writeFile(join(dir, 'a', 'b', 'small.txt'), 'hello again\n');
    const second = await backupTree(src, dir, { parent: first.root });
    await src.flush();
    const c2 = await copyTree(src, dst, second.root, { parent: { sourceRoot: first.root, copyRoot: c1.root } });
    await dst.flush();
    expect(c2.blobsRead).toBe(1);
    const out2 = await tempDir('copy-out2');
    await rm(out2, { recursive: true });
    await restoreTree(dst, c2.root, out2);
    expect(await describeTree(out2)).toEqual(await describeTree(dir));

    // Without the parent the same copy reads every chunk again (and stores nothing new).
    const before = dst.stats.blobsAdded;
    const c3 = await copyTree(src, dst, second.root);
    expect(c3.blobsRead).toBe(c1.blobsRead);
    expect(c3.root).toBe(c2.root);
    expect(dst.stats.blobsAdded).toBe(before);
  });

  it('refuses to copy damaged source data, naming what is damaged', async () => {
    const { repo: src, root: bank } = await newRepo('source');
    const { repo: dst } = await newRepo('destination');
    const dir = await tempDir('copy-damaged');
    await fileTree(dir, { 'f.bin': seeded(600_000, 'f') });
    const { root } = await backupTree(src, dir);
    await src.flush();
    expect((await damagePacks(bank)).packs).toBeGreaterThan(0);
    await expect(copyTree(src, dst, root)).rejects.toThrow(/data\//);
  });
});
