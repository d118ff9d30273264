import { RepoError, isRepoError } from './errors.js';
import { layout } from './format.js';
import {
  PENDING_PREFIX, acquirePruneLease, endWriters, liveWriters, writeNotice, WRITER_LEASE_PREFIX, type KeptLease, type LockOptions,
} from './locks.js';
import { readIndexFile, writeIndexFile, type PackEntry } from './master-index.js';
import type { PackedBlob } from './pack.js';
import { PACK_WRITER_META, type Repository } from './repository.js';
import { listSnapshotIds, loadSnapshot } from './snapshots.js';
import { loadStreamManifest } from './stream.js';
import { loadTree } from './tree.js';

/** PruneOptions: leases are tuned by LockOptions (tests shorten them). */
export interface PruneOptions extends LockOptions {
  /** forget deletes these snapshots first (each must exist, else a `missing` RepoError and nothing is done). */
  readonly forget?: readonly string[];
  /** waitMs is how long to wait for writers that may have deduplicated against doomed blobs (default 0:
   * defer to a later prune instead of waiting). */
  readonly waitMs?: number;
  /** repackThreshold: a pack whose unused share of bytes reaches this is rewritten; below it is kept. */
  readonly repackThreshold?: number;
}

/** PruneResult says what one prune did; `deferred` names the live writers that kept it from deleting. */
export interface PruneResult {
  readonly forgotten: string[];
  readonly deferred: readonly string[];
  readonly packsDeleted: number;
  readonly packsRepacked: number;
  readonly orphansDeleted: number;
  readonly blobsDeleted: number;
  readonly bytesFreed: number;
  readonly indexFilesReplaced: number;
}

/** DEFAULT_REPACK_THRESHOLD: rewriting a pack costs reading and writing all its live bytes, so only
 * packs at least a quarter garbage are rewritten; fully unused packs are always deleted. */
export const DEFAULT_REPACK_THRESHOLD = 0.25;

type Packs = Map<string, Map<string, PackedBlob>>;

interface Plan {
  readonly remove: Set<string>;
  readonly repack: Set<string>;
  readonly copy: string[];
  readonly doomed: string[];
  readonly keep: Set<string>;
}

/**
 * prune forgets snapshots and garbage-collects: packs no live snapshot needs are deleted, packs that
 * are partly used past repackThreshold are rewritten, and packs no index lists (crash leftovers) are
 * deleted once the writer that stored them has ended. Only one prune runs at a time (`locked`
 * RepoError otherwise). Safe beside any number of writers opened with openWriter (protocol in
 * docs/bank-format.md): it never deletes a blob a snapshot or a live writer may still name. It refuses
 * to delete anything when an index file, snapshot or tree cannot be read (a `corrupt` RepoError:
 * run check). Open `repo` with `loadIndex: false`; prune reads index files itself.
 */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const lease = await acquirePruneLease(repo.backend, opts);
  try {
    return await new Pruner(repo, lease, opts).run();
  } finally {
    await lease.release();
  }
}

class Pruner {
  private readonly result = {
    forgotten: [] as string[], deferred: [] as string[], packsDeleted: 0, packsRepacked: 0, orphansDeleted: 0, blobsDeleted: 0, bytesFreed: 0, indexFilesReplaced: 0,
  };
  private readonly walked = new Set<string>();
  private readonly indexRead = new Set<string>();
  // Blobs in packs indexed after our first read (writers, our repacking): stored elsewhere, not judged here.
  private readonly elsewhere = new Set<string>();

  constructor(private readonly repo: Repository, private readonly lease: KeptLease, private readonly opts: PruneOptions) {}

  async run(): Promise<PruneResult> {
    await this.forget(this.opts.forget ?? []);
    // Order matters: packs first, then leases, then indexes. A pack's writer took its lease before
    // storing it, so an unindexed pack seen here belongs to a lease we can see ended or live.
    const stored = await this.listPacks();
    const writers = new Set((await liveWriters(this.repo.backend, this.opts)).map((l) => l.name));
    const oldNotices = await this.keys(PENDING_PREFIX);
    const indexKeys = await this.keys(layout.indexPrefix);
    const packs = await this.readIndexes(indexKeys);
    const orphans = await this.orphans(stored, packs, writers);

    const threshold = this.opts.repackThreshold ?? DEFAULT_REPACK_THRESHOLD;
    const plan = classify(packs, await this.usedBlobs(), threshold, this.elsewhere);
    if (plan.remove.size > 0 || plan.repack.size > 0) {
      const notice = await writeNotice(this.repo, { time: new Date().toISOString(), blobs: plan.doomed, packs: [...plan.remove, ...plan.repack] });
      try {
        const still = await endWriters(this.repo.backend, (await liveWriters(this.repo.backend, this.opts)).map((l) => l.name), this.opts.waitMs ?? 0, this.opts);
        if (still.length > 0) this.result.deferred.push(...still);
        // Writers that ended meanwhile may have saved snapshots naming blobs we meant to delete.
        // Only packs the notice announced may go: writers avoided nothing else.
        else await this.collect(packs, indexKeys, classify(packs, await this.usedBlobs(true), threshold, this.elsewhere, new Set([...plan.remove, ...plan.repack])));
      } finally {
        await this.repo.backend.remove(notice);
      }
    }
    for (const [id, size] of orphans) {
      await this.lease.check();
      await this.repo.backend.remove(layout.pack(id));
      this.result.orphansDeleted++;
      this.result.bytesFreed += size;
    }
    // Notices of prunes that crashed: their deletions either happened or never will.
    if (this.result.deferred.length === 0) for (const key of oldNotices) await this.repo.backend.remove(key);
    return this.result;
  }

  private async forget(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      try {
        await this.repo.backend.stat(layout.snapshot(id));
      } catch (err) {
        if (this.repo.backend.isNotFound(err)) throw new RepoError('missing', `Snapshot ${id} does not exist; nothing was forgotten.`, { object: id });
        throw err;
      }
    }
    for (const id of ids) {
      await this.repo.backend.remove(layout.snapshot(id));
      this.result.forgotten.push(id);
    }
  }

  private async keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const info of this.repo.backend.list(prefix)) out.push(info.key);
    return out;
  }

  private async listPacks(): Promise<Map<string, { size: number; writer: string | undefined }>> {
    const out = new Map<string, { size: number; writer: string | undefined }>();
    for await (const info of this.repo.backend.list(layout.dataPrefix)) {
      out.set(info.key.slice(info.key.lastIndexOf('/') + 1), { size: info.size, writer: info.metadata[PACK_WRITER_META] });
    }
    return out;
  }

  private async readIndexes(keys: readonly string[]): Promise<Packs> {
    const packs: Packs = new Map();
    for (const key of keys) {
      const entries = await readIndexFile(this.repo.backend, this.repo.config.keys.enc, key);
      this.repo.indexPacks(entries);
      this.indexRead.add(key);
      for (const e of entries) {
        const blobs = packs.get(e.id) ?? new Map<string, PackedBlob>();
        packs.set(e.id, blobs);
        for (const b of e.blobs) blobs.set(b.id.toString('hex'), b);
      }
    }
    return packs;
  }

  // An unindexed pack is a leftover once its writer's lease has ended; expired leases are taken over
  // first so that the writer, should it wake up, cannot index the pack after we deleted it.
  private async orphans(stored: Map<string, { size: number; writer: string | undefined }>, packs: Packs, live: Set<string>): Promise<Map<string, number>> {
    const candidates = [...stored].filter(([id]) => !packs.has(id));
    const tags = [...new Set(candidates.flatMap(([, p]) => (p.writer?.startsWith(WRITER_LEASE_PREFIX) && !live.has(p.writer) ? [p.writer] : [])))];
    const stillLive = new Set(await endWriters(this.repo.backend, tags, 0, this.opts));
    const out = new Map<string, number>();
    for (const [id, p] of candidates) {
      // Untagged packs come from sessions outside the lease protocol: only safe when no writer is live.
      const dead = p.writer === undefined ? live.size === 0 : !live.has(p.writer) && !stillLive.has(p.writer);
      if (dead) out.set(id, p.size);
    }
    return out;
  }

  private async usedBlobs(again = false): Promise<Set<string>> {
    const used = new Set<string>();
    if (again) this.walked.clear();
    const ids = await listSnapshotIds(this.repo);
    // Writers index their packs before saving a snapshot, so index files read after the listing
    // locate every tree those snapshots name. They stay out of `packs`: nothing in them is deleted.
    for (const key of await this.keys(layout.indexPrefix)) {
      if (this.indexRead.has(key)) continue;
      const entries = await readIndexFile(this.repo.backend, this.repo.config.keys.enc, key).catch((err: unknown) => {
        if (this.repo.backend.isNotFound(err)) return [];
        throw err;
      });
      this.repo.indexPacks(entries);
      for (const e of entries) for (const b of e.blobs) this.elsewhere.add(b.id.toString('hex'));
      this.indexRead.add(key);
    }
    for (const id of ids) {
      const snap = await loadSnapshot(this.repo, id).catch((err: unknown) => {
        // Forgotten by nobody but us, so vanishing mid-run means a concurrent forget: not ours to judge.
        if (this.repo.backend.isNotFound(err)) return undefined;
        throw err;
      });
      for (const s of Object.values(snap?.sections ?? {})) {
        if (s.kind === 'stream') {
          used.add(s.root);
          for (const c of (await loadStreamManifest(this.repo, s.root)).chunks) used.add(c);
        } else await this.walkTree(s.root, used);
      }
    }
    return used;
  }

  private async walkTree(id: string, used: Set<string>): Promise<void> {
    used.add(id);
    if (this.walked.has(id)) return;
    this.walked.add(id);
    for (const node of (await loadTree(this.repo, id)).nodes) {
      if (node.type === 'dir') await this.walkTree(node.subtree, used);
      else if (node.type === 'file') for (const c of node.content) used.add(c);
    }
  }

  // New indexes are written before anything they replace is deleted, so a reader always finds every
  // live blob through some index file.
  private async collect(packs: Packs, indexKeys: readonly string[], plan: Plan): Promise<void> {
    await this.lease.check();
    for (const id of plan.copy) await this.repo.copyBlob(id);
    await this.repo.flush();
    const kept: PackEntry[] = [...plan.keep].map((id) => ({ id, blobs: [...packs.get(id)!.values()] }));
    if (kept.length > 0) await writeIndexFile(this.repo.backend, this.repo.config.keys.enc, kept);
    await this.lease.check();
    for (const key of indexKeys) await this.repo.backend.remove(key);
    this.result.indexFilesReplaced = indexKeys.length;
    for (const id of [...plan.remove, ...plan.repack]) {
      await this.repo.backend.remove(layout.pack(id));
      for (const b of packs.get(id)!.values()) this.result.bytesFreed += b.length;
    }
    this.result.packsDeleted = plan.remove.size;
    this.result.packsRepacked = plan.repack.size;
    this.result.blobsDeleted = plan.doomed.length;
  }
}

/**
 * classify decides per pack: remove (nothing used), repack (unused share ≥ threshold) or keep. A blob
 * stored twice (two writers raced) counts as used only where it lives first, and not at all in
 * `packs` when a copy is indexed elsewhere. Packs outside `movable` (when given) are kept.
 */
function classify(packs: Packs, used: Set<string>, threshold: number, elsewhere: Set<string>, movable?: Set<string>): Plan {
  const home = new Map<string, string>();
  for (const id of elsewhere) home.set(id, '');
  for (const [pack, blobs] of packs) for (const id of blobs.keys()) if (!home.has(id)) home.set(id, pack);
  const plan: Plan = { remove: new Set(), repack: new Set(), copy: [], doomed: [], keep: new Set() };
  for (const [pack, blobs] of packs) {
    let total = 0;
    let live = 0;
    const liveIds: string[] = [];
    for (const [id, b] of blobs) {
      total += b.length;
      if (used.has(id) && home.get(id) === pack) {
        live += b.length;
        liveIds.push(id);
      }
    }
    if (movable && !movable.has(pack)) plan.keep.add(pack);
    else if (live === 0) plan.remove.add(pack);
    else if ((total - live) / total >= threshold) {
      plan.repack.add(pack);
      plan.copy.push(...liveIds);
    } else plan.keep.add(pack);
  }
  const survives = new Set([...plan.copy, ...elsewhere]);
  for (const pack of plan.keep) for (const id of packs.get(pack)!.keys()) survives.add(id);
  const doomed = new Set<string>();
  for (const blobs of packs.values()) for (const id of blobs.keys()) if (!survives.has(id)) doomed.add(id);
  plan.doomed.push(...doomed);
  return plan;
}

/** isLockedError tells whether prune failed because another prune holds the bank. */
export function isLockedError(err: unknown): boolean {
  return isRepoError(err, 'locked');
}
