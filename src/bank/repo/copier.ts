/**
 * copyTree copies a snapshot's file tree from one repository into another (a checkpoint copied to
 * another provider's bank). Blob ids are keyed by each repository's own MAC key, so nothing can be
 * copied as stored bytes: every data blob is opened (authenticated) in the source and saved anew in the
 * destination, which computes its own id and deduplicates; trees are rewritten with the new ids.
 *
 * Incremental: given the previous copy of the same source (`parent`: the earlier source tree and the
 * tree it was copied to), both are walked in lockstep first to learn which source ids map to which
 * destination ids; a source subtree met again is then reused whole without reading it, and a chunk met
 * again is not read twice. The lockstep walk reads only tree blobs. The mapping is exact only because
 * the parent copy was made by this function from exactly that source tree, so the caller must check
 * that (bank-data does, by the copy's snapshot tag); the walk's own checks of names, types and chunk
 * counts only keep a damaged pair from being trusted. A mapped id the destination no longer holds (a
 * prune took it) is copied again.
 */
import type { Repository } from './repository.js';
import { loadTree, saveTree, Ticker, type ProgressFn, type Tree, type TreeNode } from './tree.js';

/** CopyOptions: progress, totals when known, and the previous copy of this source to start from. */
export interface CopyOptions {
  readonly onProgress?: ProgressFn;
  readonly bytesTotal?: number;
  readonly itemsTotal?: number;
  readonly parent?: { readonly sourceRoot: string; readonly copyRoot: string };
  /** concurrency is how many files are copied at once (default 4). */
  readonly concurrency?: number;
}

/** CopyResult: the destination root, and what was copied (reused subtrees count as copied). */
export interface CopyResult {
  readonly root: string;
  readonly files: number;
  readonly bytes: number;
  readonly items: number;
  /** blobsRead counts data blobs read from the source: what an incremental copy saves. */
  readonly blobsRead: number;
}

interface Counted { files: number; bytes: number; items: number }

/** copyTree copies tree `root` of `src` into `dst` and returns the new root; call dst.flush() (saveSnapshot does) to make it durable. */
export async function copyTree(src: Repository, dst: Repository, root: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const trees = new Map<string, string>();
  const blobs = new Map<string, string>();
  // Sizes of reused subtrees, so that progress and totals stay exact without reading them.
  const sizes = new Map<string, Counted>();
  if (opts.parent) await learn(src, dst, opts.parent.sourceRoot, opts.parent.copyRoot, trees, blobs, sizes).catch(() => undefined);
  const ticker = new Ticker(opts.onProgress, { ...(opts.bytesTotal === undefined ? {} : { bytesTotal: opts.bytesTotal }), ...(opts.itemsTotal === undefined ? {} : { itemsTotal: opts.itemsTotal }) });
  const files = new Slots(opts.concurrency ?? 4);
  let blobsRead = 0;
  const total: Counted = { files: 0, bytes: 0, items: 1 };
  ticker.add(0, 1);

  const copyFile = async (node: Extract<TreeNode, { type: 'file' }>): Promise<TreeNode> => {
    const content: string[] = [];
    let read = 0;
    for (const id of node.content) {
      let to = blobs.get(id);
      if (to === undefined || !dst.hasBlob(to)) {
        const data = await src.loadBlob(id);
        blobsRead++;
        read += data.length;
        const len = data.length;
        to = (await dst.saveBlob('data', data)).id;
        blobs.set(id, to);
        ticker.add(len, 0);
      }
      content.push(to);
    }
    // Chunks reused from the parent copy were not read; count them once the file is done.
    ticker.add(Math.max(0, node.size - read), 1);
    return { ...node, content };
  };

  const copyDir = async (id: string): Promise<{ id: string; counted: Counted }> => {
    const known = trees.get(id);
    if (known !== undefined && sizes.has(id) && dst.hasBlob(known)) {
      const c = sizes.get(id)!;
      ticker.add(c.bytes, c.items);
      return { id: known, counted: c };
    }
    const tree = await loadTree(src, id);
    const counted: Counted = { files: 0, bytes: 0, items: 0 };
    // Files of this directory copy in the background (bounded by the slots) while its subdirectories
    // are walked one at a time, so only one branch's trees are held at once however wide the tree is.
    const nodes: (TreeNode | Promise<TreeNode>)[] = [];
    for (const node of tree.nodes) {
      counted.items++;
      if (node.type === 'dir') {
        const sub = await copyDir(node.subtree);
        add(counted, sub.counted);
        ticker.add(0, 1);
        nodes.push({ ...node, subtree: sub.id });
      } else if (node.type === 'file') {
        counted.files++;
        counted.bytes += node.size;
        const copying = files.run(() => copyFile(node));
        // A failure surfaces at the Promise.all below; this only keeps it from being reported unhandled meanwhile.
        copying.catch(() => undefined);
        nodes.push(copying);
      } else {
        ticker.add(0, 1);
        nodes.push(node);
      }
    }
    const out = await saveTree(dst, { nodes: await Promise.all(nodes) } satisfies Tree);
    trees.set(id, out);
    sizes.set(id, counted);
    return { id: out, counted };
  };

  const { id, counted } = await copyDir(root);
  add(total, counted);
  ticker.done();
  return { root: id, files: total.files, bytes: total.bytes, items: total.items, blobsRead };
}

function add(to: Counted, c: Counted): void {
  to.files += c.files;
  to.bytes += c.bytes;
  to.items += c.items;
}

/**
 * learn walks a source tree and its earlier copy side by side, recording id pairs where the entries
 * agree (same names, types and chunk counts). A subtree that differs anywhere is not recorded as a
 * whole (its matching parts still are), so reuse is only ever of a verified identical shape.
 */
async function learn(src: Repository, dst: Repository, s: string, d: string, trees: Map<string, string>, blobs: Map<string, string>, sizes: Map<string, Counted>): Promise<boolean> {
  const [a, b] = await Promise.all([loadTree(src, s), loadTree(dst, d)]);
  let same = a.nodes.length === b.nodes.length;
  const counted: Counted = { files: 0, bytes: 0, items: 0 };
  const n = Math.min(a.nodes.length, b.nodes.length);
  for (let i = 0; i < n; i++) {
    const x = a.nodes[i]!;
    const y = b.nodes[i]!;
    if (x.type !== y.type || x.name !== y.name || x.name64 !== y.name64) {
      same = false;
      continue;
    }
    counted.items++;
    if (x.type === 'dir' && y.type === 'dir') {
      if (!(await learn(src, dst, x.subtree, y.subtree, trees, blobs, sizes))) same = false;
      else add(counted, sizes.get(x.subtree)!);
    } else if (x.type === 'file' && y.type === 'file') {
      counted.files++;
      counted.bytes += x.size;
      if (x.content.length !== y.content.length || x.size !== y.size) {
        same = false;
        continue;
      }
      x.content.forEach((c, j) => blobs.set(c, y.content[j]!));
    }
  }
  if (same) {
    trees.set(s, d);
    sizes.set(s, counted);
  }
  return same;
}

/** Slots runs at most `n` tasks at once (files being copied), queueing the rest in call order. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
