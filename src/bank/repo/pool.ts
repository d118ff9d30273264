import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BlobKeys } from './codec.js';
import type { Reply, Request } from './codec-worker.js';
import { RepoError, type RepoErrorCode } from './errors.js';
import type { BlobType, ChunkerParams } from './format.js';
import { ARENA, type ChunkBatch, type ScanEntry } from './worker-files.js';
import type { RangeBlob } from './worker-restore.js';

/** Ticket names a hashed chunk parked in one worker until it is sealed or dropped. */
export interface Ticket {
  readonly worker: number;
  readonly job: number;
}

type Done = Extract<Reply, { ok: true; more?: undefined }>;

interface Pending {
  readonly resolve: (r: Done) => void;
  readonly reject: (e: Error) => void;
  readonly onMore?: (batch: ChunkBatch) => void;
  // Expected work (bytes), so that picking a worker balances a 64 MiB file against small ones.
  readonly weight: number;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  load: number;
}

function spawn(): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./codec-worker.js', self));
  // Running from TypeScript sources (tests, bench): the worker registers tsx before loading its module.
  const api = createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  const target = new URL('./codec-worker.ts', self).href;
  const boot = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true });
}

let shared: CodecPool | undefined;
// Bytes of work queued at every running worker before another one starts (see pick): more than an
// incremental run's changed files usually are, less than a full run queues in its first seconds.
const SPAWN_AT = 64 * 1024 * 1024;
// Seal arenas kept here for the next request; more would only wait idle (workers keep a few too).
const MAX_ARENAS = 2;

// HOARD_CODEC_WORKERS lets a benchmark compare pool sizes without code changes.
function defaultSize(): number {
  const env = Number(process.env.HOARD_CODEC_WORKERS);
  return Number.isInteger(env) && env > 0 ? env : Math.max(1, availableParallelism());
}

// Only the two keys cross the thread boundary, never anything else a caller hung on the object.
function plainKeys(keys: BlobKeys): BlobKeys {
  return { enc: keys.enc, mac: keys.mac };
}

function out(r: Done): Buffer {
  const u = r.out ?? new Uint8Array(0);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * CodecPool runs blob hashing, sealing and opening on a few worker threads. Calls may be made
 * concurrently; each returns a promise settled by its worker. Keys travel with each request, so one
 * pool serves any number of repositories. Buffers passed to hash() are transferred and must not be
 * used afterwards. A worker crash rejects everything pending on it; close() ends the workers.
 */
export class CodecPool {
  private readonly slots: Slot[] = [];
  // Arenas of sealed boxes on their way back to a worker (any worker: they are interchangeable).
  private readonly arenas: ArrayBuffer[] = [];
  private next = 0;

  // A worker costs about half a CPU second to boot and tens of MiB, which an incremental backup that
  // reads a few MiB never earns back: one starts at once, the others when work queues up (pick) or
  // when a caller knows it will keep them all busy (startAll, restore).
  constructor(private readonly capacity = defaultSize()) {
    this.slots.push(this.start());
  }

  /** shared returns the process-wide pool, started on first use; idle workers never keep the process alive. */
  static shared(): CodecPool {
    shared ??= new CodecPool();
    return shared;
  }

  /** size is the number of workers. */
  get size(): number {
    return this.capacity;
  }

  /** startAll starts every worker now, for work that will keep them all busy. */
  startAll(): void {
    while (this.slots.length < this.capacity) this.slots.push(this.start());
  }

  /** hash computes a chunk's id in a worker and parks the chunk there for seal() or drop(). */
  async hash(keys: BlobKeys, data: Buffer): Promise<{ id: Buffer; ticket: Ticket }> {
    const worker = this.pick();
    const job = this.next++;
    const own = data.byteOffset === 0 && data.buffer.byteLength === data.length;
    const id = out(await this.call(worker, { op: 'hash', job, keys: plainKeys(keys), data }, own ? [data.buffer as ArrayBuffer] : [], data.length));
    return { id, ticket: { worker, job } };
  }

  /** seal compresses and encrypts a parked chunk and returns the sealed box. */
  async seal(ticket: Ticket, type: BlobType): Promise<Buffer> {
    return out(await this.call(ticket.worker, { op: 'seal', job: ticket.job, type }, [], 0));
  }

  /** drop forgets a parked chunk that the repository already holds. */
  drop(ticket: Ticket): void {
    this.slots[ticket.worker]!.worker.postMessage({ op: 'drop', job: ticket.job } satisfies Request);
  }

  /** open authenticates and decodes a sealed blob in a worker (moving `box` there when it owns its memory); damage rejects with a `corrupt` RepoError. */
  async open(keys: BlobKeys, type: BlobType, id: Buffer, box: Uint8Array, rawLength: number, where: string): Promise<Buffer> {
    const own = box.byteOffset === 0 && box.buffer.byteLength === box.length;
    return out(await this.call(this.pick(), { op: 'open', job: this.next++, keys: plainKeys(keys), type, id, box, rawLength, where }, own ? [box.buffer as ArrayBuffer] : [], box.length));
  }

  /** scan lists a directory in a worker: entries sorted by name bytes, with lstat fields. */
  async scan(dir: Buffer): Promise<ScanEntry[]> {
    return (await this.call(this.pick(), { op: 'scan', job: this.next++, dir: dir.toString('latin1') }, [], 0)).entries ?? [];
  }

  /**
   * read has a worker read, chunk and hash whole files (`sizes` from lstat size its buffers and the
   * balance between workers). `onBatch` hears of chunks as they are cut; they stay parked in that
   * worker until sealParked() seals or drops them. Resolves with the bytes read per file.
   */
  read(keys: BlobKeys, chunker: ChunkerParams, paths: Buffer[], sizes: number[], onBatch: (worker: number, job: number, batch: ChunkBatch) => void): Promise<number[]> {
    const worker = this.pick();
    const job = this.next++;
    const weight = sizes.reduce((a, b) => a + b, 0) + 4096 * paths.length;
    const more = (batch: ChunkBatch): void => onBatch(worker, job, batch);
    const names = paths.map((p) => p.toString('latin1'));
    return this.call(worker, { op: 'read', job, keys: plainKeys(keys), chunker: { ...chunker }, paths: names, sizes }, [], weight, more).then((r) => r.bytes ?? []);
  }

  /**
   * sealParked seals chunks parked by read job `of` (boxes back to back in `out`) and drops others.
   * `out` is a worker's arena: hand it back with recycle() once its boxes are copied.
   */
  async sealParked(worker: number, of: number, seal: number[], drop: number[]): Promise<{ lengths: number[]; out: Buffer }> {
    const arena = this.arenas.pop();
    const r = await this.call(worker, { op: 'sealParked', job: this.next++, of, seal, drop, arena }, arena ? [arena] : [], 0);
    return { lengths: r.lengths ?? [], out: out(r) };
  }

  /** recycle returns an arena from sealParked (no longer used here) to go back to a worker. */
  recycle(out: Buffer): void {
    if (this.arenas.length < MAX_ARENAS && out.buffer.byteLength === ARENA) this.arenas.push(out.buffer as ArrayBuffer);
  }

  /** restore has a worker open the blobs of one pack range (moved there) and write them to their files. */
  async restore(keys: BlobKeys, where: string, data: Uint8Array, blobs: RangeBlob[]): Promise<void> {
    const own = data.byteOffset === 0 && data.buffer.byteLength === data.length;
    await this.call(this.pick(), { op: 'restore', job: this.next++, keys: plainKeys(keys), where, data, blobs }, own ? [data.buffer as ArrayBuffer] : [], data.length);
  }

  /** close terminates the workers; pending calls reject. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = spawn();
    const slot: Slot = { worker, pending: new Map(), load: 0 };
    worker.on('message', (r: Reply) => {
      const p = slot.pending.get(r.job);
      if (r.ok && 'more' in r) return p?.onMore?.(r.more);
      slot.pending.delete(r.job);
      if (p) slot.load -= p.weight;
      // An idle worker must not keep the process alive; a busy one must, or awaiting it could exit.
      if (slot.pending.size === 0) worker.unref();
      if (!p) return;
      if (r.ok) p.resolve(r);
      else p.reject(r.code ? new RepoError(r.code as RepoErrorCode, r.message, { object: r.object }) : new Error(r.message));
    });
    worker.on('error', (err) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      slot.load = 0;
    });
    worker.unref();
    return slot;
  }

  // Least-loaded worker by bytes of work queued (a request counts at least 64 KiB): chunk costs vary
  // tenfold (text against random data), and a read job may be one small file or a 64 MiB one.
  // A further worker starts once even the least-loaded one has SPAWN_AT queued.
  private pick(): number {
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i]!.load < this.slots[best]!.load) best = i;
    if (this.slots[best]!.load < SPAWN_AT || this.slots.length >= this.capacity) return best;
    this.slots.push(this.start());
    return this.slots.length - 1;
  }

  private call(worker: number, req: Request, transfer: ArrayBuffer[], bytes: number, onMore?: (b: ChunkBatch) => void): Promise<Done> {
    const slot = this.slots[worker]!;
    const weight = Math.max(bytes, 64 * 1024);
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(req.job, { resolve, reject, onMore, weight });
      slot.load += weight;
      slot.worker.postMessage(req, transfer);
    });
  }
}
