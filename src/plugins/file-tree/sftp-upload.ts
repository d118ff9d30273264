/**
 * uploadTree copies a local directory tree (a restore's staging copy) into a directory on an SFTP
 * server, keeping file modes, modification times and symlinks. Ownership is the login user's: SFTP
 * cannot give files away. The conflict policy is the local restore's: `fail` is decided up front by
 * inspectTarget (an existing non-empty directory is refused before anything is written); with `skip`
 * and `overwrite` directories merge, and any other entry that exists is kept or replaced; with
 * `overwrite`, merged directories also take the restored mode and times.
 *
 * Files are created exclusively (`wx`: an entry that appears meanwhile, or a symlink, is never written
 * through) and private (0600, directories 0700) until complete, then given their mode and times.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper, Stats } from 'ssh2';
import { Unrecoverable, type ConflictPolicy } from '../sdk/index.js';

/** TargetState is what the remote directory was before the upload: absent, empty, or holding entries to merge with. */
export type TargetState = 'missing' | 'empty' | 'merge';

const NO_SUCH_FILE = 2;

/** inspectTarget reads the remote directory and refuses, writing nothing, what the policy forbids. */
export async function inspectTarget(sftp: SFTPWrapper, path: string, conflict: ConflictPolicy, shown: string): Promise<TargetState> {
  const st = await remoteStat(sftp, path, true);
  if (!st) return 'missing';
  if (!st.isDirectory()) throw new Unrecoverable(`Restore target ${path} on ${shown} exists and is not a directory; choose another restore_path.`);
  const entries = await call<{ filename: string }[]>((cb) => sftp.readdir(path, cb));
  if (entries.length === 0) return 'empty';
  if (conflict === 'fail') {
    throw new Unrecoverable(`Restore target ${path} on ${shown} exists and is not empty; restore into an empty or new directory, or pass conflict=skip or conflict=overwrite.`);
  }
  return 'merge';
}

/** TreeCount is a local tree's entries (files, directories below the root, symlinks) and file bytes. */
export interface TreeCount { readonly items: number; readonly bytes: number }

/** countTree walks a local tree without following symlinks. */
export async function countTree(dir: string): Promise<TreeCount> {
  let items = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    items++;
    if (e.isDirectory()) {
      const sub = await countTree(join(dir, e.name));
      items += sub.items;
      bytes += sub.bytes;
    } else if (e.isFile()) {
      bytes += (await lstat(join(dir, e.name))).size;
    }
  }
  return { items, bytes };
}

/** UploadOptions: the policy, a stop signal, and a callback told of every item and byte done (skipped ones count as done). */
export interface UploadOptions {
  readonly conflict: ConflictPolicy;
  readonly signal: AbortSignal;
  readonly onProgress: (done: TreeCount) => void;
}

/**
 * uploadTree uploads `local` into `remote` (state as inspectTarget found it), creating missing parents.
 * It rejects with Unrecoverable naming the entry it failed on; what it wrote before stays.
 */
export async function uploadTree(sftp: SFTPWrapper, local: string, remote: string, state: TargetState, opts: UploadOptions): Promise<TreeCount> {
  const up = new Upload(sftp, opts);
  try {
    if (state === 'missing') {
      await up.mkdirs(posix.dirname(remote));
      await call((cb) => sftp.mkdir(remote, { mode: 0o700 }, cb));
    }
    await up.dir(local, remote, state !== 'merge');
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason ?? err;
    if (err instanceof Unrecoverable) throw err;
    throw new Unrecoverable(`Uploading to ${up.current} failed: ${(err as Error).message}; what was uploaded before stays.`);
  }
  return { items: up.items, bytes: up.bytes };
}

class Upload {
  items = 0;
  bytes = 0;
  /** current is the remote path being written, for the failure message. */
  current = '';

  constructor(private readonly sftp: SFTPWrapper, private readonly opts: UploadOptions) {}

  /** dir fills remote directory `to` from `from`; `fresh` means `to` held nothing before. */
  async dir(from: string, to: string, fresh: boolean): Promise<void> {
    for (const name of (await readdir(from)).sort()) {
      if (this.opts.signal.aborted) throw this.opts.signal.reason;
      const src = join(from, name);
      const dst = posix.join(to, name);
      this.current = dst;
      const st = await lstat(src);
      const existing = fresh ? undefined : await remoteStat(this.sftp, dst, false);
      if (existing?.isDirectory() && st.isDirectory()) {
        this.progress(1, 0);
        await this.dir(src, dst, false);
      } else if (existing && this.opts.conflict !== 'overwrite') {
        const kept = st.isDirectory() ? await countTree(src) : { items: 0, bytes: st.isFile() ? st.size : 0 };
        this.progress(1 + kept.items, kept.bytes);
      } else {
        if (existing) await this.remove(dst, existing);
        await this.create(src, dst);
      }
    }
    if (fresh || this.opts.conflict === 'overwrite') await this.attributes(from, to);
  }

  /** mkdirs creates the missing ancestors of the target (mode 0755 before the server's umask). */
  async mkdirs(dir: string): Promise<void> {
    if (dir === '/' || dir === '.') return;
    if (await remoteStat(this.sftp, dir, true)) return;
    await this.mkdirs(posix.dirname(dir));
    this.current = dir;
    await call((cb) => this.sftp.mkdir(dir, { mode: 0o755 }, cb));
  }

  private async create(src: string, dst: string): Promise<void> {
    const st = await lstat(src);
    if (st.isDirectory()) {
      await call((cb) => this.sftp.mkdir(dst, { mode: 0o700 }, cb));
      this.progress(1, 0);
      await this.dir(src, dst, true);
    } else if (st.isFile()) {
      await this.file(src, dst);
      await this.attributes(src, dst);
      this.progress(1, 0);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(src);
      await call((cb) => this.sftp.symlink(target, dst, cb));
      this.progress(1, 0);
    } else {
      throw new Unrecoverable(`${dst} would be a special file (device, socket or FIFO), which SFTP cannot create; restore this directory in place instead.`);
    }
  }

  private async file(src: string, dst: string): Promise<void> {
    const ws = this.sftp.createWriteStream(dst, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
    const progress = (n: number) => this.progress(0, n);
    await pipeline(createReadStream(src, { highWaterMark: 256 << 10 }), async function* (chunks: AsyncIterable<Buffer>) {
      for await (const c of chunks) {
        progress(c.length);
        yield c;
      }
    }, ws, { signal: this.opts.signal });
  }

  /** attributes gives a remote file or directory the local one's mode and times (a directory's after its entries). */
  private async attributes(src: string, dst: string): Promise<void> {
    const st = await lstat(src);
    await call((cb) => this.sftp.chmod(dst, st.mode & 0o7777, cb));
    // atime as mtime, as the local restorer sets them: the staged copy was just read.
    await call((cb) => this.sftp.utimes(dst, st.mtime, st.mtime, cb));
  }

  /** remove deletes a remote entry that `overwrite` replaces, a directory with everything in it. */
  private async remove(path: string, st: Stats): Promise<void> {
    if (!st.isDirectory()) {
      await call((cb) => this.sftp.unlink(path, cb));
      return;
    }
    for (const e of await call<{ filename: string; attrs: Stats }[]>((cb) => this.sftp.readdir(path, cb))) {
      const child = posix.join(path, e.filename);
      await this.remove(child, (await remoteStat(this.sftp, child, false))!);
    }
    await call((cb) => this.sftp.rmdir(path, cb));
  }

  private progress(items: number, bytes: number): void {
    this.items += items;
    this.bytes += bytes;
    this.opts.onProgress({ items: this.items, bytes: this.bytes });
  }
}

/** remoteStat answers a remote entry's stats (following a final symlink when `follow`), or undefined when it does not exist. */
async function remoteStat(sftp: SFTPWrapper, path: string, follow: boolean): Promise<Stats | undefined> {
  try {
    return await call<Stats>((cb) => (follow ? sftp.stat(path, cb) : sftp.lstat(path, cb)));
  } catch (err) {
    if ((err as { code?: unknown }).code === NO_SUCH_FILE) return undefined;
    throw err;
  }
}

/** call turns one callback-style SFTP call into a promise. */
function call<T = void>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}
