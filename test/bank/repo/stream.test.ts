import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Repository, readStream, writeStream, type Progress } from '../../../src/bank/repo/index.js';
import { memBackend } from '../../../src/bank/mem/index.js';
import { SMALL, newRepo, seeded } from './helpers.js';

async function* pieces(total: number, seed: string, piece = 100_000): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < total; at += piece, i++) {
    const n = Math.min(piece, total - at);
    // Half random, half text: exercises both the compressed and the stored-raw paths.
    yield i % 2 ? seeded(n, `${seed}:${i}`) : Buffer.from(`line ${i} of a dump\n`.repeat(Math.ceil(n / 10))).subarray(0, n);
  }
}

async function digest(stream: AsyncIterable<Buffer>): Promise<{ sha: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const b of stream) {
    h.update(b);
    bytes += b.length;
  }
  return { sha: h.digest('hex'), bytes };
}

describe('streams', () => {
  it('writes a stream and reads it back identical, with progress both ways', async () => {
    const { repo, backend } = await newRepo();
    const size = 3 * 1024 * 1024 + 17;
    const expected = await digest(pieces(size, 's'));
    const wrote: Progress[] = [];
    const { id, stats } = await writeStream(repo, pieces(size, 's'), { sizeHint: size, onProgress: (p) => wrote.push(p) });
    await repo.flush();
    expect(stats.bytes).toBe(size);
    expect(stats.chunks).toBeGreaterThan(5);
    expect(wrote.at(-1)).toMatchObject({ bytesDone: size, bytesTotal: size });

    const reader = await Repository.open(backend, 'correct horse');
    const read: Progress[] = [];
    expect(await digest(readStream(reader, id, { onProgress: (p) => read.push(p) }))).toEqual(expected);
    expect(read.at(-1)).toMatchObject({ bytesDone: size, bytesTotal: size });
  });

  it('stores a repeated stream as nothing new and an empty stream as a valid one', async () => {
    const { repo } = await newRepo();
    const first = await writeStream(repo, pieces(2 * 1024 * 1024, 'r'));
    const second = await writeStream(repo, pieces(2 * 1024 * 1024, 'r'));
    expect(second.id).toBe(first.id);
    expect(second.stats.newBytes).toBe(0);
    const empty = await writeStream(repo, pieces(0, 'e'));
    await repo.flush();
    expect(await digest(readStream(repo, empty.id))).toEqual({ sha: createHash('sha256').digest('hex'), bytes: 0 });
  });

  it('pulls from the source only as fast as chunks are packed (bounded memory)', async () => {
    // Storage is not under test here, only the pipeline's backpressure, so the fast mem bank will do.
    const repo = await Repository.init(memBackend(), 'p', SMALL);
    let pulled = 0;
    let maxAhead = 0;
    const source = async function* (): AsyncGenerator<Buffer> {
      for (let i = 0; i < 160; i++) {
        pulled += 1024 * 1024;
        maxAhead = Math.max(maxAhead, pulled - repo.stats.rawBytesAdded);
        yield seeded(1024 * 1024, `m${i}`);
      }
    };
    const { stats } = await writeStream(repo, source());
    expect(stats.bytes).toBe(160 * 1024 * 1024);
    // 64 MiB in-flight budget + the chunker's buffer + one piece: well below the 160 MiB pulled.
    expect(maxAhead).toBeLessThan(80 * 1024 * 1024);
  }, 120_000);
});
