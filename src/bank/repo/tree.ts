import type { Repository } from './repository.js';
import { corrupt } from './errors.js';

/** NodeBase is what every tree entry records: its name and the inode fields restore puts back. */
interface NodeBase {
  /** name is the entry name when its bytes are valid UTF-8; otherwise name64 holds them in base64. */
  readonly name?: string;
  readonly name64?: string;
  readonly mode: number;
  /** mtimeNs is nanoseconds since the epoch, as a decimal string (it exceeds 2^53). */
  readonly mtimeNs: string;
  readonly uid: number;
  readonly gid: number;
}

/** FileNode is a regular file: its size, identity for incremental reuse, and its chunk ids in order. */
export interface FileNode extends NodeBase {
  readonly type: 'file';
  readonly size: number;
  readonly ino: string;
  readonly content: readonly string[];
}

/** DirNode is a directory whose entries are the tree blob `subtree`. */
export interface DirNode extends NodeBase {
  readonly type: 'dir';
  readonly subtree: string;
}

/** SymlinkNode is a symbolic link; its target is bytes (base64), like names. */
export interface SymlinkNode extends NodeBase {
  readonly type: 'symlink';
  readonly target64: string;
}

/** TreeNode is one entry of a tree blob. */
export type TreeNode = FileNode | DirNode | SymlinkNode;

/** Tree is the decoded content of a tree blob: entries sorted by the bytes of their names. */
export interface Tree {
  readonly nodes: readonly TreeNode[];
}

/** Progress reports work done so far; totals are present only when known in advance. */
export interface Progress {
  readonly bytesDone: number;
  readonly itemsDone: number;
  readonly bytesTotal?: number;
  readonly itemsTotal?: number;
}

/** ProgressFn receives progress at most every PROGRESS_INTERVAL_MS and once at the end; it must not throw. */
export type ProgressFn = (p: Progress) => void;

/** PROGRESS_INTERVAL_MS throttles progress callbacks. */
export const PROGRESS_INTERVAL_MS = 200;

/** nameField encodes entry-name bytes so that any byte string survives JSON. */
export function nameField(name: Buffer): { name: string } | { name64: string } {
  const text = name.toString('utf8');
  return Buffer.from(text, 'utf8').equals(name) ? { name: text } : { name64: name.toString('base64') };
}

/** nameBytes decodes an entry name back to its bytes. */
export function nameBytes(node: Pick<NodeBase, 'name' | 'name64'>): Buffer {
  if (node.name !== undefined) return Buffer.from(node.name, 'utf8');
  return Buffer.from(node.name64 ?? '', 'base64');
}

/** nameKey is a Map key for an entry name that keeps odd bytes distinct. */
export function nameKey(name: Buffer): string {
  return name.toString('latin1');
}

/** saveTree stores a tree as a `tree` blob and returns its id; equal trees share one blob. */
export async function saveTree(repo: Repository, tree: Tree): Promise<string> {
  return (await repo.saveBlob('tree', Buffer.from(JSON.stringify(tree)))).id;
}

/** loadTree reads a tree blob; a blob that is not a tree is a `corrupt` RepoError naming it. */
export async function loadTree(repo: Repository, id: string): Promise<Tree> {
  const bytes = await repo.loadBlob(id);
  try {
    const tree = JSON.parse(bytes.toString('utf8')) as Tree;
    if (!Array.isArray(tree.nodes)) throw new Error('no nodes array');
    return tree;
  } catch (err) {
    throw corrupt(`tree ${id}`, `does not decode: ${(err as Error).message}`, err);
  }
}

/**
 * Ticker turns frequent counter updates into throttled ProgressFn calls. Single-threaded use only.
 */
export class Ticker {
  bytes = 0;
  items = 0;
  private last = 0;

  constructor(private readonly fn: ProgressFn | undefined, private readonly totals: { bytesTotal?: number; itemsTotal?: number } = {}) {}

  /** add counts work done and reports it if the interval has passed. */
  add(bytes: number, items: number): void {
    this.bytes += bytes;
    this.items += items;
    const now = Date.now();
    if (this.fn && now - this.last >= PROGRESS_INTERVAL_MS) {
      this.last = now;
      this.report();
    }
  }

  /** done reports the final figures. */
  done(): void {
    if (this.fn) this.report();
  }

  private report(): void {
    this.fn?.({ bytesDone: this.bytes, itemsDone: this.items, ...this.totals });
  }
}
