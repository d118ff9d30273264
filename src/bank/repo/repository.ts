import { randomBytes, randomUUID } from 'node:crypto';
import { bankErrorKind, type BankBackend } from '../backend.js';
import { Chunker } from './chunker.js';
import { blobId, openBlob, sealBlob } from './codec.js';
import { open, randomKey, seal, type ScryptParams } from './crypto.js';
import { RepoError, corrupt } from './errors.js';
import { DEFAULT_CHUNKER, PACK_TARGET, aad, layout, type BlobType, type ChunkerParams } from './format.js';
import { addKey, readConfig, unlock, writeConfig, type Credential, type RepoConfig } from './keys.js';
import { MasterIndex, loadIndexFiles, writeIndexFile, type Location, type PackEntry } from './master-index.js';
import { PackBuilder, type FinishedPack } from './pack.js';
import { CodecPool } from './pool.js';

/** RepoOptions tune a Repository session; none of them changes the stored format. */
export interface RepoOptions {
  /** workers 0 keeps all codec work on the calling thread; otherwise the process-wide CodecPool is used. */
  readonly workers?: 0 | 'shared';
  /** packTarget closes packs at this size (bytes); tests lower it to get many packs. */
  readonly packTarget?: number;
  /** writer ties the session to a writer lease (locks.ts): packs are tagged with it, and guard() runs
   * (renewing the lease, throwing once it is lost) before every index file and snapshot is written. */
  readonly writer?: WriterHooks;
  /** loadIndex false opens without reading index files (check and prune read them one by one). */
  readonly loadIndex?: boolean;
}

/** WriterHooks: `tag` (a lease name) goes into each pack's `writer` metadata; `guard` must throw when
 * the session may no longer publish index files or snapshots. */
export interface WriterHooks {
  readonly tag: string;
  guard(): Promise<void>;
}

/** PACK_WRITER_META is the pack metadata naming the writer lease that stored it (crash cleanup). */
export const PACK_WRITER_META = 'writer';

/** InitOptions also fix what init writes: key-derivation cost and chunker sizes. */
export interface InitOptions extends RepoOptions {
  readonly scrypt?: ScryptParams;
  readonly chunker?: Partial<Omit<ChunkerParams, 'seed'>>;
}

/** SaveResult reports one saveBlob: the blob id (hex) and whether this call added it. */
export interface SaveResult {
  readonly id: string;
  readonly added: boolean;
}

/** RepoStats counts what this session added. */
export interface RepoStats {
  blobsAdded: number;
  blobsDeduped: number;
  rawBytesAdded: number;
  storedBytesAdded: number;
  packsWritten: number;
}

// Messaging a worker costs more than hashing and sealing a chunk this small on the spot.
const INLINE_LIMIT = 64 * 1024;
const MAX_UPLOADS = 1;
const PACKS_PER_INDEX = 64;

/**
 * Repository is a deduplicating, compressed, encrypted blob store on a BankBackend: blobs go into
 * packs under data/, their locations into index files under index/. Many sessions may write to one
 * bank at once when each is opened with openWriter (locks.ts), which also keeps a concurrent prune
 * from deleting what they use; many may read. Methods may be called concurrently;
 * saved blobs are durable and readable after flush(). A failed upload poisons the session: every
 * later save and flush rethrows it, so nothing is reported saved that is not stored.
 */
export class Repository {
  readonly stats: RepoStats = { blobsAdded: 0, blobsDeduped: 0, rawBytesAdded: 0, storedBytesAdded: 0, packsWritten: 0 };
  private readonly index = new MasterIndex();
  // Index files already merged into `index` (read or written by this session), so a refresh reads only new ones.
  private readonly indexFiles = new Set<string>();
  private readonly reserved = new Set<string>();
  // Sealed blobs not yet in an uploaded pack: readable before flush() (an incremental run reads its own trees).
  private readonly unpacked = new Map<string, { type: BlobType; box: Buffer; rawLength: number }>();
  private readonly uploads = new Set<Promise<void>>();
  private readonly pool: CodecPool | undefined;
  // Blob ids a prune announced for deletion: never deduplicated against, so stored anew when needed.
  private readonly doomed: Set<string>;
  private pack: PackBuilder;
  private failure: unknown;

  private constructor(readonly backend: BankBackend, readonly config: RepoConfig, private readonly opts: RepoOptions) {
    this.pool = opts.workers === 0 ? undefined : CodecPool.shared();
    this.doomed = new Set();
    this.pack = this.newPack();
  }

  /** init creates a repository in an empty bank and opens it; it refuses a bank that has a config. */
  static async init(backend: BankBackend, cred: Credential, opts: InitOptions = {}): Promise<Repository> {
    const master = randomKey();
    const chunker = { ...DEFAULT_CHUNKER, ...opts.chunker, seed: randomBytes(16).toString('hex') };
    const config: RepoConfig = { id: randomUUID(), chunker, keys: { enc: randomKey(), mac: randomKey() } };
    try {
      await writeConfig(backend, master, config);
    } catch (err) {
      if (backend.isConflict(err)) throw new RepoError('format', 'This bank already holds a repository (config exists).', { object: 'config' });
      throw err;
    }
    await addKey(backend, master, cred, opts.scrypt);
    return new Repository(backend, config, opts);
  }

  /** open unlocks a repository and loads its index; a wrong credential is a `wrong_key` RepoError. */
  static async open(backend: BankBackend, cred: Credential, opts: RepoOptions = {}): Promise<Repository> {
    // Workers take about half a second of CPU to boot (Node's internals compile per isolate): start
    // them now so they boot while the key is derived (scrypt, ~100 ms) and the index loads.
    if (opts.workers !== 0) CodecPool.shared();
    const config = await readConfig(backend, await unlock(backend, cred));
    const repo = new Repository(backend, config, opts);
    if (opts.loadIndex !== false) await loadIndexFiles(backend, config.keys.enc, repo.index, repo.indexFiles);
    return repo;
  }

  /** newChunker returns a chunker with this repository's parameters, for one stream. */
  newChunker(): Chunker {
    return new Chunker(this.config.chunker);
  }

  /** hasBlob tells whether a blob is stored or being stored in this session. */
  hasBlob(id: string): boolean {
    return (this.index.get(id) !== undefined && !this.doomed.has(id)) || this.reserved.has(id);
  }

  /** loadIndex reads every index file into this session's index (open does it unless `loadIndex` is false). */
  async loadIndex(): Promise<number> {
    return loadIndexFiles(this.backend, this.config.keys.enc, this.index, this.indexFiles);
  }

  /**
   * refreshIndex reads the index files published since this session last looked: a long-lived session
   * (one per bank per process) must see what other processes stored before it reads their snapshots, and
   * a prune's new locations for repacked blobs. Answers how many files it read.
   */
  async refreshIndex(): Promise<number> {
    return loadIndexFiles(this.backend, this.config.keys.enc, this.index, this.indexFiles);
  }

  /** avoid stops deduplication against these blob ids (announced for deletion by a prune, see locks.ts). */
  avoid(ids: Iterable<string>): void {
    for (const id of ids) this.doomed.add(id);
  }

  /** indexPacks adds packs read from index files by the caller (check, prune) to this session's index. */
  indexPacks(entries: readonly PackEntry[]): void {
    for (const e of entries) this.index.addPack(e, true);
  }

  /** locate returns where the index says a blob is stored, or undefined. */
  locate(id: string): Location | undefined {
    return this.index.get(id);
  }

  /**
   * copyBlob stores an already stored blob once more in this session's packs, without deduplication:
   * prune's repacking. The blob is opened first, so damage is never copied (a `corrupt` RepoError).
   */
  async copyBlob(id: string): Promise<void> {
    this.throwIfFailed();
    const loc = this.index.get(id);
    if (!loc) throw new RepoError('missing', `Blob ${id} is not in the repository index.`, { object: id });
    const where = layout.pack(loc.pack);
    const box = await this.readRange(where, loc.offset, loc.length, `${loc.type} blob ${id} in ${where}`);
    openBlob(this.config.keys, loc.type, Buffer.from(id, 'hex'), box, loc.rawLength, where);
    this.reserved.add(id);
    await this.addToPack(loc.type, Buffer.from(id, 'hex'), Buffer.from(box), loc.rawLength);
  }

  /** guard runs the writer hook: before publishing anything that names blobs (saveSnapshot calls it). */
  async guard(): Promise<void> {
    await this.opts.writer?.guard();
  }

  /**
   * saveBlob stores a blob unless the repository has it already. It takes ownership of `data` (the
   * buffer may be moved to a worker thread). Resolves once the blob is in a pack being built, not once
   * it is durable: call flush() for that.
   */
  async saveBlob(type: BlobType, data: Buffer): Promise<SaveResult> {
    this.throwIfFailed();
    if (!this.pool || data.length < INLINE_LIMIT) return this.saveInline(type, data);
    const rawLength = data.length; // before hash(): moving the buffer to a worker empties it here
    const { id, ticket } = await this.pool.hash(this.config.keys, data);
    const hex = id.toString('hex');
    if (this.hasBlob(hex)) {
      this.pool.drop(ticket);
      return this.deduped(hex);
    }
    this.reserved.add(hex);
    try {
      await this.addToPack(type, id, await this.pool.seal(ticket, type), rawLength);
    } catch (err) {
      this.reserved.delete(hex);
      throw err;
    }
    return { id: hex, added: true };
  }

  /** codecPool is the worker pool of this session, or undefined when codec work runs inline (workers: 0). */
  get codecPool(): CodecPool | undefined {
    return this.pool;
  }

  /**
   * claimBlob starts saving a blob that the caller seals itself (a worker that read the file): true
   * reserves `id`, and the caller must then call addSealedBlob or unclaimBlob; false means the
   * repository has it already (counted as deduplicated).
   */
  claimBlob(id: string): boolean {
    this.throwIfFailed();
    if (this.hasBlob(id)) {
      this.stats.blobsDeduped++;
      return false;
    }
    this.reserved.add(id);
    return true;
  }

  /** unclaimBlob gives up a claim whose blob will not be added. */
  unclaimBlob(id: string): void {
    this.reserved.delete(id);
  }

  /** addSealedBlob adds a blob claimed with claimBlob and sealed by sealBlob (so its id and box match). */
  async addSealedBlob(type: BlobType, id: Buffer, box: Uint8Array, rawLength: number): Promise<void> {
    this.throwIfFailed();
    await this.addToPack(type, id, box, rawLength);
  }

  /**
   * loadBlob reads, authenticates and decodes one blob, stored or saved earlier in this session;
   * damage is a `corrupt` RepoError naming the blob and its pack, absence a `missing` one.
   */
  async loadBlob(id: string): Promise<Buffer> {
    const loc = this.index.get(id);
    const mine = loc ? undefined : this.unpacked.get(id);
    if (mine) return openBlob(this.config.keys, mine.type, Buffer.from(id, 'hex'), mine.box, mine.rawLength, 'the pack being written');
    if (!loc) throw new RepoError('missing', `Blob ${id} is not in the repository index.`, { object: id });
    const where = layout.pack(loc.pack);
    const box = await this.readRange(where, loc.offset, loc.length, `${loc.type} blob ${id} in ${where}`);
    const idBuf = Buffer.from(id, 'hex');
    if (this.pool && loc.length >= INLINE_LIMIT) return this.pool.open(this.config.keys, loc.type, idBuf, box, loc.rawLength, where);
    return openBlob(this.config.keys, loc.type, idBuf, box, loc.rawLength, where);
  }

  /** flush uploads the open pack, waits for every upload and writes an index file for new packs. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.pack.count > 0) this.startUpload(this.finishPack());
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.throwIfFailed();
    if (this.index.unsavedCount > 0) await this.guard();
    if (this.index.unsavedCount > 0) this.indexFiles.add(layout.index(await writeIndexFile(this.backend, this.config.keys.enc, this.index.takeUnsaved())));
  }

  /** close flushes; the shared worker pool stays for other repositories and idles without holding the process. */
  async close(): Promise<void> {
    await this.flush();
  }

  /** sealObject encrypts a metadata object (snapshot, manifest) for storage under `role`. */
  sealObject(role: string, plain: Uint8Array): Buffer {
    return seal(this.config.keys.enc, [plain], aad(role));
  }

  /** openObject decrypts a metadata object; damage is a `corrupt` RepoError naming `key`. */
  openObject(role: string, key: string, box: Uint8Array): Buffer {
    const plain = open(this.config.keys.enc, box, aad(role));
    if (!plain) throw corrupt(key, 'authentication failed');
    return plain;
  }

  private async readRange(key: string, offset: number, length: number, what: string): Promise<Uint8Array> {
    let box: Uint8Array;
    try {
      box = await this.backend.get(key, { offset, length });
    } catch (err) {
      if (this.backend.isNotFound(err)) throw new RepoError('missing', `Bank data is missing: ${what}: the pack does not exist.`, { object: key, cause: err });
      if (bankErrorKind(err) === 'invalid') throw corrupt(what, 'pack is truncated', err);
      throw err;
    }
    if (box.length !== length) throw corrupt(what, `pack is truncated (${box.length} of ${length} bytes)`);
    return box;
  }

  private async saveInline(type: BlobType, data: Buffer): Promise<SaveResult> {
    const id = blobId(this.config.keys, data);
    const hex = id.toString('hex');
    if (this.hasBlob(hex)) return this.deduped(hex);
    this.reserved.add(hex);
    await this.addToPack(type, id, sealBlob(this.config.keys, type, id, data), data.length);
    return { id: hex, added: true };
  }

  private deduped(id: string): SaveResult {
    this.stats.blobsDeduped++;
    return { id, added: false };
  }

  private async addToPack(type: BlobType, id: Buffer, box: Uint8Array, rawLength: number): Promise<void> {
    // A full open pack is closed only once no other pack is being stored, and every producer waits
    // for that, not only the one that filled it: so at most two pack buffers exist (one filling, one
    // being stored), and a full pack never grows past its target while it waits.
    for (;;) {
      this.throwIfFailed();
      if (this.pack.size < (this.opts.packTarget ?? PACK_TARGET)) break;
      if (this.uploads.size < MAX_UPLOADS) this.startUpload(this.finishPack());
      else await Promise.race(this.uploads);
    }
    this.unpacked.set(id.toString('hex'), { type, box: this.pack.add(type, id, box, rawLength), rawLength });
    this.stats.blobsAdded++;
    this.stats.rawBytesAdded += rawLength;
    if (this.pack.size >= (this.opts.packTarget ?? PACK_TARGET) && this.uploads.size < MAX_UPLOADS) this.startUpload(this.finishPack());
  }

  private finishPack(): FinishedPack {
    const done = this.pack.finish(this.config.keys.enc);
    this.pack = this.newPack();
    return done;
  }

  // Room for a full pack plus a typical last blob and the header; a pack that ends with a larger blob
  // grows once. Room for a maximal chunk in every pack buffer cost 8 MiB of memory per buffer.
  private newPack(): PackBuilder {
    return new PackBuilder((this.opts.packTarget ?? PACK_TARGET) + 2 * 1024 * 1024);
  }

  private startUpload(pack: FinishedPack): void {
    const p = this.upload(pack).finally(() => this.uploads.delete(p));
    this.uploads.add(p);
  }

  private async upload(pack: FinishedPack): Promise<void> {
    try {
      const tag = this.opts.writer?.tag;
      await this.backend.put(layout.pack(pack.id), pack.bytes, tag ? { metadata: { [PACK_WRITER_META]: tag } } : undefined);
      this.index.addPack({ id: pack.id, blobs: pack.blobs }, false);
      for (const b of pack.blobs) {
        const hex = b.id.toString('hex');
        this.reserved.delete(hex);
        this.unpacked.delete(hex);
        this.doomed.delete(hex);
      }
      this.stats.packsWritten++;
      this.stats.storedBytesAdded += pack.bytes.length;
      if (this.index.unsavedCount >= PACKS_PER_INDEX) await this.guard();
      if (this.index.unsavedCount >= PACKS_PER_INDEX) this.indexFiles.add(layout.index(await writeIndexFile(this.backend, this.config.keys.enc, this.index.takeUnsaved())));
    } catch (err) {
      this.failure ??= err;
    } finally {
      // The unpacked views point into this buffer; after a failure the session is dead anyway.
      if (this.failure === undefined) pack.release();
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
