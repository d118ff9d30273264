/**
 * ProviderBanks gives hooks their DataHandle: one repository per provider bank (fs backend at the
 * provider's bank path), opened lazily on first use as a writer session and shared by every hook of
 * this process. The credential is the provider's passphrase when configured, otherwise a key file at
 * `<bank path>.key` (created with mode 0600, 64 random bytes, on first use of a bank that does not exist
 * yet). A bank that exists without its key file and without a passphrase is refused with a clear error,
 * never silently re-keyed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile, chmod, lutimes } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsBackend, type BankBackend } from '../bank/index.js';
import { CheckpointRecords } from '../bank/records/index.js';
import {
  Repository, backupTree, copyTree, isRepoError, layout, loadSnapshot, loadTree, openWriter, restoreTree, saveSnapshot,
  type Credential, type WriterSession,
} from '../bank/repo/index.js';
import { Unrecoverable, type ConflictPolicy, type DataHandle, type Progress } from '../plugins/sdk/index.js';
import { pathMatcher, type PathPredicate } from '../util/globs.js';

/** BankSpec is what a provider's configuration says about its bank, with its backend made by the composition root. */
export interface BankSpec {
  readonly providerId: string;
  /** label names the bank in messages (a directory or an object-store location; never a secret). */
  readonly label: string;
  /** backend opens the object layer, creating its container or bucket when it may be missing. */
  readonly backend: () => Promise<BankBackend>;
  /** keyFile opens the bank when no passphrase is configured; created with the bank. */
  readonly keyFile: string;
  readonly passphrase?: string;
}

/** ProviderBanks hands out DataHandles per provider and closes the shared sessions. */
export interface ProviderBanks {
  /** handle is a provider's DataHandle; `copyFrom` answers the provider whose bank a copy operation reads. */
  handle(providerId: string, progress: (p: Progress) => void, copyFrom?: () => Promise<string | undefined>): DataHandle;
  /** records runs fn on the provider's checkpoint records; undefined when the provider has no bank. */
  records<T>(providerId: string, fn: (records: CheckpointRecords) => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
}

/** The section name of a directory tree in a snapshot. */
const TREE = 'tree';
const KEY_FILE_BYTES = 64;

/** providerBanks builds ProviderBanks for the given banks; nothing is opened until a hook uses one. */
export function providerBanks(specs: readonly BankSpec[]): ProviderBanks {
  const byProvider = new Map(specs.map((s) => [s.providerId, s]));
  const sessions = new Map<string, Promise<WriterSession>>();

  const session = (spec: BankSpec): Promise<WriterSession> => {
    let s = sessions.get(spec.providerId);
    if (!s) {
      s = openBank(spec);
      sessions.set(spec.providerId, s);
      // A failed open is not cached: the next hook tries again.
      s.catch(() => sessions.delete(spec.providerId));
    }
    return s;
  };

  /** withRepo runs fn on the shared session; a session whose writer lease was lost is dropped and reopened once. */
  const withRepo = async <T>(spec: BankSpec, fn: (repo: Repository) => Promise<T>): Promise<T> => {
    const s = await session(spec);
    try {
      await s.lease.check();
    } catch {
      sessions.delete(spec.providerId);
      await s.close().catch(() => undefined);
      return fn((await session(spec)).repo);
    }
    return fn(s.repo);
  };

  /** readRepo is withRepo for reads: the shared session first learns what other processes stored since. */
  const readRepo = <T>(spec: BankSpec, fn: (repo: Repository) => Promise<T>): Promise<T> =>
    withRepo(spec, async (repo) => {
      await repo.refreshIndex();
      return fn(repo);
    });

  return {
    async records(providerId, fn) {
      const spec = byProvider.get(providerId);
      return spec ? withRepo(spec, (repo) => fn(new CheckpointRecords(repo))) : undefined;
    },
    handle(providerId, progress, copyFrom) {
      const spec = byProvider.get(providerId);
      const need = (): BankSpec => {
        if (!spec) throw new Unrecoverable(`Provider ${providerId} has no bank configured in this process; its data cannot be reached.`);
        return spec;
      };
      const needSource = async (): Promise<BankSpec> => {
        const from = await copyFrom?.();
        if (from === undefined) throw new Unrecoverable('Only a copy operation reads another provider\'s bank.');
        const s = byProvider.get(from);
        if (!s) throw new Unrecoverable(`Provider ${from} (of the checkpoint being copied) has no bank configured in this process; its data cannot be reached.`);
        return s;
      };
      const report = (p: { bytesDone: number; itemsDone: number; bytesTotal?: number | undefined; itemsTotal?: number | undefined }) =>
        progress({ bytesDone: p.bytesDone, itemsDone: p.itemsDone, ...(p.bytesTotal === undefined ? {} : { bytesTotal: p.bytesTotal }), ...(p.itemsTotal === undefined ? {} : { itemsTotal: p.itemsTotal }) });
      return {
        // An incremental backup reads its parent's trees, which another process may have written.
        backupTree: async (path, opts = {}) => (opts.parent ? readRepo : withRepo)(need(), async (repo) => {
          const parentRoot = opts.parent ? await treeOf(repo, opts.parent).catch(() => undefined) : undefined;
          // Totals come from a metadata-only walk beside the backup (as restic's scanner does), so progress
          // shows a fraction and an ETA long before the backup ends; until it finishes, none is claimed.
          let totals: TreeCount | undefined;
          const exclude = opts.exclude?.length ? pathMatcher(opts.exclude) : undefined;
          void countTree(path, exclude).then((t) => { totals = t; }, () => undefined);
          const withTotals = (p: { bytesDone: number; itemsDone: number }) => report(totals
            ? { ...p, bytesTotal: Math.max(totals.bytes, p.bytesDone), itemsTotal: Math.max(totals.items, p.itemsDone) } : p);
          const { root, stats } = await backupTree(repo, path, {
            ...(parentRoot ? { parent: parentRoot } : {}), onProgress: withTotals, ...(exclude ? { exclude } : {}), ...(opts.oneFileSystem ? { oneFileSystem: true } : {}),
          });
          const items = stats.files + stats.dirs + stats.symlinks;
          // The end is exact whatever the walk saw (files may have changed under it).
          report({ bytesDone: stats.bytes, itemsDone: items, bytesTotal: stats.bytes, itemsTotal: items });
          const snapshot = await saveSnapshot(repo, {
            ...(parentRoot ? { parent: opts.parent! } : {}), tags: [`path:${path}`],
            sections: { [TREE]: { kind: 'tree', root, bytes: stats.bytes, items } },
          });
          return { snapshot, files: stats.files, bytes: stats.bytes };
        }),
        restoreTree: async (snapshot, target, opts) => readRepo(need(), async (repo) => {
          const snap = await loadSnapshot(repo, snapshot);
          const section = snap.sections[TREE];
          if (!section || section.kind !== 'tree') throw new Unrecoverable(`Snapshot ${snapshot} holds no directory tree.`);
          const include = opts.include?.length ? pathMatcher(opts.include) : undefined;
          const totals = { onProgress: report, bytesTotal: section.bytes, itemsTotal: section.items, ...(include ? { include } : {}) };
          const dest = resolve(target);
          if (await isEmptyOrMissing(dest)) {
            const st = await restoreTree(repo, section.root, dest, totals);
            return { files: st.files, bytes: st.bytes };
          }
          if (opts.conflict === 'fail') {
            throw new Unrecoverable(`Restore target ${dest} exists and is not empty; restore into an empty or new directory, or pass conflict=skip or conflict=overwrite.`);
          }
          // Restore beside the target (same file system), then move entries in under the policy.
          const staging = join(dirname(dest), `.${basename(dest)}.hoard-restore-${randomBytes(6).toString('hex')}`);
          try {
            const st = await restoreTree(repo, section.root, staging, totals);
            await merge(staging, dest, opts.conflict);
            return { files: st.files, bytes: st.bytes };
          } finally {
            await rm(staging, { recursive: true, force: true });
          }
        }),
        verifyTree: async (snapshot) => readRepo(need(), async (repo) => {
          let snap;
          try {
            snap = await loadSnapshot(repo, snapshot);
          } catch (err) {
            throw new Unrecoverable(`Snapshot ${snapshot} cannot be read: ${(err as Error).message}`);
          }
          const section = snap.sections[TREE];
          if (!section || section.kind !== 'tree') throw new Unrecoverable(`Snapshot ${snapshot} holds no directory tree.`);
          return verifySection(repo, section.root, (p) => report({ ...p, bytesTotal: section.bytes, itemsTotal: section.items }));
        }),
        copyTree: async (snapshot, opts = {}) => readRepo(await needSource(), (src) => readRepo(need(), async (dst) => {
          let snap;
          try {
            snap = await loadSnapshot(src, snapshot);
          } catch (err) {
            throw new Unrecoverable(`Snapshot ${snapshot} of the checkpoint being copied cannot be read: ${(err as Error).message}`);
          }
          const section = snap.sections[TREE];
          if (!section || section.kind !== 'tree') throw new Unrecoverable(`Snapshot ${snapshot} holds no directory tree.`);
          const parent = opts.parent ? await copyParent(src, dst, opts.parent).catch(() => undefined) : undefined;
          const copied = await copyTree(src, dst, section.root, {
            onProgress: report, bytesTotal: section.bytes, itemsTotal: section.items, ...(parent ? { parent } : {}),
          });
          const id = await saveSnapshot(dst, {
            // The copy-of tag is what lets a later copy trust this one as its parent (copier.ts).
            tags: [...snap.tags.filter((t) => !t.startsWith(COPY_OF)), `${COPY_OF}${src.config.id}:${snapshot}`],
            sections: { [TREE]: { kind: 'tree', root: copied.root, bytes: section.bytes, items: section.items } },
          });
          return { snapshot: id, files: copied.files, bytes: copied.bytes };
        })),
        forget: async (snapshot) => withRepo(need(), async (repo) => {
          try {
            await repo.backend.remove(layout.snapshot(snapshot));
          } catch (err) {
            if (!repo.backend.isNotFound(err)) throw err;
          }
        }),
      };
    },
    async close() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map(async (s) => (await s).close()));
    },
  };
}

/** COPY_OF tags a snapshot made by copyTree with the source repository's id and source snapshot. */
const COPY_OF = 'copy-of:';

/**
 * copyParent turns a plugin's parent hint into tree roots, only when the destination snapshot says it
 * was copied from exactly that source snapshot of exactly this source repository.
 */
async function copyParent(src: Repository, dst: Repository, p: { source: string; copy: string }): Promise<{ sourceRoot: string; copyRoot: string } | undefined> {
  const copy = await loadSnapshot(dst, p.copy);
  if (!copy.tags.includes(`${COPY_OF}${src.config.id}:${p.source}`)) return undefined;
  const sourceRoot = await treeOf(src, p.source);
  const c = copy.sections[TREE];
  return c && c.kind === 'tree' ? { sourceRoot, copyRoot: c.root } : undefined;
}

/**
 * verifySection walks a tree and loads every blob of every file (each load authenticates the blob and
 * checks its id), a few files at a time, keeping only the names of damaged files. A damaged tree object
 * makes everything under it damaged, named by its directory.
 */
async function verifySection(repo: Repository, root: string, progress: (p: { bytesDone: number; itemsDone: number }) => void): Promise<{ files: number; bytes: number; damaged: string[] }> {
  const out = { files: 0, bytes: 0, damaged: [] as string[] };
  let items = 0;
  const files: { path: string; content: readonly string[]; size: number }[] = [];
  const walk = async (treeId: string, dir: string): Promise<void> => {
    let tree;
    try {
      tree = await loadTree(repo, treeId);
    } catch {
      out.damaged.push(`${dir || '.'}/ (directory listing)`);
      return;
    }
    for (const node of tree.nodes) {
      // Names that are not UTF-8 are shown with replacement characters; they only label a report.
      const name = node.name ?? Buffer.from(node.name64 ?? '', 'base64').toString('utf8');
      const path = dir ? `${dir}/${name}` : name;
      items++;
      if (node.type === 'dir') await walk(node.subtree, path);
      else if (node.type === 'file') files.push({ path, content: node.content, size: node.size });
    }
  };
  await walk(root, '');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      let ok = true;
      for (const id of f.content) {
        try {
          await repo.loadBlob(id);
        } catch {
          ok = false;
          break;
        }
      }
      if (ok) out.bytes += f.size;
      else out.damaged.push(f.path);
      out.files++;
      progress({ bytesDone: out.bytes, itemsDone: items - files.length + out.files });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  out.damaged.sort();
  return out;
}

/** TreeCount is what a backup of a tree will count: regular-file bytes, and files, directories and symlinks below the root. */
interface TreeCount { bytes: number; items: number }

async function countTree(root: string, exclude?: PathPredicate): Promise<TreeCount> {
  // The root itself counts as one item, as the backup's own statistics do.
  const count: TreeCount = { bytes: 0, items: 1 };
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (exclude?.(r, e.isDirectory())) continue;
      if (e.isFile()) {
        count.items++;
        count.bytes += (await lstat(p).catch(() => undefined))?.size ?? 0;
      } else if (e.isSymbolicLink()) count.items++;
      else if (e.isDirectory()) {
        count.items++;
        await walk(p, r);
      }
    }
  };
  await walk(root, '');
  return count;
}

async function treeOf(repo: Repository, snapshot: string): Promise<string> {
  const section = (await loadSnapshot(repo, snapshot)).sections[TREE];
  if (!section || section.kind !== 'tree') throw new Error(`snapshot ${snapshot} holds no tree`);
  return section.root;
}

/** openBank opens the bank for writing, creating the repository (and its key file) on first use. */
async function openBank(spec: BankSpec): Promise<WriterSession> {
  const backend = await spec.backend();
  const exists = await hasConfig(backend);
  const cred = await credential(spec, !exists);
  if (!exists) {
    try {
      await Repository.init(backend, cred, { workers: 'shared' }).then((r) => r.close());
    } catch (err) {
      // Another process initialised it meanwhile: open what it created.
      if (!(isRepoError(err) && err.code === 'format' && (await hasConfig(backend)))) throw err;
    }
  }
  try {
    return await openWriter(backend, cred, { workers: 'shared' });
  } catch (err) {
    if (isRepoError(err) && err.code === 'wrong_key') {
      throw new Unrecoverable(`The bank at ${spec.label} does not open with ${spec.passphrase === undefined ? `the key file ${keyFile(spec)}` : 'the configured passphrase'}: ${err.message}`);
    }
    throw err;
  }
}

/** hasConfig tells whether a repository exists on the backend. */
export async function hasConfig(backend: BankBackend): Promise<boolean> {
  try {
    await backend.stat(layout.config);
    return true;
  } catch (err) {
    if (backend.isNotFound(err)) return false;
    throw err;
  }
}

const keyFile = (spec: BankSpec) => spec.keyFile;

/** credential is the passphrase, or the key file's bytes (created only for a new bank). */
async function credential(spec: BankSpec, creating: boolean): Promise<Credential> {
  if (spec.passphrase !== undefined) return spec.passphrase;
  const file = keyFile(spec);
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!creating) {
    throw new Unrecoverable(`The bank at ${spec.label} exists but its key file ${file} is missing and no passphrase is configured; restore the key file from its separate backup.`);
  }
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, randomBytes(KEY_FILE_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFile(file);
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * merge moves the restored tree `from` into the existing directory `to`: directories merge; any other
 * entry that already exists is kept (`skip`) or replaced (`overwrite`). With `overwrite`, merged
 * directories also take the restored mode and times.
 */
async function merge(from: string, to: string, policy: Exclude<ConflictPolicy, 'fail'>): Promise<void> {
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const srcStat = await lstat(src);
    const dstStat = await lstat(dst).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err; });
    if (!dstStat) {
      await rename(src, dst);
    } else if (srcStat.isDirectory() && dstStat.isDirectory()) {
      await merge(src, dst, policy);
    } else if (policy === 'overwrite') {
      await rm(dst, { recursive: true, force: true });
      await rename(src, dst);
    }
  }
  if (policy === 'overwrite') {
    const st = await lstat(from);
    await chmod(to, st.mode & 0o7777);
    await lutimes(to, st.atime, st.mtime);
  }
}
