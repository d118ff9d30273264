/**
 * Test helpers for bank/repo: temporary directories that are kept (and printed) when a test fails,
 * a real fs bank in one of them, a fileTree() fixture builder and a describeTree() that captures
 * everything restore must reproduce, for comparing a restored tree with its source.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { fsBackend } from '../../../src/bank/fs/index.js';
import type { BankBackend } from '../../../src/bank/backend.js';
import { Repository, type InitOptions } from '../../../src/bank/repo/index.js';

/** tempDir makes a directory removed after the test, or kept and printed when the test fails. */
export async function tempDir(label = 'repo'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hoard-${label}-`));
  onTestFinished(async (ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`kept ${dir} for inspection`);
    else await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** tempBank is a real fs bank in a temp dir. */
export async function tempBank(): Promise<{ backend: BankBackend; root: string }> {
  const root = await tempDir('bank');
  return { backend: fsBackend({ root }), root };
}

/** SMALL makes tests fast without changing code paths: small chunks, small packs, cheap scrypt. */
export const SMALL: InitOptions = {
  chunker: { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 },
  packTarget: 512 * 1024,
  scrypt: { N: 1 << 12, r: 8, p: 1 },
  workers: 'shared',
};

/** newRepo initialises a repository with SMALL settings on a fresh fs bank. */
export async function newRepo(passphrase = 'correct horse', opts: InitOptions = SMALL): Promise<{ repo: Repository; backend: BankBackend; root: string }> {
  const { backend, root } = await tempBank();
  const repo = await Repository.init(backend, passphrase, opts);
  onTestFinished(() => repo.close().catch(() => undefined));
  return { repo, backend, root };
}

/** Entry describes one fixture path: file content, or a file/dir/symlink with attributes. */
export type Entry =
  | string
  | Buffer
  | { content: string | Buffer; mode?: number; mtime?: number }
  | { dir: true; mode?: number; mtime?: number }
  | { symlink: string };

/** fileTree creates `spec` under `root` (paths use `/`); attributes are applied after contents. */
export async function fileTree(root: string, spec: Record<string, Entry>): Promise<void> {
  const late: (() => Promise<void>)[] = [];
  for (const [rel, entry] of Object.entries(spec)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    if (typeof entry === 'string' || Buffer.isBuffer(entry)) await writeFile(path, entry);
    else if ('symlink' in entry) await symlink(entry.symlink, path);
    else {
      if ('dir' in entry) await mkdir(path, { recursive: true });
      else await writeFile(path, entry.content);
      late.unshift(async () => {
        if (entry.mode !== undefined) await chmod(path, entry.mode);
        if (entry.mtime !== undefined) await utimes(path, entry.mtime, entry.mtime);
      });
    }
  }
  for (const fn of late) await fn();
}

/** describeTree lists every entry under root with what restore must reproduce, sorted by name bytes. */
export async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  await walk(Buffer.from(root), Buffer.alloc(0), out);
  return out;
}

async function walk(root: Buffer, rel: Buffer, out: string[]): Promise<void> {
  const dir = rel.length ? Buffer.concat([root, Buffer.from('/'), rel]) : root;
  for (const name of (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare)) {
    const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
    const p = Buffer.concat([root, Buffer.from('/'), r]);
    const st = await lstat(p);
    const head = `${r.toString('hex')} mode=${(st.mode & 0o7777).toString(8)}`;
    if (st.isSymbolicLink()) out.push(`${head} link->${(await readlink(p, { encoding: 'buffer' })).toString('hex')} mtime=${Math.floor(st.mtimeMs)}`);
    else if (st.isDirectory()) {
      out.push(`${head} dir mtime=${Math.floor(st.mtimeMs)}`);
      await walk(root, r, out);
    } else out.push(`${head} size=${st.size} sha=${createHash('sha256').update(await readFile(p)).digest('hex')} mtime=${Math.floor(st.mtimeMs)}`);
  }
}

/** seeded returns `n` deterministic pseudo-random bytes (incompressible) for `seed`. */
export function seeded(n: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** allObjects reads every object of a bank, for tests that inspect what is stored. */
export async function allObjects(backend: BankBackend): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const info of backend.list('')) out.set(info.key, Buffer.from(await backend.get(info.key)));
  return out;
}
