import { createHash } from 'node:crypto';
import { blobId, openBlob } from './codec.js';
import { isRepoError } from './errors.js';
import { layout } from './format.js';
import { readIndexFile, type PackEntry } from './master-index.js';
import { readPackHeader, type PackedBlob } from './pack.js';
import type { Repository } from './repository.js';
import { listSnapshotIds, loadSnapshot, type Snapshot } from './snapshots.js';
import { loadStreamManifest } from './stream.js';
import { loadTree, nameBytes, type TreeNode } from './tree.js';

/** FindingKind says what is damaged: a bank object (index file, pack, blob, snapshot) or what a
 * snapshot holds (a directory's tree, a file, a stream section). */
export type FindingKind = 'index' | 'pack' | 'blob' | 'snapshot' | 'tree' | 'file' | 'stream';

/** Finding is one piece of damage: `object` is a bank key or blob id; snapshot findings name the
 * snapshot, its section and the path inside it, so a person knows what can no longer be restored. */
export interface Finding {
  readonly kind: FindingKind;
  readonly object: string;
  readonly reason: string;
  readonly snapshot?: string;
  readonly section?: string;
  readonly path?: string;
}

/** CheckStats counts what a check looked at. */
export interface CheckStats {
  indexFiles: number;
  packs: number;
  blobs: number;
  snapshots: number;
  trees: number;
  bytesRead: number;
}

/** CheckResult: `ok` is true when nothing is damaged. Unindexed packs are leftovers of interrupted
 * writers, not damage (prune removes them once their writer's lease has ended). */
export interface CheckResult {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  readonly damagedSnapshots: readonly string[];
  readonly unindexedPacks: readonly string[];
  readonly stats: CheckStats;
}

/** CheckOptions: readData reads every pack whole, checks its id and opens and re-hashes every blob. */
export interface CheckOptions {
  readonly readData?: boolean;
}

interface Problem {
  readonly kind: 'tree' | 'file' | 'stream';
  readonly object: string;
  readonly path: string;
  readonly reason: string;
}

const NONE: readonly Problem[] = Object.freeze([]);

/**
 * check verifies a repository: every index entry points into an existing pack and agrees with that
 * pack's header, every snapshot decodes and every tree and chunk it names is indexed and readable;
 * with readData every blob is also read, authenticated, decoded and re-hashed. It never throws for
 * damage (that becomes findings); backend failures (unreachable store) reject. Open the repository
 * with `loadIndex: false` so that a damaged index file is reported instead of stopping open. Read-only,
 * so safe beside writers; a pack or snapshot written during the run may or may not be looked at.
 */
export async function check(repo: Repository, opts: CheckOptions = {}): Promise<CheckResult> {
  return new Checker(repo, opts.readData === true).run();
}

class Checker {
  private readonly findings: Finding[] = [];
  private readonly stats: CheckStats = { indexFiles: 0, packs: 0, blobs: 0, snapshots: 0, trees: 0, bytesRead: 0 };
  // Blob id → why it cannot be read; filled by the pack pass, consulted by the snapshot pass.
  private readonly bad = new Map<string, string>();
  private readonly indexed = new Set<string>();
  private readonly trees = new Map<string, Promise<readonly Problem[]>>();

  constructor(private readonly repo: Repository, private readonly readData: boolean) {}

  async run(): Promise<CheckResult> {
    const stored = await this.listPacks();
    const packs = await this.readIndexes();
    for (const [id, entry] of packs) await this.checkPack(id, entry, stored.get(id));
    const unindexedPacks = [...stored.keys()].filter((id) => !packs.has(id)).sort();
    await this.checkSnapshots();
    const damagedSnapshots = [...new Set(this.findings.flatMap((f) => (f.snapshot ? [f.snapshot] : [])))].sort();
    return { ok: this.findings.length === 0, findings: this.findings, damagedSnapshots, unindexedPacks, stats: this.stats };
  }

  private async listPacks(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for await (const info of this.repo.backend.list(layout.dataPrefix)) out.set(info.key.slice(info.key.lastIndexOf('/') + 1), info.size);
    return out;
  }

  private async readIndexes(): Promise<Map<string, { blobs: Map<string, PackedBlob>; files: string[] }>> {
    const packs = new Map<string, { blobs: Map<string, PackedBlob>; files: string[] }>();
    const keys: string[] = [];
    for await (const info of this.repo.backend.list(layout.indexPrefix)) keys.push(info.key);
    for (const key of keys) {
      let entries: PackEntry[];
      try {
        entries = await readIndexFile(this.repo.backend, this.repo.config.keys.enc, key);
      } catch (err) {
        if (!isRepoError(err)) throw err;
        this.findings.push({ kind: 'index', object: key, reason: err.message });
        continue;
      }
      this.stats.indexFiles++;
      this.repo.indexPacks(entries);
      for (const e of entries) {
        const p = packs.get(e.id) ?? { blobs: new Map<string, PackedBlob>(), files: [] };
        packs.set(e.id, p);
        p.files.push(key);
        for (const b of e.blobs) {
          p.blobs.set(b.id.toString('hex'), b);
          this.indexed.add(b.id.toString('hex'));
        }
      }
    }
    return packs;
  }

  private async checkPack(id: string, entry: { blobs: Map<string, PackedBlob>; files: string[] }, size: number | undefined): Promise<void> {
    const key = layout.pack(id);
    this.stats.packs++;
    this.stats.blobs += entry.blobs.size;
    if (size === undefined) {
      const why = `pack ${key} is missing (listed by ${entry.files.join(', ')})`;
      this.findings.push({ kind: 'pack', object: key, reason: why });
      for (const blob of entry.blobs.keys()) this.bad.set(blob, why);
      return;
    }
    await this.compareHeader(key, id, entry.blobs);
    if (this.readData) await this.readBlobs(key, id, entry.blobs);
  }

  // The header is written with the pack and the index later, so disagreement means one was damaged or forged.
  private async compareHeader(key: string, id: string, blobs: Map<string, PackedBlob>): Promise<void> {
    let header: PackedBlob[];
    try {
      header = await readPackHeader(this.repo.backend, id, this.repo.config.keys.enc);
    } catch (err) {
      if (!isRepoError(err)) throw err;
      this.findings.push({ kind: 'pack', object: key, reason: err.message });
      return;
    }
    const inHeader = new Map(header.map((b) => [b.id.toString('hex'), b]));
    for (const [blob, b] of blobs) {
      const h = inHeader.get(blob);
      if (h && h.type === b.type && h.offset === b.offset && h.length === b.length && h.rawLength === b.rawLength) continue;
      const why = h ? `the index places blob ${blob} differently from the header of ${key}` : `blob ${blob} is indexed in ${key} but not in its header`;
      this.findings.push({ kind: 'pack', object: key, reason: why });
      this.bad.set(blob, why);
    }
  }

  private async readBlobs(key: string, id: string, blobs: Map<string, PackedBlob>): Promise<void> {
    const bytes = Buffer.from(await this.repo.backend.get(key));
    this.stats.bytesRead += bytes.length;
    if (createHash('sha256').update(bytes).digest('hex') !== id) {
      this.findings.push({ kind: 'pack', object: key, reason: `content of ${key} does not match its id (changed bytes)` });
    }
    const keys = this.repo.config.keys;
    for (const [blob, b] of blobs) {
      const idBuf = Buffer.from(blob, 'hex');
      let why: string | undefined;
      if (b.offset + b.length > bytes.length) why = `${b.type} blob ${blob} lies beyond the end of ${key}`;
      else {
        try {
          const plain = openBlob(keys, b.type, idBuf, bytes.subarray(b.offset, b.offset + b.length), b.rawLength, key);
          if (!blobId(keys, plain).equals(idBuf)) why = `${b.type} blob ${blob} in ${key} does not hash to its id`;
        } catch (err) {
          if (!isRepoError(err)) throw err;
          why = err.message;
        }
      }
      if (why === undefined) continue;
      this.bad.set(blob, why);
      this.findings.push({ kind: 'blob', object: blob, reason: why });
    }
  }

  private async checkSnapshots(): Promise<void> {
    for (const id of await listSnapshotIds(this.repo)) {
      let snap: Snapshot;
      try {
        snap = await loadSnapshot(this.repo, id);
      } catch (err) {
        if (!isRepoError(err)) throw err;
        this.findings.push({ kind: 'snapshot', object: layout.snapshot(id), reason: err.message, snapshot: id });
        continue;
      }
      this.stats.snapshots++;
      for (const [section, s] of Object.entries(snap.sections ?? {})) {
        const problems = s.kind === 'stream' ? await this.streamProblems(s.root, section) : await this.treeProblems(s.root, '');
        for (const p of problems) this.findings.push({ ...p, snapshot: id, section, path: p.path === '' ? '/' : p.path });
      }
    }
  }

  private blobProblem(id: string): string | undefined {
    if (!this.indexed.has(id)) return `blob ${id} is in no index file`;
    return this.bad.get(id);
  }

  // Memoised by tree id: incremental snapshots share almost all their subtrees, so each is walked once.
  private treeProblems(id: string, path: string): Promise<readonly Problem[]> {
    let p = this.trees.get(id);
    if (!p) {
      p = this.walkTree(id);
      this.trees.set(id, p);
    }
    return p.then((list) => (list.length === 0 || path === '' ? list : list.map((q) => ({ ...q, path: path + q.path }))));
  }

  private async walkTree(id: string): Promise<readonly Problem[]> {
    this.stats.trees++;
    const unreadable = this.blobProblem(id);
    if (unreadable) return [{ kind: 'tree', object: id, path: '', reason: `directory listing unreadable: ${unreadable}` }];
    let nodes: readonly TreeNode[];
    try {
      nodes = (await loadTree(this.repo, id)).nodes;
    } catch (err) {
      if (!isRepoError(err)) throw err;
      this.bad.set(id, err.message);
      return [{ kind: 'tree', object: id, path: '', reason: `directory listing unreadable: ${err.message}` }];
    }
    const out: Problem[] = [];
    for (const node of nodes) {
      const path = `/${displayName(node)}`;
      if (node.type === 'dir') out.push(...(await this.treeProblems(node.subtree, path)));
      else if (node.type === 'file') {
        const broken = node.content.map((c) => [c, this.blobProblem(c)] as const).filter(([, why]) => why !== undefined);
        if (broken.length > 0) {
          const [chunk, why] = broken[0]!;
          out.push({ kind: 'file', object: chunk, path, reason: `${broken.length} of ${node.content.length} chunks unreadable: ${why}` });
        }
      }
    }
    return out.length === 0 ? NONE : out;
  }

  private async streamProblems(id: string, section: string): Promise<readonly Problem[]> {
    const unreadable = this.blobProblem(id);
    if (unreadable) return [{ kind: 'stream', object: id, path: '', reason: `stream manifest of ${section} unreadable: ${unreadable}` }];
    try {
      const m = await loadStreamManifest(this.repo, id);
      const broken = m.chunks.map((c) => [c, this.blobProblem(c)] as const).filter(([, why]) => why !== undefined);
      if (broken.length === 0) return NONE;
      return [{ kind: 'stream', object: broken[0]![0], path: '', reason: `${broken.length} of ${m.chunks.length} chunks unreadable: ${broken[0]![1]}` }];
    } catch (err) {
      if (!isRepoError(err) && !(err instanceof SyntaxError)) throw err;
      return [{ kind: 'stream', object: id, path: '', reason: `stream manifest of ${section} unreadable: ${(err as Error).message}` }];
    }
  }
}

// Names that are not UTF-8 are shown as escaped bytes, so the listing stays one line per path.
function displayName(node: TreeNode): string {
  if (node.name !== undefined) return node.name;
  return [...nameBytes(node)].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/** formatFinding renders a finding as one line for people: what, where, why. */
export function formatFinding(f: Finding): string {
  const where = f.snapshot ? `snapshot ${f.snapshot.slice(0, 12)}${f.section ? ` ${f.section}:${f.path ?? '/'}` : ''}` : f.object;
  return `${f.kind.padEnd(8)} ${where}: ${f.reason}`;
}
