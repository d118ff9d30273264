/**
 * The behaviour of `hoard.io/directory`: protect saves the directory as a snapshot in the provider's
 * bank (incrementally from the plan's previous available checkpoint, and only the real path the
 * resource id names) and records `{snapshot, files, bytes}` as the resource's metadata; restore writes that snapshot
 * into `restore_path` (default: the original path) under the `conflict` policy (default `fail`: an
 * existing non-empty target is refused), on this host inside the configured roots, or with a
 * restore_target `sftp://user@host` on that host (remote-restore.ts); delete forgets the snapshot
 * (space comes back with a prune).
 * Only `main` does work; the other hooks are empty and safe to resume.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parsePatterns } from '../../util/globs.js';
import { Unrecoverable, type ConflictPolicy, type HookContext, type HookName, type Json, type OperationKind, type ResourceOperation, type RestoreTarget } from '../sdk/index.js';
import { confinedPath, directoryId } from './protectable.js';
import { remotePath, restoreRemote, type RemoteOptions } from './remote-restore.js';

/** SavedInfo is what protect records per directory (the plugin's savedInfo schema). */
interface SavedInfo {
  readonly snapshot: string;
  readonly files: number;
  readonly bytes: number;
  /** copiedFrom is, in a copied checkpoint, the source checkpoint's snapshot this one was copied from. */
  readonly copiedFrom?: string;
}

const EMPTY_HOOKS: readonly HookName[] = ['prepareBegin', 'prepareFinish', 'complete'];

/** pathOf is the directory a resource names: its `path` extra info, else its name (plans made by the CLI). */
function pathOf(ctx: HookContext): string {
  const p = ctx.resource.extraInfo?.path;
  const path = typeof p === 'string' && p !== '' ? p : ctx.resource.name;
  if (!path.startsWith('/')) throw new Unrecoverable(`Directory resource ${ctx.resource.id} names no absolute path (got ${JSON.stringify(path)}).`);
  return path;
}

async function savedInfo(ctx: HookContext): Promise<SavedInfo | undefined> {
  return asSavedInfo(await ctx.metadata.get());
}

function asSavedInfo(m: Json | undefined): SavedInfo | undefined {
  if (m && typeof m === 'object' && !Array.isArray(m) && typeof (m as Record<string, Json>).snapshot === 'string') return m as unknown as SavedInfo;
  return undefined;
}

/**
 * verifiedPath is the directory to back up, checked against the resource id: ids are name-based UUIDs of
 * the real path the protectable listed (inside a configured root), while a plan's name and extra info
 * are the caller's words. A path whose real path does not give the id (renamed, replaced by a symlink,
 * or simply another path) is refused.
 */
async function verifiedPath(ctx: HookContext): Promise<string> {
  const path = pathOf(ctx);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new Unrecoverable(`Directory ${path} cannot be reached: ${(err as Error).message}`);
  }
  if (directoryId(real) !== ctx.resource.id) {
    throw new Unrecoverable(`Directory ${path} (real path ${real}) is not the directory resource ${ctx.resource.id} names; list protectable instances again and update the plan.`);
  }
  return real;
}

const protect: ResourceOperation = {
  async main(ctx) {
    // A run resumed after its metadata was written has nothing left to do.
    if (await savedInfo(ctx)) return;
    const path = await verifiedPath(ctx);
    // Incremental: start from this directory's snapshot in the plan's previous available checkpoint.
    const previous = asSavedInfo(await ctx.metadata.previous());
    const exclude = patternsOf(ctx, 'exclude');
    const saved = await ctx.data.backupTree(path, {
      ...(previous ? { parent: previous.snapshot } : {}), ...(exclude ? { exclude } : {}), ...(ctx.parameters.one_file_system === true ? { oneFileSystem: true } : {}),
    });
    await ctx.metadata.set({ snapshot: saved.snapshot, files: saved.files, bytes: saved.bytes });
  },
  // Running main again backs the directory up again; at worst an unreferenced snapshot is left for prune.
  resumable: ['main', ...EMPTY_HOOKS],
};

const restoreIn = (roots: readonly string[], remote: RemoteOptions | undefined): ResourceOperation => ({
  async main(ctx) {
    const saved = await savedInfo(ctx);
    if (!saved) throw new Unrecoverable(`This checkpoint holds no snapshot of ${pathOf(ctx)}; it cannot be restored.`);
    const original = pathOf(ctx);
    const target = await ctx.restoreTarget?.();
    if (target) return restoreElsewhere(ctx, target, saved, original, remote);
    const requested = ctx.parameters.restore_path;
    if (requested !== undefined && (typeof requested !== 'string' || !requested.startsWith('/'))) {
      throw new Unrecoverable(`restore_path must be an absolute path (got ${JSON.stringify(requested)}).`);
    }
    const wanted = resolve(typeof requested === 'string' ? requested : original);
    // A restore writes only inside the configured roots, whatever path (or symlink) the caller names.
    const local = await confinedPath(wanted, roots);
    if (local === undefined) {
      throw new Unrecoverable(`Restore target ${wanted} is outside the directory roots this Hoard may write to (${roots.join(', ') || 'none configured'}); choose a restore_path inside one of them.`);
    }
    const include = patternsOf(ctx, 'include');
    const done = await ctx.data.restoreTree(saved.snapshot, local, { conflict: conflictOf(ctx), ...(include ? { include } : {}) });
    ctx.progress({ bytesDone: done.bytes, itemsDone: done.files });
    if (local !== (await confinedPath(original, roots))) ctx.newResources.set(ctx.resource.id, directoryId(local));
    ctx.setStatus('available');
  },
  // A half-done restore is not resumed: under `fail` its own partial output would be taken for a conflict.
  resumable: EMPTY_HOOKS,
});

/** patternsOf reads a glob-pattern option (comma-separated text or a list) as util/globs.ts reads it. */
function patternsOf(ctx: HookContext, name: 'exclude' | 'include'): string[] | undefined {
  try {
    return parsePatterns(ctx.parameters[name]);
  } catch {
    throw new Unrecoverable(`${name} must be comma-separated glob patterns (got ${JSON.stringify(ctx.parameters[name])}).`);
  }
}

function conflictOf(ctx: HookContext): ConflictPolicy {
  const conflict = (ctx.parameters.conflict ?? 'fail') as ConflictPolicy;
  if (!['fail', 'skip', 'overwrite'].includes(conflict)) throw new Unrecoverable(`conflict must be fail, skip or overwrite (got ${JSON.stringify(conflict)}).`);
  return conflict;
}

/**
 * restoreElsewhere restores to the restore's target host (remote-restore.ts): `restore_path` is the
 * directory there (default: the original path), and the restored id is the directory's at that host.
 */
async function restoreElsewhere(ctx: HookContext, target: RestoreTarget, saved: SavedInfo, original: string, remote: RemoteOptions | undefined): Promise<void> {
  // The engine lets only declared schemes through; this build may still lack the SFTP access. The
  // directory roots do not apply here: they confine writes to this host, and this writes to another.
  if (!remote) throw new Unrecoverable('This Hoard was started without SFTP access for the directory plugin; it restores directories only in place.');
  const path = remotePath(ctx.parameters.restore_path, original);
  const include = patternsOf(ctx, 'include');
  const { shown } = await restoreRemote(ctx, target, { snapshot: saved.snapshot, path, conflict: conflictOf(ctx), ...(include ? { include } : {}) }, remote);
  ctx.newResources.set(ctx.resource.id, directoryId(`${shown}${path}`));
  ctx.setStatus('available');
}

const remove: ResourceOperation = {
  async main(ctx) {
    const saved = await savedInfo(ctx);
    if (saved) await ctx.data.forget(saved.snapshot);
  },
  resumable: ['main', ...EMPTY_HOOKS],
};

const verify: ResourceOperation = {
  async main(ctx) {
    const saved = await savedInfo(ctx);
    if (!saved) throw new Unrecoverable(`This checkpoint holds no snapshot of ${pathOf(ctx)}; there is nothing to verify.`);
    const r = await ctx.data.verifyTree(saved.snapshot);
    ctx.progress({ bytesDone: r.bytes, itemsDone: r.files });
    if (r.damaged.length > 0) {
      const shown = r.damaged.slice(0, 10).join(', ') + (r.damaged.length > 10 ? `, and ${r.damaged.length - 10} more` : '');
      throw new Unrecoverable(`${r.damaged.length} of ${r.files} files of ${pathOf(ctx)} are damaged or missing in the bank: ${shown}`);
    }
    // A snapshot that reads back whole but holds less than protect recorded was cut short somewhere.
    if (r.files !== saved.files || r.bytes !== saved.bytes) {
      throw new Unrecoverable(`The snapshot of ${pathOf(ctx)} holds ${r.files} files and ${r.bytes} bytes, but protect recorded ${saved.files} files and ${saved.bytes} bytes.`);
    }
    ctx.setStatus('available');
  },
  // Verification only reads: running it again is always safe.
  resumable: ['main', ...EMPTY_HOOKS],
};

const copy: ResourceOperation = {
  async main(ctx) {
    // A run resumed after its metadata was written has nothing left to do.
    if (await savedInfo(ctx)) return;
    const source = asSavedInfo(await ctx.metadata.source());
    if (!source) throw new Unrecoverable(`The checkpoint being copied holds no snapshot of ${pathOf(ctx)}; there is nothing to copy.`);
    // Incremental: the newest earlier copy in this bank, when it was a copy of this same directory.
    const previous = asSavedInfo(await ctx.metadata.previous());
    const parent = previous?.copiedFrom ? { parent: { source: previous.copiedFrom, copy: previous.snapshot } } : {};
    const copied = await ctx.data.copyTree(source.snapshot, parent);
    if (copied.files !== source.files || copied.bytes !== source.bytes) {
      throw new Unrecoverable(`The copy of ${pathOf(ctx)} holds ${copied.files} files and ${copied.bytes} bytes, but the checkpoint being copied recorded ${source.files} files and ${source.bytes} bytes.`);
    }
    await ctx.metadata.set({ snapshot: copied.snapshot, files: copied.files, bytes: copied.bytes, copiedFrom: source.snapshot });
  },
  // Copying again only re-reads the source: blobs already in the destination are deduplicated.
  resumable: ['main', ...EMPTY_HOOKS],
};

/** directoryOperation is the plugin's behaviour for an operation kind. */
export function directoryOperation(kind: OperationKind, roots: readonly string[], remote?: RemoteOptions): ResourceOperation | undefined {
  switch (kind) {
    case 'protect': return protect;
    case 'restore': return restoreIn(roots, remote);
    case 'delete': return remove;
    case 'verify': return verify;
    case 'copy': return copy;
    default: return undefined;
  }
}
