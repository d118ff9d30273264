import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import {
  Repository, backupTree, isRepoError, layout, readPackHeader, restoreTree, writeStream, readStream,
} from '../../../src/bank/repo/index.js';
import { fileTree, newRepo, seeded, tempDir } from './helpers.js';

async function flip(backend: BankBackend, key: string, at: (size: number) => number): Promise<void> {
  const bytes = Buffer.from(await backend.get(key));
  bytes[at(bytes.length)]! ^= 0x01;
  await backend.put(key, bytes);
}

async function keysUnder(backend: BankBackend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list(prefix)) out.push(info.key);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

describe('damage is detected and named', () => {
  it('a flipped byte in a pack fails the blob with the pack named, and restore stops', async () => {
    const { repo, backend } = await newRepo();
    const src = await tempDir('src');
    await fileTree(src, { 'only.bin': seeded(200 * 1024, 'one') });
    const { root } = await backupTree(repo, src);
    await repo.flush();
    const [pack] = await keysUnder(backend, layout.dataPrefix);
    await flip(backend, pack!, () => 100);

    const reader = await Repository.open(backend, 'correct horse');
    const err = await errorOf(restoreTree(reader, root, await tempDir('dst')));
    expect(isRepoError(err, 'corrupt')).toBe(true);
    expect((err as Error).message).toContain(pack!);
    expect((err as Error).message).toMatch(/data blob [0-9a-f]{64}/);
  });

  it('a flipped byte in a pack header is found by reading the header', async () => {
    const { repo, backend } = await newRepo();
    await repo.saveBlob('data', Buffer.from('x'.repeat(1000)));
    await repo.flush();
    const [pack] = await keysUnder(backend, layout.dataPrefix);
    const id = pack!.split('/').pop()!;
    expect(await readPackHeader(backend, id, repo.config.keys.enc)).toHaveLength(1);
    await flip(backend, pack!, (size) => size - 10);
    const err = await errorOf(readPackHeader(backend, id, repo.config.keys.enc));
    expect(isRepoError(err, 'corrupt')).toBe(true);
    expect((err as Error).message).toContain(`${pack}: pack header authentication failed`);
  });

  it('a damaged index file stops open with the file named', async () => {
    const { repo, backend } = await newRepo();
    await repo.saveBlob('data', Buffer.from('indexed'));
    await repo.close();
    const [index] = await keysUnder(backend, layout.indexPrefix);
    await flip(backend, index!, () => 20);
    const err = await errorOf(Repository.open(backend, 'correct horse'));
    expect(isRepoError(err, 'corrupt')).toBe(true);
    expect((err as Error).message).toContain(index!);
  });

  it('a truncated pack and a damaged stream chunk are reported, not returned as data', async () => {
    const { repo, backend } = await newRepo();
    async function* one(): AsyncGenerator<Buffer> {
      yield seeded(300 * 1024, 'stream');
    }
    const { id } = await writeStream(repo, one());
    await repo.flush();
    const packs = await keysUnder(backend, layout.dataPrefix);
    for (const key of packs) {
      const bytes = Buffer.from(await backend.get(key));
      await backend.put(key, bytes.subarray(0, 50));
    }
    const reader = await Repository.open(backend, 'correct horse');
    const chunks: Buffer[] = [];
    const err = await errorOf((async () => {
      for await (const c of readStream(reader, id)) chunks.push(c as Buffer);
    })());
    expect(isRepoError(err, 'corrupt')).toBe(true);
    expect((err as Error).message).toMatch(/truncated|authentication failed/);
    expect(chunks).toEqual([]);
  });

  it('a missing pack is named too', async () => {
    const { repo, backend } = await newRepo();
    const { id } = await repo.saveBlob('data', Buffer.from('gone'));
    await repo.flush();
    const [pack] = await keysUnder(backend, layout.dataPrefix);
    await backend.remove(pack!);
    const err = await errorOf(repo.loadBlob(id));
    expect(isRepoError(err, 'missing')).toBe(true);
    expect((err as Error).message).toContain(pack!);
  });
});
