/**
 * Restoring a directory to another host (restore_target `sftp://user@host[:port]`): log in first (the
 * host key is checked before any credential is sent, so a wrong key fails the resource having written
 * nothing anywhere), refuse an existing non-empty remote directory under conflict=fail, then restore the
 * checkpoint's tree into a private local staging directory and upload it (sftp-upload.ts). The staging
 * directory is removed whatever happens; one left behind by a killed process is removed by the next
 * remote restore on the same host.
 *
 * The configured directory roots confine local restores only: they say where *this* host may be
 * written. A remote restore writes wherever its credentials may write on the remote host, which is
 * the remote host's own access control, and nothing on this host but the staging directory.
 *
 * Staging lives under the data dir (`<data dir>/restore-staging`, given by the composition root), not
 * the OS temp dir: /tmp is often a small tmpfs held in memory, while the data dir is the persistent
 * space the operator sized for Hoard and is private to its user. Each restore stages in its own 0700
 * directory named after the host and process that made it.
 *
 * Progress counts every item and byte twice, once into staging (reported by the data handle) and once
 * uploaded, so that bytes done only ever grow and the total is right from the upload on.
 */
import { hostname, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { Unrecoverable, type ConflictPolicy, type HookContext, type RestoreTarget } from '../sdk/index.js';
import { remoteLogin, type RemoteLogin } from './remote-target.js';
import { countTree, inspectTarget, uploadTree } from './sftp-upload.js';

/** RemoteAccess opens SFTP sessions with host key checks (the composition root passes the ssh hooks' one). */
export interface RemoteAccess {
  /** open logs in and opens SFTP; it rejects with the SDK's Unrecoverable or RetryLater, worded for `source`. */
  open(login: RemoteLogin, opts: { readonly source: string; readonly timeoutMs: number; readonly signal: AbortSignal }): Promise<{ readonly sftp: SFTPWrapper; close(): void }>;
  /** redactor answers a function hiding each of `secrets` in a text. */
  redactor(secrets: readonly (string | undefined)[]): (text: string) => string;
}

/** RemoteOptions is how the plugin was configured for remote targets. */
export interface RemoteOptions {
  readonly access: RemoteAccess;
  /** stagingDir holds the per-restore staging directories; the OS temp dir when not configured. */
  readonly stagingDir?: string;
}

/** RemoteRestore is one resource's remote restore: which snapshot, into which directory, under which policy. */
export interface RemoteRestore {
  readonly snapshot: string;
  readonly path: string;
  readonly conflict: ConflictPolicy;
  /** include (granular restore) limits what is staged, hence what is uploaded. */
  readonly include?: readonly string[];
}

const LOGIN_TIMEOUT_MS = 30_000;

/** restoreRemote runs one remote restore; see the module comment. Its errors never quote the credentials. */
export async function restoreRemote(ctx: HookContext, target: RestoreTarget, r: RemoteRestore, opts: RemoteOptions): Promise<{ readonly shown: string }> {
  const login = remoteLogin(new URL(target.target), target.auth);
  if (typeof login === 'string') throw new Unrecoverable(`Restore target ${safeShown(target.target)} cannot be used: ${login}`);
  const redact = opts.access.redactor([login.privateKey, login.passphrase, login.password]);
  try {
    const session = await opts.access.open(login, { source: 'restore_auth', timeoutMs: LOGIN_TIMEOUT_MS, signal: ctx.signal });
    const stop = () => session.close();
    ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      const state = await inspectTarget(session.sftp, r.path, r.conflict, login.shown);
      await staged(opts.stagingDir ?? join(tmpdir(), 'hoard-restore-staging'), async (tree) => {
        await ctx.data.restoreTree(r.snapshot, tree, { conflict: 'fail', ...(r.include ? { include: r.include } : {}) });
        const total = await countTree(tree);
        const report = (done: { items: number; bytes: number }) => ctx.progress({
          itemsDone: total.items + done.items, itemsTotal: 2 * total.items, bytesDone: total.bytes + done.bytes, bytesTotal: 2 * total.bytes,
        });
        report({ items: 0, bytes: 0 });
        await uploadTree(session.sftp, tree, r.path, state, { conflict: r.conflict, signal: ctx.signal, onProgress: report });
      });
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      session.close();
    }
  } catch (err) {
    throw redacted(err, redact);
  }
  return { shown: login.shown };
}

/** remotePath is the directory to write on the remote host: restore_path, else the original path. */
export function remotePath(requested: unknown, original: string): string {
  if (requested === undefined) return original;
  if (typeof requested !== 'string' || !requested.startsWith('/')) {
    throw new Unrecoverable(`restore_path must be an absolute path on the remote host (got ${JSON.stringify(requested)}).`);
  }
  return posix.resolve(requested);
}

/** staged runs fn with a fresh private staging path (not yet created) and removes its directory afterwards. */
async function staged(root: string, fn: (tree: string) => Promise<void>): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await sweep(root);
  const dir = await mkdtemp(join(root, `${prefix()}${process.pid}-`));
  try {
    await fn(join(dir, 'tree'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const prefix = () => `${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

/** sweep removes staging directories this host's processes left when they were killed (their pid is gone). */
async function sweep(root: string): Promise<void> {
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(prefix())) continue;
    const pid = Number(name.slice(prefix().length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(join(root, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** redacted hides the credentials in an error's message, keeping its class (RetryLater stays retried). */
function redacted(err: unknown, redact: (text: string) => string): unknown {
  if (err instanceof Error) err.message = redact(err.message);
  return err;
}

function safeShown(target: string): string {
  try {
    const u = new URL(target);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'restore_target';
  }
}
