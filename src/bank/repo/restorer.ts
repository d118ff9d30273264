import { chmod, lchown, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { mapLimit } from './limit.js';
import type { Repository } from './repository.js';
import { RestorePlan } from './restore-plan.js';
import { Ticker, loadTree, nameBytes, type DirNode, type FileNode, type ProgressFn, type SymlinkNode, type TreeNode } from './tree.js';

/** RestoreOptions: totals (from the snapshot section) let progress report a fraction. */
export interface RestoreOptions {
  readonly onProgress?: ProgressFn;
  readonly bytesTotal?: number;
  readonly itemsTotal?: number;
  /**
   * include restores only entries whose path below the root (`a/b`, UTF-8) it answers true for (a
   * matching directory with everything under it), plus the directories leading to them. Totals are
   * then counted from the selection, whatever bytesTotal/itemsTotal say.
   */
  readonly include?: (rel: string, isDir: boolean) => boolean;
}

/** RestoreStats counts what a restore wrote. */
export interface RestoreStats {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

const ENTRY_CONCURRENCY = 8;
// Chunks fetched ahead while one is being written: overlaps bank reads, decryption and disk writes.
const PREFETCH = 3;
const ZERO_PAGE = Buffer.alloc(64 * 1024);

/**
 * restoreTree writes the tree `root` into directory `target` (created if missing): contents, modes,
 * mtimes and symlinks, plus owners when running as root. Runs of zeros a whole chunk long become holes,
 * so sparse files stay sparse. Every blob is authenticated before a byte of it is written; damage
 * rejects with a `corrupt` RepoError and the file being written is left incomplete, never silently wrong.
 * It walks the trees first (directories, symlinks, empty files), then restores contents pack by pack
 * (RestorePlan), then sets directory attributes deepest first.
 */
export async function restoreTree(repo: Repository, root: string, target: string | Buffer, opts: RestoreOptions = {}): Promise<RestoreStats> {
  // A granular restore picks its entries first (tree blobs only), so that nothing outside the selection
  // is created and progress counts what will really be written.
  const picked = opts.include ? await select(repo, root, '', opts.include) : undefined;
  const totals = picked ? { bytesTotal: picked.bytes, itemsTotal: picked.items } : { bytesTotal: opts.bytesTotal, itemsTotal: opts.itemsTotal };
  const ticker = new Ticker(opts.onProgress, totals);
  const stats: RestoreStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const path = Buffer.isBuffer(target) ? target : Buffer.from(target);
  await mkdir(path, { recursive: true });
  const run: Run = { repo, stats, ticker, dirs: [], single: [], plan: new RestorePlan(repo, (bytes) => fileDone(run, bytes)) };
  if (picked) await restoreSelected(run, picked.nodes, path);
  else await restoreDir(run, root, path);
  const workers = repo.codecPool?.size ?? 1;
  repo.codecPool?.startAll();
  await Promise.all([
    run.plan.run(workers),
    mapLimit(run.single, ENTRY_CONCURRENCY, async ([node, p]) => {
      await restoreFile(repo, node, p);
      fileDone(run, node.size);
    }),
  ]);
  // Mode and mtime last, children first: writing children changes a directory's mtime, and a
  // read-only mode would block them.
  for (const [node, p] of run.dirs.reverse()) {
    await setAttributes(node, p);
    ticker.add(0, 1);
  }
  ticker.done();
  return stats;
}

interface Run {
  readonly repo: Repository;
  readonly stats: RestoreStats;
  readonly ticker: Ticker;
  readonly plan: RestorePlan;
  // Directories in creation order (parents before children), for attributes at the end.
  readonly dirs: [DirNode, Buffer][];
  // Files restored blob by blob: empty ones, and those with blobs not in a stored pack.
  readonly single: [FileNode, Buffer][];
}

function fileDone(run: Run, bytes: number): void {
  run.stats.files++;
  run.stats.bytes += bytes;
  run.ticker.add(bytes, 1);
}

async function restoreDir(run: Run, treeId: string, path: Buffer): Promise<void> {
  const tree = await loadTree(run.repo, treeId);
  await mapLimit(tree.nodes, ENTRY_CONCURRENCY, (node) => restoreNode(run, node, join(path, nameBytes(node))));
  run.stats.dirs++;
}

async function restoreNode(run: Run, node: TreeNode, path: Buffer): Promise<void> {
  switch (node.type) {
    case 'dir':
      await mkdir(path, { mode: 0o700 });
      run.dirs.push([node, path]);
      return restoreDir(run, node.subtree, path);
    case 'file':
      if (node.content.length === 0 || !(await run.plan.add(node, path))) run.single.push([node, path]);
      return;
    case 'symlink':
      await restoreSymlink(node, path);
      run.stats.symlinks++;
      run.ticker.add(0, 1);
  }
}

/** Picked is a selected entry: a whole node, or a directory of which only `children` are restored. */
interface Picked { readonly node: TreeNode; readonly children?: readonly Picked[] }

/** select walks the tree and keeps what `include` selects, with the directories leading to it, counting it. */
async function select(repo: Repository, treeId: string, rel: string, include: (rel: string, isDir: boolean) => boolean): Promise<{ nodes: Picked[]; bytes: number; items: number }> {
  const out = { nodes: [] as Picked[], bytes: 0, items: 0 };
  for (const node of (await loadTree(repo, treeId)).nodes) {
    const name = nameBytes(node).toString('utf8');
    const path = rel === '' ? name : `${rel}/${name}`;
    if (include(path, node.type === 'dir')) {
      out.nodes.push({ node });
      const c = node.type === 'dir' ? await count(repo, node.subtree) : { bytes: node.type === 'file' ? node.size : 0, items: 0 };
      out.bytes += c.bytes;
      out.items += c.items + 1;
    } else if (node.type === 'dir') {
      const sub = await select(repo, node.subtree, path, include);
      if (sub.nodes.length === 0) continue;
      out.nodes.push({ node, children: sub.nodes });
      out.bytes += sub.bytes;
      out.items += sub.items + 1;
    }
  }
  return out;
}

async function count(repo: Repository, treeId: string): Promise<{ bytes: number; items: number }> {
  const c = { bytes: 0, items: 0 };
  for (const node of (await loadTree(repo, treeId)).nodes) {
    c.items++;
    if (node.type === 'file') c.bytes += node.size;
    else if (node.type === 'dir') {
      const sub = await count(repo, node.subtree);
      c.bytes += sub.bytes;
      c.items += sub.items;
    }
  }
  return c;
}

async function restoreSelected(run: Run, picked: readonly Picked[], path: Buffer): Promise<void> {
  await mapLimit(picked, ENTRY_CONCURRENCY, async (p) => {
    const at = join(path, nameBytes(p.node));
    if (!p.children || p.node.type !== 'dir') return restoreNode(run, p.node, at);
    await mkdir(at, { mode: 0o700 });
    run.dirs.push([p.node, at]);
    await restoreSelected(run, p.children, at);
    run.stats.dirs++;
  });
}

async function restoreFile(repo: Repository, node: FileNode, path: Buffer): Promise<void> {
  const fh = await open(path, 'w', node.mode & 0o777);
  try {
    const ahead: Promise<Buffer>[] = [];
    let pos = 0;
    let hole = false;
    for (let i = 0; i < node.content.length; i++) {
      while (ahead.length <= PREFETCH && i + ahead.length < node.content.length) ahead.push(quiet(repo.loadBlob(node.content[i + ahead.length]!)));
      const chunk = await ahead.shift()!;
      hole = isZero(chunk);
      if (!hole) await fh.write(chunk, 0, chunk.length, pos);
      pos += chunk.length;
    }
    // A trailing hole sets the length without writing zeros; otherwise the writes already did.
    if (hole) await fh.truncate(pos);
    // Through the open handle: one syscall each and no path lookups, which matters for 20,000 small files.
    if (isRoot() && (node.uid !== process.getuid?.() || node.gid !== process.getgid?.())) await fh.chown(node.uid, node.gid);
    // Always: the umask may have stripped bits at open, and setuid/sticky bits need chmod anyway.
    await fh.chmod(node.mode);
    const t = seconds(node.mtimeNs);
    await fh.utimes(t, t);
  } finally {
    await fh.close();
  }
}

async function restoreSymlink(node: SymlinkNode, path: Buffer): Promise<void> {
  await symlink(Buffer.from(node.target64, 'base64'), path);
  if (isRoot()) await lchown(path, node.uid, node.gid);
  const t = seconds(node.mtimeNs);
  await lutimes(path, t, t);
}

async function setAttributes(node: FileNode | DirNode, path: Buffer): Promise<void> {
  if (isRoot()) await lchown(path, node.uid, node.gid);
  await chmod(path, node.mode);
  const t = seconds(node.mtimeNs);
  await utimes(path, t, t);
}

// A prefetched load may fail before it is awaited; it is awaited later, so it must not count as unhandled.
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function isZero(chunk: Buffer): boolean {
  for (let at = 0; at < chunk.length; at += ZERO_PAGE.length) {
    const end = Math.min(chunk.length, at + ZERO_PAGE.length);
    if (!chunk.subarray(at, end).equals(ZERO_PAGE.subarray(0, end - at))) return false;
  }
  return true;
}

function seconds(ns: string): number {
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function join(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}
