import { Readable } from 'node:stream';
import { ContentSaver } from './content.js';
import { corrupt } from './errors.js';
import type { Repository } from './repository.js';
import { Ticker, type ProgressFn } from './tree.js';

/** StreamManifest is the `tree` blob that lists a stream's chunks in order. */
export interface StreamManifest {
  readonly kind: 'stream';
  readonly size: number;
  readonly chunks: readonly string[];
}

/** StreamStats reports one written stream. */
export interface StreamStats {
  readonly bytes: number;
  readonly newBytes: number;
  readonly chunks: number;
}

/** WriteStreamOptions: `sizeHint` is the expected length, passed on to progress as the total. */
export interface WriteStreamOptions {
  readonly onProgress?: ProgressFn;
  readonly sizeHint?: number;
}

const PREFETCH = 4;

/**
 * writeStream chunks, deduplicates and stores a byte stream (a dump piped from a database, say) and
 * returns the id of its manifest. It pulls from `source` only as fast as chunks are packed, with
 * bounded memory. Call repo.flush() before recording the id anywhere durable.
 */
export async function writeStream(repo: Repository, source: AsyncIterable<Uint8Array>, opts: WriteStreamOptions = {}): Promise<{ id: string; stats: StreamStats }> {
  const ticker = new Ticker(opts.onProgress, opts.sizeHint === undefined ? {} : { bytesTotal: opts.sizeHint });
  const saved = await new ContentSaver(repo).saveStream(source, (n) => ticker.add(n, 0));
  const manifest: StreamManifest = { kind: 'stream', size: saved.bytes, chunks: saved.ids };
  const { id } = await repo.saveBlob('tree', Buffer.from(JSON.stringify(manifest)));
  ticker.add(0, 1);
  ticker.done();
  return { id, stats: { bytes: saved.bytes, newBytes: saved.newBytes, chunks: saved.ids.length } };
}

/** loadStreamManifest reads a stream manifest; anything else is a `corrupt` RepoError naming the id. */
export async function loadStreamManifest(repo: Repository, id: string): Promise<StreamManifest> {
  const m = JSON.parse((await repo.loadBlob(id)).toString('utf8')) as StreamManifest;
  if (m.kind !== 'stream' || !Array.isArray(m.chunks)) throw corrupt(`stream manifest ${id}`, 'not a stream manifest');
  return m;
}

/**
 * readStream returns a Readable of the stream's bytes. It loads a few chunks ahead and no more, so a
 * slow consumer holds memory flat; a damaged chunk destroys the stream with a `corrupt` RepoError.
 */
export function readStream(repo: Repository, id: string, opts: { onProgress?: ProgressFn } = {}): Readable {
  return Readable.from(chunks(repo, id, opts.onProgress), { objectMode: false });
}

async function* chunks(repo: Repository, id: string, onProgress?: ProgressFn): AsyncGenerator<Buffer> {
  const m = await loadStreamManifest(repo, id);
  const ticker = new Ticker(onProgress, { bytesTotal: m.size });
  const ahead: Promise<Buffer>[] = [];
  for (let i = 0; i < m.chunks.length; i++) {
    while (ahead.length <= PREFETCH && i + ahead.length < m.chunks.length) {
      const p = repo.loadBlob(m.chunks[i + ahead.length]!);
      p.catch(() => undefined);
      ahead.push(p);
    }
    const chunk = await ahead.shift()!;
    ticker.add(chunk.length, 0);
    yield chunk;
  }
  ticker.done();
}
