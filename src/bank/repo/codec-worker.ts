/*
 * Worker-thread side of CodecPool (keys travel with each request, so one pool serves every
 * repository): hashes, seals and opens blobs, and runs the file side of backup (worker-files.ts) and
 * restore (worker-restore.ts), so that the event loop only walks trees, dedups and moves buffers.
 * A hashed chunk waits here, under its job number, until the main thread says whether the
 * repository already has it (seal) or not (drop); that saves compressing duplicates.
 */
import { parentPort } from 'node:worker_threads';
import { blobId, openBlob, sealBlob, type BlobKeys } from './codec.js';
import { isRepoError } from './errors.js';
import type { BlobType } from './format.js';
import { ARENA, readFiles, recycleArena, scanDir, sealParked, type ChunkBatch, type ReadJob, type ScanEntry } from './worker-files.js';
import { restoreRange, type RangeBlob } from './worker-restore.js';

export type Request =
  | { op: 'hash'; job: number; keys: BlobKeys; data: Uint8Array }
  | { op: 'seal'; job: number; type: BlobType }
  | { op: 'drop'; job: number }
  | { op: 'open'; job: number; keys: BlobKeys; type: BlobType; id: Uint8Array; box: Uint8Array; rawLength: number; where: string }
  | { op: 'scan'; job: number; dir: string }
  | ({ op: 'read' } & ReadJob)
  | { op: 'sealParked'; job: number; of: number; seal: number[]; drop: number[]; arena?: ArrayBuffer }
  | { op: 'restore'; job: number; keys: BlobKeys; where: string; data: Uint8Array; blobs: RangeBlob[] };

/** Reply settles a request; `more` replies are progress of a read job that is still running. */
export type Reply =
  | { job: number; ok: true; out?: Uint8Array; entries?: ScanEntry[]; bytes?: number[]; lengths?: number[] }
  | { job: number; ok: true; more: ChunkBatch }
  | { job: number; ok: false; code?: string; message: string; object?: string };

const waiting = new Map<number, { keys: BlobKeys; data: Uint8Array; id: Buffer }>();
const port = parentPort!;

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

// Transferring a view of Node's shared small-buffer pool would detach the pool for everyone.
function send(job: number, out: Buffer, transfer = true, extra: { lengths?: number[] } = {}): void {
  const own = transfer && out.byteOffset === 0 && out.buffer.byteLength === out.length;
  port.postMessage({ job, ok: true, out, ...extra } satisfies Reply, own ? [out.buffer as ArrayBuffer] : []);
}

function fail(job: number, err: unknown): void {
  const e = err as Error;
  port.postMessage({ job, ok: false, message: e.message, ...(isRepoError(err) ? { code: err.code, object: err.object } : {}) } satisfies Reply);
}

function handle(req: Request): void {
  switch (req.op) {
    case 'hash': {
      const id = blobId(req.keys, req.data);
      waiting.set(req.job, { keys: req.keys, data: req.data, id });
      // The id stays here for seal(), so it is copied, not moved.
      return send(req.job, id, false);
    }
    case 'seal': {
      const w = waiting.get(req.job);
      waiting.delete(req.job);
      if (!w) throw new Error(`codec worker: no hashed job ${req.job}`);
      return send(req.job, sealBlob(w.keys, req.type, w.id, w.data));
    }
    case 'drop':
      waiting.delete(req.job);
      return;
    case 'open':
      return send(req.job, openBlob(req.keys, req.type, req.id, asBuffer(req.box), req.rawLength, req.where));
    case 'scan':
      return void port.postMessage({ job: req.job, ok: true, entries: scanDir(req.dir) } satisfies Reply);
    case 'read': {
      const job = req.job;
      readFiles(req, (more) => port.postMessage({ job, ok: true, more } satisfies Reply, [more.ids.buffer as ArrayBuffer])).then(
        (bytes) => port.postMessage({ job, ok: true, bytes } satisfies Reply),
        (err: unknown) => fail(job, err),
      );
      return;
    }
    case 'sealParked': {
      if (req.arena) recycleArena(req.arena);
      const { lengths, out } = sealParked(req.of, req.seal, req.drop);
      // `out` is a view of an arena: posted as a view it would be cloned, whole arena and all (4 MiB
      // copied per batch, and garbage on both threads). A mostly empty arena stays here and its
      // boxes go in a buffer of their own; a fuller one moves to the main thread, which hands it back.
      if (out.length <= ARENA / 4) {
        const own = Buffer.allocUnsafeSlow(out.length);
        out.copy(own);
        recycleArena(out.buffer as ArrayBuffer);
        return send(req.job, own, true, { lengths });
      }
      return void port.postMessage({ job: req.job, ok: true, out, lengths } satisfies Reply, [out.buffer as ArrayBuffer]);
    }
    case 'restore':
      restoreRange(req.keys, req.where, req.data, req.blobs);
      return void port.postMessage({ job: req.job, ok: true } satisfies Reply);
  }
}

port.on('message', (req: Request) => {
  try {
    handle(req);
  } catch (err) {
    fail(req.job, err);
  }
});

// HOARD_MEMLOG=1 (benchmarks) reports each new peak of this worker's memory, to find what holds it.
if (process.env.HOARD_MEMLOG === '1') {
  let top = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    const used = m.heapUsed + m.arrayBuffers;
    if (used > top + 8 * 2 ** 20) {
      top = used;
      console.error(`worker peak MiB heap=${(m.heapUsed / 2 ** 20).toFixed(0)}/${(m.heapTotal / 2 ** 20).toFixed(0)} arrayBuffers=${(m.arrayBuffers / 2 ** 20).toFixed(0)} rss=${(m.rss / 2 ** 20).toFixed(0)}`);
    }
  }, 50).unref();
}
