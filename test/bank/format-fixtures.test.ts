/**
 * Banks written by earlier releases must stay readable: test/fixtures/bank-v1 is a small bank written
 * by the format-1 code (repository format 1, checkpoint records format 1; passphrase
 * "hoard-fixture-v1"). Every later version must check it clean (reading every blob), restore its
 * snapshot byte for byte with modes, times and the symlink, and read its checkpoint record. Never
 * regenerate this fixture to make a test pass: a failure here means old banks broke.
 */
import { cp, lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { CheckpointRecords } from '../../src/bank/records/index.js';
import { Repository, check, listSnapshots, restoreTree } from '../../src/bank/repo/index.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'bank-v1');
const PASS = 'hoard-fixture-v1';
const SNAPSHOT = '81d4af2cf7e2b146350dabe25a05ec8c39d7bc3218718af77bde2cbf838d984d';
const temps: string[] = [];
afterAll(async () => { for (const t of temps) await rm(t, { recursive: true, force: true }); });

/** The generator's data: a deterministic LCG stream, so the expected bytes need no second copy. */
function randomBin(): Buffer {
  let x = 12345;
  const out = Buffer.alloc(200_000);
  for (let i = 0; i < out.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; out[i] = x & 0xff; }
  return out;
}

async function copyOfFixture(): Promise<string> {
  // A copy, so that opening (which may write leases) never changes the committed fixture.
  const dir = await mkdtemp(join(tmpdir(), 'hoard-fixture-'));
  temps.push(dir);
  await cp(FIXTURE, join(dir, 'bank'), { recursive: true });
  return join(dir, 'bank');
}

describe('bank format 1 fixture', () => {
  it('checks clean, restores byte for byte, and keeps its checkpoint record', async () => {
    const bank = await copyOfFixture();
    const repo = await Repository.open(fsBackend({ root: bank }), PASS, { workers: 0 });
    const result = await check(repo, { readData: true });
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);

    const snaps = await listSnapshots(repo);
    expect(snaps.map((s) => s.id)).toEqual([SNAPSHOT]);
    const section = snaps[0]!.snapshot.sections.tree!;
    const target = join(bank, '..', 'restored');
    await restoreTree(repo, section.root, target);
    expect(await readFile(join(target, 'hello.txt'), 'utf8')).toBe('hello, bank format v1\n');
    expect((await stat(join(target, 'hello.txt'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(target, 'hello.txt'))).mtime.toISOString()).toBe('2021-02-03T04:05:06.000Z');
    expect((await readFile(join(target, 'docs', 'random.bin'))).equals(randomBin())).toBe(true);
    expect((await readFile(join(target, 'docs', 'zeros.bin'))).equals(Buffer.alloc(100_000))).toBe(true);
    expect(await readFile(join(target, 'odd name ü.txt'), 'utf8')).toBe('odd\n');
    expect(await readlink(join(target, 'link'))).toBe('hello.txt');
    expect((await lstat(join(target, 'docs', 'empty'))).isDirectory()).toBe(true);

    const records = new CheckpointRecords(repo);
    expect(await records.ids()).toEqual(['11111111-2222-4333-8444-555555555555']);
    const stored = (await records.read('11111111-2222-4333-8444-555555555555'))!;
    expect(stored.status).toBe('available');
    expect(stored.manifest).toMatchObject({ projectId: 'fixture', planId: '66666666-7777-4888-9999-000000000000', createdAt: '2026-11-30T00:00:00.000Z' });
    expect(stored.resources.get('Hoard::FileSystem::Directory#x')).toEqual({ snapshot: SNAPSHOT, files: 4, bytes: 300_026 });
    await repo.close();
  });

  it('refuses a wrong passphrase with a clear error', async () => {
    const bank = await copyOfFixture();
    await expect(Repository.open(fsBackend({ root: bank }), 'not the passphrase', { workers: 0 })).rejects.toThrow(/passphrase|key/i);
  });
});
