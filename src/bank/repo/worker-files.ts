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
import { blobId, sealBlobInto, sealedBound, type BlobKeys } from './codec.js';
import type { ChunkerParams } from './format.js';

/** ScanEntry is one directory entry with the lstat fields a tree node records. Names and targets are
 * bytes held in latin1 strings: they cross threads as cheap strings, where a small Buffer would drag
 * its whole 8 KiB pool slab through the structured clone. */
export interface ScanEntry {
  readonly name: string;
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly mode: number;
  readonly mtimeNs: string;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly ino: string;
  /** dev is the device of the entry (a directory on another file system is a mount point). */
  readonly dev: string;
  readonly target?: string;
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
  /** paths are file names as bytes in latin1 strings (see ScanEntry). */
  readonly paths: string[];
  readonly sizes: number[];
}

// Files are read in segments of a few average chunks; the undecided tail (usually under 1 MiB) is
// copied to the next segment, and a chunk longer than a segment gets a segment of twice its size.
// Segments stay alive while views of them are parked, so their size times the parked share is memory.
const SEGMENT = 4 * 1024 * 1024;
// Chunks hashed but not yet sealed or dropped, per worker: the worker stops reading above this.
const PARK_LIMIT = 4 * 1024 * 1024;
// Report chunks in batches: one message per chunk would cost more than hashing a small one.
const BATCH_BYTES = 2 * 1024 * 1024;
const BATCH_CHUNKS = 256;
const READ = 2 * 1024 * 1024;

// A worker's JS heap stays tiny (a few MiB), so V8 rarely collects, and the large buffers it drops
// (cipher output, decoded blobs on restore) pile up as hundreds of MiB of unreachable memory that
// malloc then keeps. A full GC after every GC_EVERY bytes handled frees them; on a heap this small
// it costs a few milliseconds (a scavenge alone measured no better: chunks parked across it get
// promoted). Read segments, zstd output and seal arenas are reused, not dropped. The flag is
// process-wide, but only worker code (and inline restore) calls collect.
setFlagsFromString('--expose-gc');
/** collect is V8's gc(). */
export const collect = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
const GC_EVERY = 8 * 1024 * 1024;
let sinceGc = 0;

/** collectGarbage counts bytes handled by this thread and runs a full GC every GC_EVERY of them. */
export function collectGarbage(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc < GC_EVERY) return;
  sinceGc = 0;
  collect({ type: 'major' });
}

/** scanDir lists a directory sorted by name bytes, with lstat fields and symlink targets. */
export function scanDir(dir: string): ScanEntry[] {
  const base = Buffer.from(dir, 'latin1');
  const names = readdirSync(base, { encoding: 'buffer' }).sort(Buffer.compare);
  return names.map((name) => {
    const path = Buffer.concat([base, SLASH, name]);
    const st = lstatSync(path, { bigint: true });
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    return {
      name: name.toString('latin1'), kind, mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs.toString(), uid: Number(st.uid), gid: Number(st.gid),
      size: Number(st.size), ino: st.ino.toString(), dev: st.dev.toString(), ...(kind === 'symlink' ? { target: readlinkSync(path, { encoding: 'buffer' }).toString('latin1') } : {}),
    };
  });
}
const SLASH = Buffer.from('/');

interface Parked {
  readonly keys: BlobKeys;
  readonly id: Buffer;
  readonly data: Buffer;
  readonly seg: Segment;
}

// A Segment is a read buffer shared by the files read into it (small files share one, back to back)
// and by the chunks parked as views of it. It returns to the free list once nothing uses it, so in
// steady state reading allocates nothing: a worker that freed a buffer per file or per segment left
// malloc holding tens of MiB it never gave back.
class Segment {
  refs = 1;
  used = 0;
  constructor(readonly buf: Buffer) {}
}
const MAX_FREE_SEGMENTS = 3;
const freeSegments: Buffer[] = [];
// The segment small files are placed into, until it is full.
let filling: Segment | undefined;

function newSegment(n: number): Segment {
  return new Segment(n <= SEGMENT ? freeSegments.pop() ?? Buffer.allocUnsafeSlow(SEGMENT) : Buffer.allocUnsafeSlow(n));
}

function release(seg: Segment): void {
  if (--seg.refs === 0 && seg.buf.length === SEGMENT && freeSegments.length < MAX_FREE_SEGMENTS) freeSegments.push(seg.buf);
}

// window reserves n (≤ SEGMENT) bytes for one file, in the filling segment when they fit.
function window(n: number): { seg: Segment; buf: Buffer } {
  if (!filling || SEGMENT - filling.used < n) {
    if (filling) release(filling);
    filling = newSegment(SEGMENT);
  }
  const seg = filling;
  seg.refs++;
  const buf = seg.buf.subarray(seg.used, seg.used + n);
  seg.used += n;
  return { seg, buf };
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
    if (batch.sizes.length > 0) {
      // Its own memory (not a pool slab), so that it can be moved rather than copied.
      const ids = Buffer.allocUnsafeSlow(batch.ids.length * 32);
      batch.ids.forEach((id, i) => id.copy(ids, i * 32));
      post({ ids, sizes: batch.sizes, files: batch.files, first: batch.first });
    }
    batch = { ids: [], sizes: [], files: [], first: seq, bytes: 0 };
    // Let seal and drop requests in, and wait while too much is parked: that is the backpressure.
    await new Promise<void>((go) => setImmediate(go));
    while (parkedBytes > PARK_LIMIT) await new Promise<void>((go) => (wakeReader = go));
  };
  try {
    for (let f = 0; f < job.paths.length; f++) {
      const full = (): boolean => batch.bytes >= BATCH_BYTES || batch.sizes.length >= BATCH_CHUNKS;
      bytes.push(await readOne(job.paths[f]!, job.sizes[f]!, cuts, (data, seg) => {
        const id = blobId(job.keys, data);
        seg.refs++;
        mine.set(seq, { keys: job.keys, id, data, seg });
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
    for (const p of mine.values()) {
      parkedBytes -= p.data.length;
      release(p.seg);
    }
    parked.delete(job.job);
    throw err;
  }
}

// readOne reads one file to its end (it may have grown since lstat) and emits its chunks as views;
// after each read it lets `pause` report chunks and wait while too much is parked.
async function readOne(path: string, sizeHint: number, cuts: CutFinder, emit: (chunk: Buffer, seg: Segment) => void, pause: () => Promise<void>): Promise<number> {
  const fd = openSync(Buffer.from(path, 'latin1'), 'r');
  // Sized to the file (+1 to see the end in one read), so small files share a segment.
  let { seg, buf } = window(Math.min(SEGMENT, sizeHint + 1));
  try {
    let start = 0;
    let end = 0;
    let total = 0;
    for (let eof = false; !eof;) {
      if (end === buf.length) {
        // Full: continue in a new segment. The old one lives on in the parked views until sealed.
        const next = newSegment(Math.max(SEGMENT, (end - start) * 2));
        buf.copy(next.buf, 0, start, end);
        release(seg);
        seg = next;
        buf = next.buf;
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
        emit(buf.subarray(start, start + len), seg);
        start += len;
      }
      await pause();
    }
    return total;
  } finally {
    release(seg);
    closeSync(fd);
  }
}

// Sealed boxes are written into arenas that travel to the main thread and come back with a later
// request once their boxes are packed: no per-batch allocation on either side, and nothing for V8 to
// collect late. Arenas have one size that fits a usual batch (BATCH_BYTES plus a chunk), so any arena
// serves any request; a rare larger request gets a buffer of its own that is not recycled.
export const ARENA = 4 * 1024 * 1024;
const MAX_ARENAS = 4;
const arenas: Buffer[] = [];

/** recycleArena takes back an arena that the main thread has finished with. */
export function recycleArena(a: ArrayBuffer): void {
  if (a.byteLength === ARENA && arenas.length < MAX_ARENAS) arenas.push(Buffer.from(a));
}

function arena(need: number): Buffer {
  if (need > ARENA) return Buffer.allocUnsafeSlow(need);
  return arenas.pop() ?? Buffer.allocUnsafeSlow(ARENA);
}

/**
 * sealParked seals the parked chunks `seal` of read job `of` into one arena (boxes back to back, so
 * one transfer moves them all) and forgets the chunks in `drop`. The reader resumes if it was waiting.
 * `out` owns its whole ArrayBuffer (the arena), which the caller should hand back (recycleArena).
 */
export function sealParked(of: number, seal: readonly number[], drop: readonly number[]): { lengths: number[]; out: Buffer } {
  const entry = parked.get(of);
  if (!entry) throw new Error(`codec worker: no read job ${of}`);
  const mine = entry.chunks;
  let need = 0;
  for (const s of seal) need += sealedBound(mine.get(s)?.data.length ?? 0);
  const out = arena(need);
  const lengths: number[] = [];
  let at = 0;
  for (const s of seal) {
    const p = take(mine, s);
    const n = sealBlobInto(p.keys, 'data', p.id, p.data, out, at);
    release(p.seg);
    lengths.push(n);
    at += n;
    // Encryption still leaves the ciphertext behind as garbage (Node has no in-place cipher).
    collectGarbage(p.data.length);
  }
  for (const s of drop) release(take(mine, s).seg);
  if (mine.size === 0 && entry.done) parked.delete(of);
  if (parkedBytes <= PARK_LIMIT && wakeReader) {
    const go = wakeReader;
    wakeReader = undefined;
    go();
  }
  return { lengths, out: out.subarray(0, at) };
}

function take(mine: Map<number, Parked>, seq: number): Parked {
  const p = mine.get(seq);
  if (!p) throw new Error(`codec worker: chunk ${seq} is not parked`);
  mine.delete(seq);
  parkedBytes -= p.data.length;
  return p;
}
