import { open } from 'node:fs/promises';
import type { Chunker } from './chunker.js';
import { Budget } from './limit.js';
import type { Repository, SaveResult } from './repository.js';

/** ContentResult lists a byte stream's chunk ids in order, its length and how many bytes were new. */
export interface ContentResult {
  readonly ids: string[];
  readonly bytes: number;
  readonly newBytes: number;
}

const READ_SIZE = 1024 * 1024;
/** IN_FLIGHT_BYTES bounds chunk bytes between the reader and the packer, whatever the data size. */
export const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * ContentSaver chunks byte streams and files into data blobs. Any number of streams may be saved
 * concurrently; together they hold at most IN_FLIGHT_BYTES of chunks not yet packed (a reader waits
 * for room, which is the backpressure on the source). Errors from reading or saving reject the call.
 */
export class ContentSaver {
  private readonly budget = new Budget(IN_FLIGHT_BYTES);
  private readonly chunkers: Chunker[] = [];

  constructor(private readonly repo: Repository) {}

  /** saveStream chunks an async byte source; `onBytes` hears of each piece read. */
  async saveStream(source: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): Promise<ContentResult> {
    return this.withChunker(async (chunker, acc) => {
      for await (const piece of source) {
        onBytes?.(piece.length);
        await acc.push(chunker.push(piece));
      }
    });
  }

  /**
   * saveFile chunks the file at `path` (a Buffer, so any name bytes work) from start to end of file;
   * `sizeHint` (from lstat) only sizes the read buffer, the file may grow or shrink meanwhile.
   */
  async saveFile(path: Buffer, onBytes?: (n: number) => void, sizeHint = READ_SIZE): Promise<ContentResult> {
    const fh = await open(path, 'r');
    try {
      return await this.withChunker(async (chunker, acc) => {
        // Sized to the file: 20,000 small files must not each allocate a 1 MiB buffer.
        const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(4096, sizeHint + 1)));
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) return;
          onBytes?.(bytesRead);
          await acc.push(chunker.push(buf.subarray(0, bytesRead)));
        }
      });
    } finally {
      await fh.close();
    }
  }

  private async withChunker(feed: (chunker: Chunker, acc: Accumulator) => Promise<void>): Promise<ContentResult> {
    const chunker = this.chunkers.pop() ?? this.repo.newChunker();
    const acc = new Accumulator(this.repo, this.budget);
    try {
      await feed(chunker, acc);
      await acc.push(chunker.finish());
    } catch (err) {
      chunker.finish();
      await acc.settle().catch(() => undefined);
      throw err;
    } finally {
      this.chunkers.push(chunker);
    }
    return acc.settle();
  }
}

// Accumulator keeps one stream's chunk saves in order while letting them run concurrently.
class Accumulator {
  private readonly saves: Promise<SaveResult>[] = [];
  private readonly sizes: number[] = [];

  constructor(private readonly repo: Repository, private readonly budget: Budget) {}

  async push(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      const n = chunk.length;
      await this.budget.acquire(n);
      this.sizes.push(n);
      const save = this.repo.saveBlob('data', chunk).finally(() => this.budget.release(n));
      // settle() reports the failure; until then it must not count as unhandled.
      save.catch(() => undefined);
      this.saves.push(save);
    }
  }

  async settle(): Promise<ContentResult> {
    const results = await Promise.all(this.saves);
    let bytes = 0;
    let newBytes = 0;
    results.forEach((r, i) => {
      bytes += this.sizes[i]!;
      if (r.added) newBytes += this.sizes[i]!;
    });
    return { ids: results.map((r) => r.id), bytes, newBytes };
  }
}
