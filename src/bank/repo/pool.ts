import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BlobKeys } from './codec.js';
import type { Reply, Request } from './codec-worker.js';
import { RepoError, type RepoErrorCode } from './errors.js';
import type { BlobType } from './format.js';

/** Ticket names a hashed chunk parked in one worker until it is sealed or dropped. */
export interface Ticket {
  readonly worker: number;
  readonly job: number;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>;
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

// HOARD_CODEC_WORKERS lets a benchmark compare pool sizes without code changes.
function defaultSize(): number {
  const env = Number(process.env.HOARD_CODEC_WORKERS);
  return Number.isInteger(env) && env > 0 ? env : Math.max(1, availableParallelism());
}

// Only the two keys cross the thread boundary, never anything else a caller hung on the object.
function plainKeys(keys: BlobKeys): BlobKeys {
  return { enc: keys.enc, mac: keys.mac };
}

function toBuffer(u: Uint8Array): Buffer {
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
  private next = 0;

  constructor(size = defaultSize()) {
    for (let i = 0; i < size; i++) this.slots.push(this.start());
  }

  /** shared returns the process-wide pool, started on first use; idle workers never keep the process alive. */
  static shared(): CodecPool {
    shared ??= new CodecPool();
    return shared;
  }

  /** size is the number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** hash computes a chunk's id in a worker and parks the chunk there for seal() or drop(). */
  async hash(keys: BlobKeys, data: Buffer): Promise<{ id: Buffer; ticket: Ticket }> {
    const worker = this.pick();
    const job = this.next++;
    const own = data.byteOffset === 0 && data.buffer.byteLength === data.length;
    const id = await this.call(worker, { op: 'hash', job, keys: plainKeys(keys), data }, own ? [data.buffer as ArrayBuffer] : []);
    return { id, ticket: { worker, job } };
  }

  /** seal compresses and encrypts a parked chunk and returns the sealed box. */
  seal(ticket: Ticket, type: BlobType): Promise<Buffer> {
    return this.call(ticket.worker, { op: 'seal', job: ticket.job, type }, []);
  }

  /** drop forgets a parked chunk that the repository already holds. */
  drop(ticket: Ticket): void {
    this.slots[ticket.worker]!.worker.postMessage({ op: 'drop', job: ticket.job } satisfies Request);
  }

  /** open authenticates and decodes a sealed blob in a worker (moving `box` there when it owns its memory); damage rejects with a `corrupt` RepoError. */
  open(keys: BlobKeys, type: BlobType, id: Buffer, box: Uint8Array, rawLength: number, where: string): Promise<Buffer> {
    const own = box.byteOffset === 0 && box.buffer.byteLength === box.length;
    return this.call(this.pick(), { op: 'open', job: this.next++, keys: plainKeys(keys), type, id, box, rawLength, where }, own ? [box.buffer as ArrayBuffer] : []);
  }

  /** close terminates the workers; pending calls reject. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = spawn();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (r: Reply) => {
      const p = slot.pending.get(r.job);
      slot.pending.delete(r.job);
      // An idle worker must not keep the process alive; a busy one must, or awaiting it could exit.
      if (slot.pending.size === 0) worker.unref();
      if (!p) return;
      if (r.ok) p.resolve(toBuffer(r.out));
      else p.reject(r.code ? new RepoError(r.code as RepoErrorCode, r.message, { object: r.object }) : new Error(r.message));
    });
    worker.on('error', (err) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    });
    worker.unref();
    return slot;
  }

  // Least-loaded worker: chunk costs vary (compressible text against random data) by tenfold.
  private pick(): number {
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i]!.pending.size < this.slots[best]!.pending.size) best = i;
    return best;
  }

  private call(worker: number, req: Request, transfer: ArrayBuffer[]): Promise<Buffer> {
    const slot = this.slots[worker]!;
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(req.job, { resolve, reject });
      slot.worker.postMessage(req, transfer);
    });
  }
}
