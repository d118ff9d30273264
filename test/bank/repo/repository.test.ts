import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Repository, addKey, isRepoError, layout } from '../../../src/bank/repo/index.js';
import { memBackend } from '../../../src/bank/mem/index.js';
import { SMALL, allObjects, newRepo, seeded, tempBank } from './helpers.js';

describe('Repository', () => {
  it('stores, deduplicates and reloads blobs across sessions', async () => {
    const { repo, backend } = await newRepo();
    const big = seeded(300 * 1024, 'big');
    const small = Buffer.from('a small blob');
    const a = await repo.saveBlob('data', Buffer.from(big));
    const b = await repo.saveBlob('data', Buffer.from(small));
    expect(a.added && b.added).toBe(true);
    expect((await repo.saveBlob('data', Buffer.from(big))).added).toBe(false);
    expect((await repo.saveBlob('data', Buffer.from(small))).added).toBe(false);
    await repo.close();

    const again = await Repository.open(backend, 'correct horse', { workers: 0 });
    expect(again.hasBlob(a.id) && again.hasBlob(b.id)).toBe(true);
    expect((await again.loadBlob(a.id)).equals(big)).toBe(true);
    expect((await again.loadBlob(b.id)).equals(small)).toBe(true);
    expect((await again.saveBlob('data', Buffer.from(big))).added).toBe(false);
    await again.close();
  });

  it('gives the same result with and without worker threads', async () => {
    const { repo } = await newRepo();
    const data = seeded(200 * 1024, 'w');
    const viaWorker = await repo.saveBlob('data', Buffer.from(data));
    await repo.flush();
    const inline = await Repository.open(repo.backend, 'correct horse', { workers: 0 });
    expect((await inline.saveBlob('data', Buffer.from(data))).id).toBe(viaWorker.id);
    expect((await inline.loadBlob(viaWorker.id)).equals(data)).toBe(true);
  });

  it('refuses a wrong passphrase with a typed error and no data', async () => {
    const { repo, backend } = await newRepo();
    await repo.close();
    const err = await Repository.open(backend, 'wrong horse').catch((e: unknown) => e);
    expect(isRepoError(err, 'wrong_key')).toBe(true);
    expect((err as Error).message).toMatch(/passphrase or key file does not open this bank/);
    expect((err as Error).message).not.toContain('correct horse');
  });

  it('refuses to open a bank that is not a repository, and to init one twice', async () => {
    const { backend } = await tempBank();
    expect(isRepoError(await Repository.open(backend, 'x').catch((e: unknown) => e), 'format')).toBe(true);
    const repo = await Repository.init(backend, 'x', { ...SMALL, workers: 0 });
    await repo.close();
    expect(isRepoError(await Repository.init(backend, 'y', SMALL).catch((e: unknown) => e), 'format')).toBe(true);
  });

  it('opens with any added key and with a key file, without rewriting data', async () => {
    const { repo, backend } = await newRepo();
    const { id } = await repo.saveBlob('data', Buffer.from('kept across keys'));
    await repo.close();
    const before = await allObjects(backend);
    const master = await masterOf(backend);
    const keyFile = seeded(64, 'keyfile');
    await addKey(backend, master, 'second passphrase', SMALL.scrypt);
    await addKey(backend, master, keyFile);
    for (const cred of ['second passphrase', keyFile, 'correct horse'] as const) {
      const r = await Repository.open(backend, cred, { workers: 0 });
      expect((await r.loadBlob(id)).toString()).toBe('kept across keys');
    }
    const after = await allObjects(backend);
    for (const [key, bytes] of before) expect(after.get(key)?.equals(bytes)).toBe(true);
    expect([...after.keys()].filter((k) => k.startsWith(layout.keysPrefix))).toHaveLength(3);
  });

  it('hides plaintext and plaintext hashes from whoever reads the bank', async () => {
    const { repo, backend } = await newRepo();
    const secret = 'TOP-SECRET-MARKER-4f1c';
    const text = Buffer.from(`${secret}\n`.repeat(5000));
    const { id } = await repo.saveBlob('data', text);
    await repo.saveBlob('data', Buffer.from(secret));
    await repo.close();
    const sha = createHash('sha256').update(text).digest('hex');
    expect(id).not.toBe(sha);
    for (const [key, bytes] of await allObjects(backend)) {
      expect(bytes.includes(secret), key).toBe(false);
      expect(bytes.includes(Buffer.from(sha, 'hex')), key).toBe(false);
      expect(bytes.toString('latin1').includes(sha), key).toBe(false);
    }
  });

  it('works on the mem backend too', async () => {
    const backend = memBackend();
    const repo = await Repository.init(backend, 'p', { ...SMALL, workers: 0 });
    const { id } = await repo.saveBlob('tree', Buffer.from('{"nodes":[]}'));
    await repo.close();
    expect(backend.keys().some((k) => k.startsWith('data/'))).toBe(true);
    expect((await (await Repository.open(backend, 'p', { workers: 0 })).loadBlob(id)).toString()).toBe('{"nodes":[]}');
  });
});

// Rotating credentials needs the master key; the only way in from outside is unlocking.
async function masterOf(backend: Parameters<typeof Repository.open>[0]): Promise<Buffer> {
  const { unlock } = await import('../../../src/bank/repo/keys.js');
  return unlock(backend, 'correct horse');
}
