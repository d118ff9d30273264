/**
 * ProviderBanks, the engine side of HookContext.data: a bank created on first use with a private key
 * file (or opened with a passphrase), snapshots with their parent, the three restore conflict
 * policies, idempotent forget, and clear refusals (no bank, missing key file).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { Repository, loadSnapshot } from '../../src/bank/repo/index.js';
import { providerBanks, type ProviderBanks } from '../../src/engine/index.js';
import { damagePacks } from '../helpers/bank-damage.js';
import type { Progress } from '../../src/plugins/sdk/index.js';

let dir: string;
let banks: ProviderBanks | undefined;
const P = 'provider-1';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hoard-bank-data-'));
  await mkdir(join(dir, 'src', 'sub'), { recursive: true });
  await writeFile(join(dir, 'src', 'a.txt'), 'alpha');
  await writeFile(join(dir, 'src', 'sub', 'b.txt'), 'beta');
  await symlink('a.txt', join(dir, 'src', 'link'));
});
afterEach(async () => {
  await banks?.close();
  banks = undefined;
  await rm(dir, { recursive: true, force: true });
});

const fsSpec = (bank: string) => ({ providerId: P, label: bank, keyFile: `${bank}.key`, backend: async () => fsBackend({ root: bank }) });

describe('providerBanks', () => {
  it('creates the bank and a 0600 key file on first use, reports progress, and records the parent snapshot', async () => {
    const bank = join(dir, 'bank');
    banks = providerBanks([fsSpec(bank)]);
    const seen: Progress[] = [];
    const data = banks.handle(P, (p) => seen.push(p));
    const first = await data.backupTree(join(dir, 'src'));
    expect(first).toMatchObject({ files: 2, bytes: 9 });
    expect((await stat(`${bank}.key`)).mode & 0o777).toBe(0o600);
    expect(seen.at(-1)).toMatchObject({ bytesDone: 9 });
    const second = await data.backupTree(join(dir, 'src'), { parent: first.snapshot });
    expect(second.snapshot).not.toBe(first.snapshot);
    const repo = await Repository.open(fsBackend({ root: bank }), await readFile(`${bank}.key`), { workers: 0 });
    expect((await loadSnapshot(repo, second.snapshot)).parent).toBe(first.snapshot);
    expect((await loadSnapshot(repo, first.snapshot)).parent).toBeUndefined();
  });

  it('restores, verifies and copies what another process backed up after this one opened the bank', async () => {
    const bank = join(dir, 'bank');
    banks = providerBanks([fsSpec(bank), { ...fsSpec(join(dir, 'bank-2')), providerId: 'provider-2' }]);
    const mine = banks.handle(P, () => {});
    await mine.backupTree(join(dir, 'src'));
    // Another process (its own ProviderBanks and session) writes new data to the same bank.
    const other = providerBanks([fsSpec(bank)]);
    await writeFile(join(dir, 'src', 'new.bin'), Buffer.alloc(200_000, 7));
    const { snapshot } = await other.handle(P, () => {}).backupTree(join(dir, 'src'));
    await other.close();
    const target = join(dir, 'restored');
    expect(await mine.restoreTree(snapshot, target, { conflict: 'fail' })).toEqual({ files: 3, bytes: 200_009 });
    expect((await readFile(join(target, 'new.bin'))).equals(Buffer.alloc(200_000, 7))).toBe(true);
    expect((await mine.verifyTree(snapshot)).damaged).toEqual([]);
    const copied = await banks.handle('provider-2', () => {}, async () => P).copyTree(snapshot);
    expect(copied).toMatchObject({ files: 3, bytes: 200_009 });
    // An incremental backup on top of the other process's snapshot reads its trees.
    await writeFile(join(dir, 'src', 'a.txt'), 'alpha 2');
    const next = await mine.backupTree(join(dir, 'src'), { parent: snapshot });
    const repo = await Repository.open(fsBackend({ root: bank }), await readFile(`${bank}.key`), { workers: 0 });
    expect((await loadSnapshot(repo, next.snapshot)).parent).toBe(snapshot);
  });

  it('restores into a new directory, and applies fail, skip and overwrite to a non-empty one', async () => {
    banks = providerBanks([{ ...fsSpec(join(dir, 'bank')), passphrase: 'correct horse' }]);
    const data = banks.handle(P, () => {});
    const { snapshot } = await data.backupTree(join(dir, 'src'));

    const fresh = join(dir, 'fresh');
    expect(await data.restoreTree(snapshot, fresh, { conflict: 'fail' })).toEqual({ files: 2, bytes: 9 });
    expect(await readFile(join(fresh, 'sub', 'b.txt'), 'utf8')).toBe('beta');
    expect(await readlink(join(fresh, 'link'))).toBe('a.txt');

    const busy = join(dir, 'busy');
    await mkdir(join(busy, 'sub'), { recursive: true });
    await writeFile(join(busy, 'a.txt'), 'mine');
    await writeFile(join(busy, 'sub', 'own.txt'), 'own');
    await expect(data.restoreTree(snapshot, busy, { conflict: 'fail' })).rejects.toThrow(`Restore target ${busy} exists and is not empty`);
    expect(await readdir(busy)).toEqual(['a.txt', 'sub']);

    await data.restoreTree(snapshot, busy, { conflict: 'skip' });
    expect(await readFile(join(busy, 'a.txt'), 'utf8')).toBe('mine');
    expect(await readFile(join(busy, 'sub', 'b.txt'), 'utf8')).toBe('beta');
    expect(await readFile(join(busy, 'sub', 'own.txt'), 'utf8')).toBe('own');
    expect((await lstat(join(busy, 'link'))).isSymbolicLink()).toBe(true);

    await data.restoreTree(snapshot, busy, { conflict: 'overwrite' });
    expect(await readFile(join(busy, 'a.txt'), 'utf8')).toBe('alpha');
    expect(await readFile(join(busy, 'sub', 'own.txt'), 'utf8')).toBe('own');
    // No staging directory is left beside the target.
    expect((await readdir(dir)).filter((n) => n.includes('hoard-restore'))).toEqual([]);
  });

  it('verifies a snapshot by reading it back, and names the damaged file after a byte flips in its pack', async () => {
    const bank = join(dir, 'bank');
    // Incompressible, so that its data fills nearly all of the pack and the middle byte is surely in it.
    await writeFile(join(dir, 'src', 'big.bin'), randomBytes(300_000));
    banks = providerBanks([fsSpec(bank)]);
    const seen: Progress[] = [];
    const data = banks.handle(P, (p) => seen.push(p));
    const { snapshot } = await data.backupTree(join(dir, 'src'));
    expect(await data.verifyTree(snapshot)).toEqual({ files: 3, bytes: 300_009, damaged: [] });
    expect(seen.at(-1)).toMatchObject({ bytesDone: 300_009, bytesTotal: 300_009 });
    // Flip one byte in the middle of every pack: the big file's data lives there.
    expect((await damagePacks(bank)).packs).toBeGreaterThan(0);
    await banks.close();
    banks = providerBanks([fsSpec(bank)]);
    const r = await banks.handle(P, () => {}).verifyTree(snapshot);
    expect(r.damaged).toContain('big.bin');
    expect(r.files).toBe(3);
    await expect(banks.handle(P, () => {}).verifyTree('f'.repeat(64))).rejects.toThrow(`Snapshot ${'f'.repeat(64)} cannot be read`);
  });

  it('forgets a snapshot, twice without error', async () => {
    const bank = join(dir, 'bank');
    banks = providerBanks([fsSpec(bank)]);
    const data = banks.handle(P, () => {});
    const { snapshot } = await data.backupTree(join(dir, 'src'));
    await data.forget(snapshot);
    await data.forget(snapshot);
    await expect(data.restoreTree(snapshot, join(dir, 'gone'), { conflict: 'fail' })).rejects.toThrow();
  });

  it('refuses a provider without a bank, and a bank whose key file is missing', async () => {
    banks = providerBanks([fsSpec(join(dir, 'bank'))]);
    await expect(banks.handle('other', () => {}).forget('x')).rejects.toThrow('Provider other has no bank configured');
    await banks.handle(P, () => {}).backupTree(join(dir, 'src'));
    await banks.close();
    await rm(join(dir, 'bank.key'));
    banks = providerBanks([fsSpec(join(dir, 'bank'))]);
    await expect(banks.handle(P, () => {}).backupTree(join(dir, 'src'))).rejects.toThrow(`its key file ${join(dir, 'bank')}.key is missing`);
  });
});
