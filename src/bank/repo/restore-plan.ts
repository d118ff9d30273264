import { open, truncate } from 'node:fs/promises';
import { bankErrorKind } from '../backend.js';
import { RepoError, corrupt } from './errors.js';
import { layout } from './format.js';
import { mapLimit } from './limit.js';
import type { Location } from './master-index.js';
import type { Repository } from './repository.js';
import type { FileNode } from './tree.js';
import { restoreRange, setAttrs, type FileAttrs, type RangeBlob, type RestoreTarget } from './worker-restore.js';

// Blobs this close in a pack are read in one request: the gap costs less than another request.
const MERGE_GAP = 1024 * 1024;
// A range never exceeds this, so memory per range in flight stays bounded whatever the pack size.
const MAX_RANGE = 32 * 1024 * 1024;

interface Wanted {
  readonly loc: Location;
  readonly id: Buffer;
  readonly targets: RestoreTarget[];
}

interface MultiFile {
  readonly path: Buffer;
  readonly attrs: FileAttrs;
  left: number;
}

/** Done reports restored files: bytes and items, for stats and progress. */
export type FileDone = (bytes: number) => void;

/**
 * RestorePlan restores file contents pack by pack instead of file by file: every needed blob is
 * grouped by pack and sorted by offset, neighbours are merged into ranges, each range is read once
 * and handed (moved) to a worker that authenticates, decodes and writes each blob to every place
 * it belongs with positional writes. Single-blob files are created and finished in the worker;
 * multi-blob files are created here first and finished (length, mode, mtime) after their last blob.
 * Damage rejects with a `corrupt` RepoError before any byte of the damaged blob is written.
 */
export class RestorePlan {
  private readonly packs = new Map<string, Map<string, Wanted>>();
  private readonly multi: MultiFile[] = [];
  private readonly owner = new Map<RestoreTarget, MultiFile>();

  constructor(private readonly repo: Repository, private readonly done: FileDone) {}

  /**
   * add plans a file with at least one blob; false when a blob is not in a stored pack (saved in this
   * session and not flushed, or missing), so the caller restores that file blob by blob instead.
   */
  async add(node: FileNode, path: Buffer): Promise<boolean> {
    const locs = node.content.map((id) => this.repo.locate(id));
    if (locs.some((l) => l === undefined)) return false;
    const attrs: FileAttrs = { mode: node.mode, uid: node.uid, gid: node.gid, mtimeNs: node.mtimeNs, size: node.size };
    if (node.content.length === 1) {
      this.want(node.content[0]!, locs[0]!, { path, pos: 0, whole: attrs });
      return true;
    }
    // Created (empty) now, so that workers only open and write at offsets, in any order.
    await (await open(path, 'w', node.mode & 0o777)).close();
    const file: MultiFile = { path, attrs, left: node.content.length };
    this.multi.push(file);
    let pos = 0;
    node.content.forEach((id, i) => {
      const target = { path, pos };
      this.owner.set(target, file);
      this.want(id, locs[i]!, target);
      pos += locs[i]!.rawLength;
    });
    return true;
  }

  /** run reads every range (at most `parallel` at once) and waits until every planned file is finished. */
  async run(parallel: number): Promise<void> {
    const ranges = [...this.packs].flatMap(([pack, blobs]) => merge(pack, [...blobs.values()]));
    this.packs.clear();
    // Largest ranges first, so that the last ones running are short and all workers finish together.
    ranges.sort((a, b) => b.length - a.length);
    await mapLimit(ranges, parallel, (r) => this.restoreRange(r));
  }

  private want(id: string, loc: Location, target: RestoreTarget): void {
    let blobs = this.packs.get(loc.pack);
    if (!blobs) this.packs.set(loc.pack, (blobs = new Map()));
    let w = blobs.get(id);
    if (!w) blobs.set(id, (w = { loc, id: Buffer.from(id, 'hex'), targets: [] }));
    w.targets.push(target);
  }

  private async restoreRange(r: Range): Promise<void> {
    const where = layout.pack(r.pack);
    const data = await readRange(this.repo, where, r.offset, r.length);
    const blobs: RangeBlob[] = r.blobs.map((w) => ({ type: w.loc.type, id: w.id, offset: w.loc.offset - r.offset, length: w.loc.length, rawLength: w.loc.rawLength, targets: w.targets }));
    const pool = this.repo.codecPool;
    if (pool) await pool.restore(this.repo.config.keys, where, data, blobs);
    else restoreRange(this.repo.config.keys, where, data, blobs);
    for (const w of r.blobs) {
      for (const t of w.targets) {
        if (t.whole) this.done(t.whole.size);
        else await this.written(t);
      }
    }
  }

  private async written(t: RestoreTarget): Promise<void> {
    const file = this.owner.get(t)!;
    this.owner.delete(t);
    if (--file.left > 0) return;
    // The length is set explicitly: a trailing zero blob was left as a hole, not written.
    await truncate(file.path, file.attrs.size);
    const fh = await open(file.path, 'r');
    try {
      setAttrs(fh.fd, file.attrs);
    } finally {
      await fh.close();
    }
    this.done(file.attrs.size);
  }
}

interface Range {
  readonly pack: string;
  readonly offset: number;
  readonly length: number;
  readonly blobs: Wanted[];
}

// merge sorts one pack's wanted blobs by offset and joins neighbours into ranges.
function merge(pack: string, wanted: Wanted[]): Range[] {
  wanted.sort((a, b) => a.loc.offset - b.loc.offset);
  const out: Range[] = [];
  let cur: { offset: number; end: number; blobs: Wanted[] } | undefined;
  for (const w of wanted) {
    const end = w.loc.offset + w.loc.length;
    if (cur && w.loc.offset - cur.end <= MERGE_GAP && end - cur.offset <= MAX_RANGE) {
      cur.end = Math.max(cur.end, end);
      cur.blobs.push(w);
      continue;
    }
    if (cur) out.push({ pack, offset: cur.offset, length: cur.end - cur.offset, blobs: cur.blobs });
    cur = { offset: w.loc.offset, end, blobs: [w] };
  }
  if (cur) out.push({ pack, offset: cur.offset, length: cur.end - cur.offset, blobs: cur.blobs });
  return out;
}

// Same classification as Repository.loadBlob: a missing pack is `missing`, a short one `corrupt`.
async function readRange(repo: Repository, key: string, offset: number, length: number): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    data = await repo.backend.get(key, { offset, length });
  } catch (err) {
    if (repo.backend.isNotFound(err)) throw new RepoError('missing', `Bank data is missing: ${key}: the pack does not exist.`, { object: key, cause: err });
    if (bankErrorKind(err) === 'invalid') throw corrupt(key, 'pack is truncated', err);
    throw err;
  }
  if (data.length !== length) throw corrupt(key, `pack is truncated (${data.length} of ${length} bytes)`);
  return data;
}
