/**
 * dataset builds the benchmark's ~1 GB mixed tree from a fixed seed (GOALS.md, data path): ~20,000
 * small text files, medium text files, large incompressible files, compressible logs, and copies of
 * large files with a few bytes inserted near the start (only content-defined chunking dedups those).
 * The same seed always gives the same bytes, so runs and machines compare.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const VERSION = 'hoard-bench-v1';
const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega backup restore bank chunk pack index snapshot tree stream plan provider checkpoint trigger volume server image network'.split(' ');

/** Rng is a small deterministic xorshift generator; not for anything but test data. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s ^= this.s << 13; this.s ^= this.s >>> 17; this.s ^= this.s << 5;
    return (this.s >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function random(n: number, seed: string): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(n));
}

function text(rng: Rng, n: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const line = Array.from({ length: 6 + rng.int(10) }, () => WORDS[rng.int(WORDS.length)]).join(' ') + ` ${rng.int(100000)}\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

function log(rng: Rng, n: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  let t = 1_700_000_000_000;
  while (len < n) {
    t += rng.int(50);
    const line = `${new Date(t).toISOString()} INFO svc=api-${rng.int(8)} req=${rng.int(1e9).toString(16)} path=/v1/plans/${rng.int(500)} status=${rng.next() < 0.95 ? 200 : 500} took=${rng.int(900)}ms\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

/** SMALL_FILES etc. size the data set; the total is about 1 GB. */
export const SHAPE = { smallFiles: 20_000, smallDirs: 200, mediumFiles: 100, largeFiles: 4, largeMiB: 64, logs: 4, logMiB: 50, copies: 2 } as const;

/** buildDataset writes the tree under `dir` unless a complete one from this version is there already. */
export async function buildDataset(dir: string): Promise<void> {
  const marker = join(dir, '.complete');
  if ((await readFile(marker, 'utf8').catch(() => '')) === VERSION) return;
  await rm(dir, { recursive: true, force: true });
  const rng = new Rng(0x5eed);
  for (let i = 0; i < SHAPE.smallFiles; i++) {
    const d = join(dir, 'small', `d${String(i % SHAPE.smallDirs).padStart(3, '0')}`);
    if (i < SHAPE.smallDirs) await mkdir(d, { recursive: true });
    await writeFile(join(d, `f${i}.txt`), text(rng, 500 + rng.int(9000)));
  }
  await mkdir(join(dir, 'medium'), { recursive: true });
  for (let i = 0; i < SHAPE.mediumFiles; i++) await writeFile(join(dir, 'medium', `m${i}.txt`), text(rng, 256 * 1024 + rng.int(3 * 1024 * 1024)));
  await mkdir(join(dir, 'large'), { recursive: true });
  for (let i = 0; i < SHAPE.largeFiles; i++) await writeFile(join(dir, 'large', `l${i}.bin`), random(SHAPE.largeMiB * 1024 * 1024, `large${i}`));
  await mkdir(join(dir, 'logs'), { recursive: true });
  for (let i = 0; i < SHAPE.logs; i++) await writeFile(join(dir, 'logs', `app${i}.log`), log(rng, SHAPE.logMiB * 1024 * 1024));
  await mkdir(join(dir, 'copies'), { recursive: true });
  for (let i = 0; i < SHAPE.copies; i++) {
    const orig = random(SHAPE.largeMiB * 1024 * 1024, `large${i}`);
    await writeFile(join(dir, 'copies', `l${i}-edited.bin`), Buffer.concat([orig.subarray(0, 4096), Buffer.from('inserted!'), orig.subarray(4096)]));
  }
  await writeFile(marker, VERSION);
}

/** changeOnePercent edits 1% of the files (appends to small ones, rewrites a medium one's head) and returns an undo. */
export async function changeOnePercent(dir: string): Promise<() => Promise<void>> {
  const saved: [string, Buffer][] = [];
  const edit = async (path: string, fn: (b: Buffer) => Buffer): Promise<void> => {
    const old = await readFile(path);
    saved.push([path, old]);
    await writeFile(path, fn(old));
  };
  for (let i = 0; i < SHAPE.smallFiles; i += 100) {
    await edit(join(dir, 'small', `d${String(i % SHAPE.smallDirs).padStart(3, '0')}`, `f${i}.txt`), (b) => Buffer.concat([b, Buffer.from(`changed ${Date.now()}\n`)]));
  }
  await edit(join(dir, 'medium', 'm7.txt'), (b) => Buffer.concat([Buffer.from('new header line\n'), b]));
  await edit(join(dir, 'logs', 'app0.log'), (b) => Buffer.concat([b, Buffer.from('2026-01-01T00:00:00Z INFO appended\n'.repeat(1000))]));
  return async () => {
    for (const [path, bytes] of saved) await writeFile(path, bytes);
  };
}

/** treeBytes sums the sizes of the data set's files (for MB/s figures). */
export async function treeBytes(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}
