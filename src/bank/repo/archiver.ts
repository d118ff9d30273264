import { lstat, readdir, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { ContentSaver } from './content.js';
import { mapLimit } from './limit.js';
import type { Repository } from './repository.js';
import {
  Ticker, loadTree, nameBytes, nameField, nameKey, saveTree, type FileNode, type ProgressFn, type TreeNode,
} from './tree.js';

/** BackupOptions: `parent` is the root tree of an earlier backup of the same directory. */
export interface BackupOptions {
  readonly parent?: string;
  readonly onProgress?: ProgressFn;
}

/** BackupStats counts what one tree backup saw and stored. */
export interface BackupStats {
  files: number;
  dirs: number;
  symlinks: number;
  skipped: number;
  filesUnchanged: number;
  bytes: number;
  newBytes: number;
}

/** BackupResult is the root tree id of the saved directory and the stats of the run. */
export interface BackupResult {
  readonly root: string;
  readonly stats: BackupStats;
}

// Files open at once: enough to overlap small-file I/O latency, few enough to stay gentle on disks.
const ENTRY_CONCURRENCY = 8;

/**
 * backupTree saves the directory `dir` (contents, modes, mtimes, owners, symlinks, empty directories;
 * names as raw bytes) and returns its root tree id. With `parent`, a file whose size, mtime and inode
 * match the parent's entry reuses its chunk list without being read. Memory stays bounded by
 * ContentSaver's budget. Sockets, fifos and devices are counted as skipped. Errors reject; partial
 * blobs are harmless (unreferenced) and a later flush still keeps the bank consistent.
 */
export async function backupTree(repo: Repository, dir: string | Buffer, opts: BackupOptions = {}): Promise<BackupResult> {
  const run = new BackupRun(repo, opts.onProgress);
  const root = await run.saveDir(Buffer.isBuffer(dir) ? dir : Buffer.from(dir), opts.parent);
  run.ticker.done();
  return { root, stats: run.stats };
}

class BackupRun {
  readonly stats: BackupStats = { files: 0, dirs: 0, symlinks: 0, skipped: 0, filesUnchanged: 0, bytes: 0, newBytes: 0 };
  readonly ticker: Ticker;
  private readonly saver: ContentSaver;

  constructor(private readonly repo: Repository, onProgress?: ProgressFn) {
    this.ticker = new Ticker(onProgress);
    this.saver = new ContentSaver(repo);
  }

  async saveDir(path: Buffer, parentTree?: string): Promise<string> {
    const names = (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare);
    const previous = await this.previousEntries(parentTree);
    const nodes = await mapLimit(names, ENTRY_CONCURRENCY, (name) => this.saveEntry(join(path, name), name, previous.get(nameKey(name))));
    this.stats.dirs++;
    return saveTree(this.repo, { nodes: nodes.filter((n): n is TreeNode => n !== undefined) });
  }

  private async previousEntries(parentTree: string | undefined): Promise<Map<string, TreeNode>> {
    if (parentTree === undefined) return new Map();
    const tree = await loadTree(this.repo, parentTree);
    return new Map(tree.nodes.map((n) => [nameKey(nameBytes(n)), n]));
  }

  private async saveEntry(path: Buffer, name: Buffer, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    const st = await lstat(path, { bigint: true });
    const base = { ...nameField(name), mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs.toString(), uid: Number(st.uid), gid: Number(st.gid) };
    if (st.isFile()) return this.saveFile(path, st, base, previous);
    if (st.isDirectory()) {
      const subtree = await this.saveDir(path, previous?.type === 'dir' ? previous.subtree : undefined);
      this.ticker.add(0, 1);
      return { type: 'dir', ...base, subtree };
    }
    if (st.isSymbolicLink()) {
      this.stats.symlinks++;
      this.ticker.add(0, 1);
      return { type: 'symlink', ...base, target64: (await readlink(path, { encoding: 'buffer' })).toString('base64') };
    }
    this.stats.skipped++;
    return undefined;
  }

  private async saveFile(path: Buffer, st: BigIntStats, base: Omit<FileNode, 'type' | 'size' | 'ino' | 'content'>, previous: TreeNode | undefined): Promise<FileNode> {
    const ino = st.ino.toString();
    this.stats.files++;
    if (previous?.type === 'file' && this.unchanged(previous, st, ino)) {
      this.stats.filesUnchanged++;
      this.stats.bytes += previous.size;
      this.ticker.add(previous.size, 1);
      return { type: 'file', ...base, size: previous.size, ino, content: previous.content };
    }
    const saved = await this.saver.saveFile(path, (n) => this.ticker.add(n, 0), Number(st.size));
    this.stats.bytes += saved.bytes;
    this.stats.newBytes += saved.newBytes;
    this.ticker.add(0, 1);
    return { type: 'file', ...base, size: saved.bytes, ino, content: saved.ids };
  }

  // Reuse needs the chunks too: a parent from an interrupted or pruned run may reference missing blobs.
  private unchanged(prev: FileNode, st: BigIntStats, ino: string): boolean {
    return prev.size === Number(st.size) && prev.mtimeNs === st.mtimeNs.toString() && prev.ino === ino && prev.content.every((id) => this.repo.hasBlob(id));
  }
}

function join(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}
