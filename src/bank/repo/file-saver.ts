import { lstat, readdir, readlink } from 'node:fs/promises';
import { ContentSaver, type ContentResult } from './content.js';
import { Budget, mapLimit } from './limit.js';
import type { CodecPool } from './pool.js';
import type { Repository } from './repository.js';
import type { ChunkBatch, ScanEntry } from './worker-files.js';

/** FileSource is how the archiver lists directories and saves file contents. */
export interface FileSource {
  /** scan lists a directory sorted by name bytes, with lstat fields. */
  scan(dir: Buffer): Promise<ScanEntry[]>;
  /** save stores whole files (sizes from lstat are hints) and returns each one's chunk ids in order. */
  save(paths: Buffer[], sizes: number[]): Promise<ContentResult[]>;
}

// Raw bytes of chunks asked to be sealed and not yet in a pack: bounds the sealed boxes on this thread.
const SEAL_BYTES = 8 * 1024 * 1024;
const ID = 32;

/**
 * PooledFiles saves files with the codec pool: a worker reads, chunks and hashes them; this thread
 * only decides which chunks are new (claimBlob) and copies their sealed boxes into packs. Chunk bytes
 * never cross threads; only ids go one way and sealed boxes (one transfer per batch) the other.
 */
export class PooledFiles implements FileSource {
  private readonly budget = new Budget(SEAL_BYTES);

  constructor(private readonly repo: Repository, private readonly pool: CodecPool) {}

  scan(dir: Buffer): Promise<ScanEntry[]> {
    return this.pool.scan(dir);
  }

  async save(paths: Buffer[], sizes: number[]): Promise<ContentResult[]> {
    const ids: string[][] = paths.map(() => []);
    const fresh: number[] = paths.map(() => 0);
    const work: Promise<void>[] = [];
    // Batches arrive in order, so each file's ids are appended in order.
    const onBatch = (worker: number, job: number, batch: ChunkBatch): void => {
      const seal: number[] = [];
      const drop: number[] = [];
      const sealIds: Buffer[] = [];
      const sealSizes: number[] = [];
      batch.sizes.forEach((size, i) => {
        const id = Buffer.from(batch.ids.subarray(i * ID, (i + 1) * ID));
        const hex = id.toString('hex');
        const file = batch.files[i]!;
        ids[file]!.push(hex);
        if (this.repo.claimBlob(hex)) {
          seal.push(batch.first + i);
          sealIds.push(id);
          sealSizes.push(size);
          fresh[file]! += size;
        } else drop.push(batch.first + i);
      });
      const p = this.seal(worker, job, seal, drop, sealIds, sealSizes);
      p.catch(() => undefined);
      work.push(p);
    };
    let bytes: number[];
    try {
      bytes = await this.pool.read(this.repo.config.keys, this.repo.config.chunker, paths, sizes, onBatch);
    } finally {
      // The final reply follows every batch, so `work` is complete here; settle it even on failure.
      await Promise.allSettled(work);
    }
    await Promise.all(work);
    return paths.map((_, f) => ({ ids: ids[f]!, bytes: bytes[f]!, newBytes: fresh[f]! }));
  }

  private async seal(worker: number, job: number, seal: number[], drop: number[], ids: Buffer[], sizes: number[]): Promise<void> {
    const raw = sizes.reduce((a, b) => a + b, 0);
    await this.budget.acquire(raw);
    let added = 0;
    try {
      const { lengths, out } = await this.pool.sealParked(worker, job, seal, drop);
      let at = 0;
      for (; added < ids.length; added++) {
        await this.repo.addSealedBlob('data', ids[added]!, out.subarray(at, at + lengths[added]!), sizes[added]!);
        at += lengths[added]!;
      }
      // Copied into packs: the arena goes back to a worker instead of waiting here for a GC.
      this.pool.recycle(out);
    } catch (err) {
      for (const id of ids.slice(added)) this.repo.unclaimBlob(id.toString('hex'));
      throw err;
    } finally {
      this.budget.release(raw);
    }
  }
}

// Files read at once without workers: enough to overlap I/O latency, few enough to stay gentle.
const INLINE_CONCURRENCY = 8;

/** InlineFiles saves files on the calling thread (workers: 0), with async fs calls and ContentSaver. */
export class InlineFiles implements FileSource {
  private readonly saver: ContentSaver;

  constructor(repo: Repository) {
    this.saver = new ContentSaver(repo);
  }

  async scan(dir: Buffer): Promise<ScanEntry[]> {
    const names = (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare);
    return mapLimit(names, INLINE_CONCURRENCY, async (name) => {
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = await lstat(path, { bigint: true });
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      return {
        name: name.toString('latin1'), kind, mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs.toString(), uid: Number(st.uid), gid: Number(st.gid),
        size: Number(st.size), ino: st.ino.toString(), dev: st.dev.toString(), ...(kind === 'symlink' ? { target: (await readlink(path, { encoding: 'buffer' })).toString('latin1') } : {}),
      } satisfies ScanEntry;
    });
  }

  save(paths: Buffer[], sizes: number[]): Promise<ContentResult[]> {
    return mapLimit(paths, INLINE_CONCURRENCY, (p, i) => this.saver.saveFile(p, undefined, sizes[i]));
  }
}
