import { lstat } from 'node:fs/promises';
import { InlineFiles, PooledFiles, type FileSource } from './file-saver.js';
import { Budget, mapLimit } from './limit.js';
import type { Repository } from './repository.js';
import {
  Ticker, loadTree, nameBytes, nameField, nameKey, saveTree, type FileNode, type ProgressFn, type TreeNode,
} from './tree.js';
import type { ScanEntry } from './worker-files.js';

/** BackupOptions: `parent` is the root tree of an earlier backup of the same directory. */
export interface BackupOptions {
  readonly parent?: string;
  readonly onProgress?: ProgressFn;
  /** exclude leaves out entries whose path below `dir` (`a/b`, UTF-8) it answers true for, with everything under them. */
  readonly exclude?: (rel: string, isDir: boolean) => boolean;
  /** oneFileSystem keeps directories on other file systems (mount points) as empty directories. */
  readonly oneFileSystem?: boolean;
}

/** BackupStats counts what one tree backup saw and stored. */
export interface BackupStats {
  files: number;
  dirs: number;
  symlinks: number;
  skipped: number;
  /** excluded counts entries left out by `exclude` or `oneFileSystem` (not what is below them). */
  excluded: number;
  filesUnchanged: number;
  bytes: number;
  newBytes: number;
}

/** BackupResult is the root tree id of the saved directory and the stats of the run. */
export interface BackupResult {
  readonly root: string;
  readonly stats: BackupStats;
}

// Subdirectories walked at once per directory: with nesting, enough listings to keep workers fed.
const DIR_CONCURRENCY = 4;
// Small files go to a worker in batches (one message each way per batch, not per file); a file at
// least BATCH_BYTES long goes alone.
const BATCH_FILES = 64;
const BATCH_BYTES = 4 * 1024 * 1024;
// File bytes queued at workers: enough to keep every worker busy, little enough to keep balance
// (workers pick jobs by queued bytes) and memory flat. A job counts at most JOB_WEIGHT.
const QUEUED_BYTES = 64 * 1024 * 1024;
const JOB_WEIGHT = 16 * 1024 * 1024;

/**
 * backupTree saves the directory `dir` (contents, modes, mtimes, owners, symlinks, empty directories;
 * names as raw bytes) and returns its root tree id. With `parent`, a file whose size, mtime and inode
 * match the parent's entry reuses its chunk list without being read. With the codec pool, workers
 * list directories and read, chunk, hash and seal files; this thread walks, dedups and packs. Memory
 * stays bounded by the queued and in-flight byte budgets. Sockets, fifos and devices are counted as
 * skipped. Errors reject; partial blobs are harmless (unreferenced) and a later flush still keeps
 * the bank consistent.
 */
export async function backupTree(repo: Repository, dir: string | Buffer, opts: BackupOptions = {}): Promise<BackupResult> {
  const pool = repo.codecPool;
  const path = Buffer.isBuffer(dir) ? dir : Buffer.from(dir);
  const rootDev = opts.oneFileSystem ? (await lstat(path, { bigint: true })).dev.toString() : undefined;
  const run = new BackupRun(repo, pool ? new PooledFiles(repo, pool) : new InlineFiles(repo), opts.onProgress, { exclude: opts.exclude, rootDev });
  const root = await run.saveDir(path, opts.parent, '');
  run.ticker.done();
  return { root, stats: run.stats };
}

type Base = Omit<FileNode, 'type' | 'size' | 'ino' | 'content'>;

class BackupRun {
  readonly stats: BackupStats = { files: 0, dirs: 0, symlinks: 0, skipped: 0, excluded: 0, filesUnchanged: 0, bytes: 0, newBytes: 0 };
  readonly ticker: Ticker;
  private readonly queued = new Budget(QUEUED_BYTES);

  constructor(
    private readonly repo: Repository, private readonly source: FileSource, onProgress: ProgressFn | undefined,
    private readonly filter: { readonly exclude: BackupOptions['exclude']; readonly rootDev: string | undefined },
  ) {
    this.ticker = new Ticker(onProgress);
  }

  async saveDir(path: Buffer, parentTree: string | undefined, rel: string): Promise<string> {
    const [scanned, previous] = await Promise.all([this.source.scan(path), this.previousEntries(parentTree)]);
    const entries = this.filter.exclude ? scanned.filter((e) => !this.excluded(e, rel)) : scanned;
    const nodes: (TreeNode | undefined)[] = new Array(entries.length);
    const toRead: number[] = [];
    const subdirs: number[] = [];
    // A directory whose every entry is as in the parent gets the parent's tree back, unencoded and
    // unhashed: an incremental run then pays per changed directory, not per directory.
    let changed = parentTree === undefined || entries.length !== previous.size;
    entries.forEach((e, i) => {
      const prev = previous.get(e.name);
      const same = prev !== undefined && prev.mode === e.mode && prev.mtimeNs === e.mtimeNs && prev.uid === e.uid && prev.gid === e.gid;
      // A name is encoded once; an entry found in the parent reuses the parent's encoding (same bytes).
      const named = same ? (prev.name !== undefined ? { name: prev.name } : { name64: prev.name64! }) : nameField(Buffer.from(e.name, 'latin1'));
      const base: Base = { ...named, mode: e.mode, mtimeNs: e.mtimeNs, uid: e.uid, gid: e.gid };
      if (e.kind === 'file') {
        this.stats.files++;
        if (prev?.type === 'file' && this.unchanged(prev, e)) {
          nodes[i] = this.reuse(base, e, prev);
          changed ||= !same;
        } else {
          toRead.push(i);
          changed = true;
        }
      } else if (e.kind === 'dir') subdirs.push(i);
      else if (e.kind === 'symlink') {
        this.stats.symlinks++;
        this.ticker.add(0, 1);
        const target64 = Buffer.from(e.target!, 'latin1').toString('base64');
        nodes[i] = { type: 'symlink', ...base, target64 };
        changed ||= !same || prev.type !== 'symlink' || prev.target64 !== target64;
      } else {
        this.stats.skipped++;
        changed = true;
      }
    });
    const child = (i: number): Buffer => Buffer.concat([path, SLASH, Buffer.from(entries[i]!.name, 'latin1')]);
    await Promise.all([
      ...batches(toRead, entries).map((batch) => this.saveFiles(batch, entries, child, nodes)),
      mapLimit(subdirs, DIR_CONCURRENCY, async (i) => {
        const e = entries[i]!;
        const prev = previous.get(e.name);
        // A mount point is kept as an empty directory, as restic and tar do: it exists, its contents are elsewhere.
        const foreign = this.filter.rootDev !== undefined && e.dev !== this.filter.rootDev;
        if (foreign) this.stats.excluded++;
        const subtree = foreign ? await saveTree(this.repo, { nodes: [] })
          : await this.saveDir(child(i), prev?.type === 'dir' ? prev.subtree : undefined, relOf(rel, e.name));
        this.ticker.add(0, 1);
        nodes[i] = { type: 'dir', ...nameField(Buffer.from(e.name, 'latin1')), mode: e.mode, mtimeNs: e.mtimeNs, uid: e.uid, gid: e.gid, subtree };
        changed ||= prev?.type !== 'dir' || prev.subtree !== subtree || prev.mode !== e.mode || prev.mtimeNs !== e.mtimeNs || prev.uid !== e.uid || prev.gid !== e.gid;
      }),
    ]);
    this.stats.dirs++;
    if (!changed && parentTree !== undefined && this.repo.hasBlob(parentTree)) return parentTree;
    return saveTree(this.repo, { nodes: nodes.filter((n): n is TreeNode => n !== undefined) });
  }

  private excluded(e: ScanEntry, rel: string): boolean {
    if (!this.filter.exclude!(relOf(rel, e.name), e.kind === 'dir')) return false;
    this.stats.excluded++;
    return true;
  }

  private async saveFiles(batch: number[], entries: ScanEntry[], child: (i: number) => Buffer, nodes: (TreeNode | undefined)[]): Promise<void> {
    const sizes = batch.map((i) => entries[i]!.size);
    const weight = Math.min(JOB_WEIGHT, sizes.reduce((a, b) => a + b, 0) + 4096 * batch.length);
    const saved = await this.queued.run(weight, () => this.source.save(batch.map(child), sizes));
    batch.forEach((i, k) => {
      const e = entries[i]!;
      const s = saved[k]!;
      this.stats.bytes += s.bytes;
      this.stats.newBytes += s.newBytes;
      this.ticker.add(s.bytes, 1);
      const name = Buffer.from(e.name, 'latin1');
      nodes[i] = { type: 'file', ...nameField(name), mode: e.mode, mtimeNs: e.mtimeNs, uid: e.uid, gid: e.gid, size: s.bytes, ino: e.ino, content: s.ids };
    });
  }

  private async previousEntries(parentTree: string | undefined): Promise<Map<string, TreeNode>> {
    if (parentTree === undefined) return new Map();
    const tree = await loadTree(this.repo, parentTree);
    return new Map(tree.nodes.map((n) => [nameKey(nameBytes(n)), n]));
  }

  private reuse(base: Base, e: ScanEntry, prev: FileNode): FileNode {
    this.stats.filesUnchanged++;
    this.stats.bytes += prev.size;
    this.ticker.add(prev.size, 1);
    return { type: 'file', ...base, size: prev.size, ino: e.ino, content: prev.content };
  }

  // Reuse needs the chunks too: a parent from an interrupted or pruned run may reference missing blobs.
  private unchanged(prev: FileNode, e: ScanEntry): boolean {
    return prev.size === e.size && prev.mtimeNs === e.mtimeNs && prev.ino === e.ino && prev.content.every((id) => this.repo.hasBlob(id));
  }
}

const SLASH = Buffer.from('/');

/** relOf is an entry's path below the backup root, as patterns see it (names are latin1-held bytes, shown as UTF-8). */
function relOf(rel: string, name: string): string {
  const n = Buffer.from(name, 'latin1').toString('utf8');
  return rel === '' ? n : `${rel}/${n}`;
}

// batches groups the files to read: small ones together up to BATCH_FILES / BATCH_BYTES, large alone.
function batches(toRead: number[], entries: ScanEntry[]): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const i of toRead) {
    const size = entries[i]!.size;
    if (size >= BATCH_BYTES) {
      out.push([i]);
      continue;
    }
    if (cur.length >= BATCH_FILES || bytes + size > BATCH_BYTES) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
