/**
 * The worker-side path (CutFinder over file segments, worker-files.ts readFiles) must cut exactly where
 * the streaming Chunker does: if they ever disagreed, a file backed up through workers would stop
 * deduplicating against the same bytes saved as a stream (or inline), silently doubling the bank.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chunker, CutFinder } from '../../../src/bank/repo/chunker.js';
import { readFiles, sealParked, type ChunkBatch } from '../../../src/bank/repo/worker-files.js';
import { seeded, tempDir } from './helpers.js';

const SMALL = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024, seed: 'cut-seed' };

function chunkerSizes(data: Buffer, p = SMALL, piece = 100_003): number[] {
  const c = new Chunker(p);
  const out: number[] = [];
  for (let at = 0; at < data.length; at += piece) out.push(...c.push(data.subarray(at, at + piece)).map((b) => b.length));
  return [...out, ...c.finish().map((b) => b.length)];
}

// finderSizes drives CutFinder the way a worker does: data arrives in reads of `step` bytes into a
// window that keeps only the undecided tail, so the finder sees every kind of partial buffer.
function finderSizes(data: Buffer, step: number, p = SMALL): number[] {
  const f = new CutFinder(p);
  const out: number[] = [];
  let start = 0;
  let end = 0;
  for (;;) {
    end = Math.min(data.length, end + step);
    const eof = end === data.length;
    // A copy of the window, so a finder reading past `end` would see garbage, not the real bytes.
    const win = Buffer.concat([data.subarray(start, end), Buffer.alloc(64, 0xaa)]);
    let at = 0;
    for (let len = f.next(win, at, end - start, eof); len > 0; len = f.next(win, at, end - start, eof)) {
      out.push(len);
      at += len;
    }
    start += at;
    if (eof) break;
  }
  expect(start).toBe(data.length);
  return out;
}

// Low-entropy stretches (zeros, a repeated short pattern) force cuts at max or at odd places.
function mixed(n: number, seed: string): Buffer {
  const parts: Buffer[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const kind = i % 4;
    const size = 30_000 + ((i * 7919) % 400_000);
    const part = kind === 1 ? Buffer.alloc(size) : kind === 3 ? Buffer.alloc(size, 'abc') : seeded(size, `${seed}-${i}`);
    parts.push(part);
    len += part.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}

describe('CutFinder (worker-side chunking)', () => {
  const data = seeded(6 * 1024 * 1024 + 12_345, 'finder');

  it('finds exactly the Chunker boundaries on random data, whatever the read size', () => {
    const want = chunkerSizes(data);
    expect(want.length).toBeGreaterThan(40);
    for (const step of [1000, 65_536, 262_144, 300_001, data.length]) expect(finderSizes(data, step)).toEqual(want);
  });

  it('agrees with the Chunker on low-entropy data and at the edges of min and max', () => {
    const low = mixed(5 * 1024 * 1024, 'low');
    expect(finderSizes(low, 77_777)).toEqual(chunkerSizes(low));
    for (const n of [0, 1, SMALL.min - 1, SMALL.min, SMALL.min + 1, SMALL.max - 1, SMALL.max, SMALL.max + 1, 3 * SMALL.max]) {
      const d = seeded(n, `edge${n}`);
      expect(finderSizes(d, 50_000)).toEqual(chunkerSizes(d));
    }
  });

  it('agrees with the Chunker at the default (restic) sizes', () => {
    const p = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024, seed: 'big-seed' };
    const big = Buffer.concat([seeded(20 * 1024 * 1024, 'big'), Buffer.alloc(9 * 1024 * 1024), seeded(3 * 1024 * 1024, 'tail')]);
    expect(finderSizes(big, 2 * 1024 * 1024, p)).toEqual(chunkerSizes(big, p, 1024 * 1024));
  });

  it('cuts files read by readFiles (segments, small-file buffers, several files per job) like the Chunker', async () => {
    const dir = await tempDir('cut');
    const files = [seeded(3 * 1024 * 1024 + 7, 'f0'), Buffer.from('tiny'), Buffer.alloc(0), mixed(2 * 1024 * 1024, 'f3'), seeded(SMALL.max, 'f4')];
    const paths = files.map((_, i) => join(dir, `f${i}`));
    await Promise.all(files.map((f, i) => writeFile(paths[i]!, f)));
    const got: number[][] = files.map(() => []);
    const keys = { enc: Buffer.alloc(32, 1), mac: Buffer.alloc(32, 2) };
    // Size hints that are wrong on purpose: a file may change between lstat and read.
    const sizes = files.map((f, i) => (i === 0 ? 1000 : f.length));
    const bytes = await readFiles({ job: 1, keys, chunker: SMALL, paths, sizes }, (b: ChunkBatch) => {
      b.sizes.forEach((s, i) => got[b.files[i]!]!.push(s));
      // Release the parked chunks, as the main thread would, so the reader is never held up.
      sealParked(1, [], b.sizes.map((_, i) => b.first + i));
    });
    expect(bytes).toEqual(files.map((f) => f.length));
    expect(got).toEqual(files.map((f) => chunkerSizes(f)));
  });
});
