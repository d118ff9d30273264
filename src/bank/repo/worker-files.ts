/*
 * Worker-thread side of tree backup: lists directories, reads files, cuts them into chunks, hashes
 * the chunks and seals the ones the main thread asks for. The main thread only walks the tree,
 * decides deduplication and fills packs. Sync fs calls are deliberate here: they block only this
 * worker, and cost a fraction of a promise round trip through the libuv pool per file.
 */
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CutFinder } from './chunker.js';
import { blobId, sealBlob, type BlobKeys } from './codec.js';
import type { ChunkerParams } from './format.js';

/** ScanEntry is one directory entry with the lstat fields a tree node records. */
export interface ScanEntry {
  readonly name: Uint8Array;
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly mode: number;
  readonly mtimeNs: string;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly ino: string;
  readonly target?: Uint8Array;
}

/** ChunkBatch reports chunks cut and hashed in a read job: ids (32 bytes each) and sizes, with the file index of each. */
export interface ChunkBatch {
  readonly ids: Uint8Array;
  readonly sizes: number[];
  readonly files: number[];
  readonly first: number;
}

/** ReadJob asks a worker to read, chunk and hash whole files; chunks stay parked for sealParked. */
export interface ReadJob {
  readonly job: number;
  readonly keys: BlobKeys;
  readonly chunker: ChunkerParams;
  readonly paths: Uint8Array[];
  readonly sizes: number[];
}

// A segment holds several maximal chunks, so a cut rarely needs the bytes carried to a new segment.
const SEGMENT = 12 * 1024 * 1024;
// Chunks hashed but not yet sealed or dropped, per worker: the worker stops reading above this.
const PARK_LIMIT = 12 * 1024 * 1024;
// Report chunks in batches: one message per chunk would cost more than hashing a small one.
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_CHUNKS = 256;
const READ = 2 * 1024 * 1024;

// A worker's JS heap stays tiny (a few MiB), so V8 rarely collects, and the large buffers it drops
// (read segments, compressor and cipher output) pile up as hundreds of MiB of unreachable memory.
// A full GC (the buffers outlive a scavenge while parked) after every GC_EVERY bytes handled frees
// them; on a heap this small it costs a few milliseconds. The flag
// is process-wide, but only this module (worker threads) calls the function.
setFlagsFromString('--expose-gc');
/** collect is V8's gc(); the main thread uses it too, for the boxes that workers transfer to it. */
export const collect = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
const GC_EVERY = 16 * 1024 * 1024;
let sinceGc = 0;

/** collectGarbage counts bytes handled by this worker and runs a full GC every GC_EVERY of them. */
export function collectGarbage(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc < GC_EVERY) return;
  sinceGc = 0;
  collect({ type: 'major' });
}

/** scanDir lists a directory sorted by name bytes, with lstat fields and symlink targets. */
export function scanDir(dir: Uint8Array): ScanEntry[] {
  const base = Buffer.from(dir);
  const names = readdirSync(base, { encoding: 'buffer' }).sort(Buffer.compare);
  return names.map((name) => {
    const path = Buffer.concat([base, SLASH, name]);
    const st = lstatSync(path, { bigint: true });
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    return {
      name, kind, mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs.toString(), uid: Number(st.uid), gid: Number(st.gid),
      size: Number(st.size), ino: st.ino.toString(), ...(kind === 'symlink' ? { target: readlinkSync(path, { encoding: 'buffer' }) } : {}),
    };
  });
}
const SLASH = Buffer.from('/');

interface Parked {
  readonly keys: BlobKeys;
  readonly id: Buffer;
  readonly data: Buffer;
}

// Parked chunks per read job; `done` marks a job whose reading has ended, so an empty entry can go.
const parked = new Map<number, { chunks: Map<number, Parked>; done: boolean }>();
let parkedBytes = 0;
let wakeReader: (() => void) | undefined;
const finders = new Map<string, CutFinder>();
let queue: Promise<void> = Promise.resolve();

function finder(p: ChunkerParams): CutFinder {
  const key = `${p.seed}:${p.min}:${p.avg}:${p.max}`;
  let f = finders.get(key);
  if (!f) finders.set(key, (f = new CutFinder(p)));
  return f;
}

/**
 * readFiles runs read jobs one after another (one chunker's worth of memory per worker); `post` sends
 * batches and the final reply. Returns once the job is queued.
 */
export function readFiles(job: ReadJob, post: (batch: ChunkBatch) => void): Promise<number[]> {
  const run = queue.then(() => runRead(job, post));
  queue = run.then(() => undefined, () => undefined);
  return run;
}

async function runRead(job: ReadJob, post: (batch: ChunkBatch) => void): Promise<number[]> {
  const entry = { chunks: new Map<number, Parked>(), done: false };
  const mine = entry.chunks;
  parked.set(job.job, entry);
  const cuts = finder(job.chunker);
  const bytes: number[] = [];
  let batch: { ids: Buffer[]; sizes: number[]; files: number[]; first: number; bytes: number } = { ids: [], sizes: [], files: [], first: 0, bytes: 0 };
  let seq = 0;
  const flush = async (): Promise<void> => {
    if (batch.sizes.length > 0) post({ ids: Buffer.concat(batch.ids), sizes: batch.sizes, files: batch.files, first: batch.first });
    batch = { ids: [], sizes: [], files: [], first: seq, bytes: 0 };
    // Let seal and drop requests in, and wait while too much is parked: that is the backpressure.
    await new Promise<void>((go) => setImmediate(go));
    while (parkedBytes > PARK_LIMIT) await new Promise<void>((go) => (wakeReader = go));
  };
  try {
    for (let f = 0; f < job.paths.length; f++) {
      const full = (): boolean => batch.bytes >= BATCH_BYTES || batch.sizes.length >= BATCH_CHUNKS;
      bytes.push(await readOne(job.paths[f]!, job.sizes[f]!, cuts, (data) => {
        const id = blobId(job.keys, data);
        mine.set(seq, { keys: job.keys, id, data });
        parkedBytes += data.length;
        batch.ids.push(id);
        batch.sizes.push(data.length);
        batch.files.push(f);
        batch.bytes += data.length;
        seq++;
      }, async () => {
        if (full()) await flush();
      }));
      if (full()) await flush();
    }
    await flush();
    entry.done = true;
    if (mine.size === 0) parked.delete(job.job);
    return bytes;
  } catch (err) {
    for (const p of mine.values()) parkedBytes -= p.data.length;
    parked.delete(job.job);
    throw err;
  }
}

// readOne reads one file to its end (it may have grown since lstat) and emits its chunks as views;
// after each read it lets `pause` report chunks and wait while too much is parked.
async function readOne(path: Uint8Array, sizeHint: number, cuts: CutFinder, emit: (chunk: Buffer) => void, pause: () => Promise<void>): Promise<number> {
  const fd = openSync(Buffer.from(path), 'r');
  try {
    // Sized to the file (+1 to see the end in one read): 20,000 small files must not each get 16 MiB.
    let buf = alloc(Math.min(SEGMENT, sizeHint + 1));
    let start = 0;
    let end = 0;
    let total = 0;
    for (let eof = false; !eof;) {
      if (end === buf.length) {
        // Full: continue in a new segment. The old one lives on in the parked views until sealed.
        const next = alloc(Math.max(SEGMENT, (end - start) * 2));
        buf.copy(next, 0, start, end);
        buf = next;
        end -= start;
        start = 0;
      }
      // At most READ bytes per call, so backpressure (pause) acts before a whole segment is parked.
      const n = readSync(fd, buf, end, Math.min(READ, buf.length - end), null);
      collectGarbage(n);
      eof = n === 0;
      end += n;
      total += n;
      for (let len = cuts.next(buf, start, end, eof); len > 0; len = cuts.next(buf, start, end, eof)) {
        emit(buf.subarray(start, start + len));
        start += len;
      }
      await pause();
    }
    return total;
  } finally {
    closeSync(fd);
  }
}

// Small buffers come from Node's pool (cheap); large ones get their own memory, freed as a whole.
function alloc(n: number): Buffer {
  return n < 64 * 1024 ? Buffer.allocUnsafe(n) : Buffer.allocUnsafeSlow(n);
}

/**
 * sealParked seals the parked chunks `seal` of read job `of` into one buffer (boxes back to back, so
 * one transfer moves them all) and forgets the chunks in `drop`. The reader resumes if it was waiting.
 */
export function sealParked(of: number, seal: readonly number[], drop: readonly number[]): { lengths: number[]; out: Buffer } {
  const entry = parked.get(of);
  if (!entry) throw new Error(`codec worker: no read job ${of}`);
  const mine = entry.chunks;
  const boxes: Buffer[] = [];
  for (const s of seal) {
    const p = take(mine, s);
    boxes.push(sealBlob(p.keys, 'data', p.id, p.data));
    // Sealing leaves about twice the chunk in dropped compressor and cipher output.
    collectGarbage(2 * p.data.length);
  }
  for (const s of drop) take(mine, s);
  if (mine.size === 0 && entry.done) parked.delete(of);
  if (parkedBytes <= PARK_LIMIT && wakeReader) {
    const go = wakeReader;
    wakeReader = undefined;
    go();
  }
  const out = Buffer.allocUnsafeSlow(boxes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of boxes) at += b.copy(out, at);
  return { lengths: boxes.map((b) => b.length), out };
}

function take(mine: Map<number, Parked>, seq: number): Parked {
  const p = mine.get(seq);
  if (!p) throw new Error(`codec worker: chunk ${seq} is not parked`);
  mine.delete(seq);
  parkedBytes -= p.data.length;
  return p;
}
