import { link, mkdir, open, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type BankBackend, type ObjectInfo, checkKey, checkMetadata, checkPrefix, checkRange, conflictError, notFoundError,
  rangePastEnd,
} from '../backend.js';
import { isFsConflict, isFsNotFound, isFsPermanent } from './errors.js';
import { encodeHeader, readExactly, readHeader, writeAll } from './format.js';
import { type ObjectPath, objectPath } from './paths.js';
import { walk } from './walk.js';

/** FsBackendOptions configures fsBackend. */
export interface FsBackendOptions {
  /** root is the directory that holds the bank; it is created on the first put. */
  readonly root: string;
}

/**
 * fsBackend stores a bank as files under a local directory (format in ./format.ts, layout in ./paths.ts).
 *
 * Atomicity and durability: put writes a temp file beside the target, fsyncs it, renames it into place
 * (or, with `ifAbsent`, hard-links it, which fails if the name exists, so of several racing processes
 * exactly one wins) and fsyncs the directory; a crash leaves the old object or the new one, and at worst
 * a stray temp file that list() never shows. Safe for concurrent use by many processes on one host;
 * not for network file systems whose link/rename are not atomic.
 * Errors: missing objects are `not-found` BankErrors, lost `ifAbsent` races `conflict`; permissions,
 * read-only or full disks are permanent; anything else is left for a retry decorator to judge.
 */
export function fsBackend(opts: FsBackendOptions): BankBackend {
  const root = resolve(opts.root);
  return {
    put: (key, data, o) => put(root, key, data, o ?? {}),
    get: (key, range) => get(root, key, range),
    stat: (key) => stat(root, key),
    list: (prefix, o) => list(root, prefix, o?.after),
    remove: (key) => remove(root, key),
    isNotFound: isFsNotFound,
    isConflict: isFsConflict,
    isPermanent: isFsPermanent,
  };
}

interface PutOptions {
  metadata?: Record<string, string>;
  ifAbsent?: boolean;
}

async function put(root: string, key: string, data: Uint8Array, o: PutOptions): Promise<void> {
  checkKey(key);
  checkMetadata(o.metadata);
  const p = objectPath(root, key);
  const temp = await writeTemp(root, p, [encodeHeader(o.metadata), data]);
  try {
    if (o.ifAbsent) await link(temp, p.file);
    else await rename(temp, p.file);
  } catch (err) {
    if (isFsConflict(err)) throw conflictError(key, err);
    throw err;
  } finally {
    // After a rename the temp name is gone already; after a link (won or lost) it must go.
    await unlink(temp).catch(ignoreMissing);
  }
  await fsyncDir(p.dir);
}

/** writeTemp creates, fills and fsyncs a new temp file in the object's directory. */
async function writeTemp(root: string, p: ObjectPath, chunks: readonly Uint8Array[]): Promise<string> {
  // A concurrent remove may prune the directory between mkdir and open; a few rounds settle it.
  for (let attempt = 0; ; attempt++) {
    const temp = p.tempFile();
    let fh;
    try {
      await makeDirs(root, p.dir);
      fh = await open(temp, 'wx', 0o644);
    } catch (err) {
      if (isFsNotFound(err) && attempt < 5) continue;
      throw err;
    }
    try {
      await writeAll(fh, chunks);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(ignoreMissing);
      throw err;
    }
    await fh.close();
    return temp;
  }
}

/** makeDirs creates dir and fsyncs the parent of each directory it created, so the new path survives a crash. */
async function makeDirs(root: string, dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || d === root || d === dirname(d)) return;
  }
}

async function get(root: string, key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
  checkKey(key);
  checkRange(range);
  const fh = await openObject(root, key);
  try {
    const { dataStart } = await readHeader(fh, key);
    const size = (await fh.stat()).size - dataStart;
    const offset = range?.offset ?? 0;
    if (offset > size) throw rangePastEnd(key, offset, size);
    const length = Math.min(range?.length ?? size, size - offset);
    return await readExactly(fh, dataStart + offset, length);
  } finally {
    await fh.close();
  }
}

async function stat(root: string, key: string): Promise<ObjectInfo> {
  checkKey(key);
  return statFile(objectPath(root, key).file, key);
}

async function statFile(file: string, key: string): Promise<ObjectInfo> {
  const fh = await openFile(file, key);
  try {
    const { metadata, dataStart } = await readHeader(fh, key);
    return { key, size: (await fh.stat()).size - dataStart, metadata };
  } finally {
    await fh.close();
  }
}

async function* list(root: string, prefix: string, after: string | undefined): AsyncGenerator<ObjectInfo> {
  checkPrefix(prefix);
  for await (const found of walk(root, prefix, after)) {
    try {
      yield await statFile(found.file, found.key);
    } catch (err) {
      // Removed between readdir and open: it is simply no longer there.
      if (!isFsNotFound(err)) throw err;
    }
  }
}

async function remove(root: string, key: string): Promise<void> {
  checkKey(key);
  const p = objectPath(root, key);
  try {
    await unlink(p.file);
  } catch (err) {
    if (!isFsNotFound(err)) throw err;
    return;
  }
  // A concurrent remove may already have pruned the emptied directory; then there is nothing to sync.
  await fsyncDir(p.dir).catch(ignoreMissing);
  await pruneEmptyDirs(root, p.dir);
}

/** pruneEmptyDirs removes now-empty directories up to root, so deleted checkpoints leave no skeleton. */
async function pruneEmptyDirs(root: string, dir: string): Promise<void> {
  for (let d = dir; d !== root && d.startsWith(root); d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return; // not empty (or already gone, or raced by a put): stop here
    }
  }
}

function openObject(root: string, key: string) {
  return openFile(objectPath(root, key).file, key);
}

async function openFile(file: string, key: string) {
  try {
    return await open(file, 'r');
  } catch (err) {
    if (isFsNotFound(err)) throw notFoundError(key, err);
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function ignoreMissing(err: unknown): void {
  if (!isFsNotFound(err)) throw err;
}
