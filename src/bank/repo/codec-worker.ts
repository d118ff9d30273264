/*
 * Worker-thread side of CodecPool (keys travel with each request, so one pool serves every repository): hashes, seals and opens blobs so that the event loop only moves
 * buffers. A hashed chunk waits here, under its job number, until the main thread says whether the
 * repository already has it (seal) or not (drop); that saves compressing duplicates.
 */
import { parentPort } from 'node:worker_threads';
import { blobId, openBlob, sealBlob, type BlobKeys } from './codec.js';
import { isRepoError } from './errors.js';
import type { BlobType } from './format.js';

export type Request =
  | { op: 'hash'; job: number; keys: BlobKeys; data: Uint8Array }
  | { op: 'seal'; job: number; type: BlobType }
  | { op: 'drop'; job: number }
  | { op: 'open'; job: number; keys: BlobKeys; type: BlobType; id: Uint8Array; box: Uint8Array; rawLength: number; where: string };

export type Reply =
  | { job: number; ok: true; out: Uint8Array }
  | { job: number; ok: false; code?: string; message: string; object?: string };

const waiting = new Map<number, { keys: BlobKeys; data: Uint8Array; id: Buffer }>();
const port = parentPort!;

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

// Transferring a view of Node's shared small-buffer pool would detach the pool for everyone.
function send(job: number, out: Buffer, transfer = true): void {
  const own = transfer && out.byteOffset === 0 && out.buffer.byteLength === out.length;
  port.postMessage({ job, ok: true, out } satisfies Reply, own ? [out.buffer as ArrayBuffer] : []);
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
  }
}

port.on('message', (req: Request) => {
  try {
    handle(req);
  } catch (err) {
    const e = err as Error;
    port.postMessage({ job: req.job, ok: false, message: e.message, ...(isRepoError(err) ? { code: err.code, object: err.object } : {}) } satisfies Reply);
  }
});
