/**
 * Writers as real processes (`node --import tsx writer-fixture.ts`): two concurrent backups beside a
 * prune, a writer killed with SIGKILL, and the `hoard bank` CLI.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import {
  PACK_WRITER_META, PENDING_PREFIX, Repository, check, layout, liveWriters, loadSnapshot, openWriter, prune, restoreTree, backupTree, saveSnapshot,
} from '../../../src/bank/repo/index.js';
import { describeTree, fileTree, newRepo, seeded, tempDir } from './helpers.js';

const PASS = 'correct horse';
const CWD = new URL('../../../', import.meta.url).pathname;
const FIXTURE = new URL('./writer-fixture.ts', import.meta.url).pathname;
const SKEW = { skewMs: 200 };

interface Child { readonly pid: number; readonly done: Promise<{ code: number | null; out: string; err: string }>; readonly lines: string[] }

function run(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: CWD, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => { out += d; lines.push(...d.toString().split('\n').filter(Boolean)); });
  child.stderr.on('data', (d: Buffer) => { err += d; });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { pid: child.pid!, done, lines };
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function keysUnder(backend: BankBackend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list(prefix)) out.push(info.key);
  return out;
}

async function restoresIdentical(backend: BankBackend, snapshot: string, src: string): Promise<void> {
  const repo = await Repository.open(backend, PASS);
  const dst = await tempDir('dst');
  await restoreTree(repo, (await loadSnapshot(repo, snapshot)).sections.files!.root, dst);
  expect(await describeTree(dst)).toEqual(await describeTree(src));
}

async function checkClean(backend: BankBackend): Promise<string[]> {
  const r = await check(await Repository.open(backend, PASS, { loadIndex: false }), { readData: true });
  expect(r.findings).toEqual([]);
  return [...r.unindexedPacks];
}

async function firstBackup(backend: BankBackend, spec: Record<string, Buffer>): Promise<{ snapshot: string; src: string }> {
  const src = await tempDir('src');
  await fileTree(src, spec);
  const w = await openWriter(backend, PASS, { ttlMs: 5_000, packTarget: 512 * 1024 });
  const { root } = await backupTree(w.repo, src);
  const snapshot = await saveSnapshot(w.repo, { tags: [], sections: { files: { kind: 'tree', root, bytes: 0, items: 0 } } });
  await w.close();
  return { snapshot, src };
}

describe('writer processes', () => {
  it('two concurrent backups and a concurrent prune lose nothing', async () => {
    const { backend, root } = await newRepo();
    const x = seeded(500 * 1024, 'x');
    const y = seeded(500 * 1024, 'y');
    const s0 = await firstBackup(backend, { 'x.bin': x, 'y.bin': y });
    const src1 = await tempDir('src1');
    await fileTree(src1, { 'x.bin': x, 'one.bin': seeded(3 * 1024 * 1024, 'one') });
    const src2 = await tempDir('src2');
    await fileTree(src2, { 'y.bin': y, 'two.bin': seeded(1024 * 1024, 'two'), 'sub/x-again.bin': x });

    const w1 = run([FIXTURE, root, PASS, 'backup', '6000', src1]);
    await until('writer 1 lease', async () => (await liveWriters(backend, SKEW)).length > 0);
    let settled = false;
    const pruning = prune(await Repository.open(backend, PASS, { loadIndex: false }), { ...SKEW, forget: [s0.snapshot], waitMs: 120_000 })
      .finally(() => { settled = true; });
    await until('prune notice', async () => settled || (await keysUnder(backend, PENDING_PREFIX)).length > 0);
    const w2 = run([FIXTURE, root, PASS, 'backup', '6000', src2]);
    const [r1, r2, pruned] = await Promise.all([w1.done, w2.done, pruning]);
    expect(r1.err).toBe('');
    expect(r2.err).toBe('');
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(pruned.forgotten).toEqual([s0.snapshot]);
    expect(pruned.deferred).toEqual([]);

    const snap1 = (JSON.parse(r1.out) as { snapshot: string }).snapshot;
    const snap2 = (JSON.parse(r2.out) as { snapshot: string }).snapshot;
    expect((await keysUnder(backend, layout.snapshotsPrefix)).sort()).toEqual([layout.snapshot(snap1), layout.snapshot(snap2)].sort());
    await restoresIdentical(backend, snap1, src1);
    await restoresIdentical(backend, snap2, src2);
    expect(await checkClean(backend)).toEqual([]);
    // And a prune afterwards still finds everything live.
    await prune(await Repository.open(backend, PASS, { loadIndex: false }), SKEW);
    await restoresIdentical(backend, snap1, src1);
    await restoresIdentical(backend, snap2, src2);
  });

  it('a writer killed with SIGKILL: check passes, its data stays until its lease expires, then cleanup removes it', async () => {
    const { backend, root } = await newRepo();
    const s0 = await firstBackup(backend, { 'keep.bin': seeded(700 * 1024, 'keep') });
    const packsBefore = await keysUnder(backend, layout.dataPrefix);

    const w = run([FIXTURE, root, PASS, 'hang', '8000']);
    await until('the writer to store packs', () => w.lines.some((l) => l.startsWith('READY')), 120_000);
    const lease = w.lines.find((l) => l.startsWith('READY'))!.split(' ')[1]!;
    process.kill(w.pid, 'SIGKILL');
    await w.done;

    const leftovers = async () => {
      const out: string[] = [];
      for await (const info of backend.list(layout.dataPrefix)) if (info.metadata[PACK_WRITER_META] === lease) out.push(info.key);
      return out;
    };
    const dead = await leftovers();
    expect(dead.length).toBeGreaterThanOrEqual(3);

    // Before expiry nothing of the dead writer may go: it could still be alive and about to publish.
    const early = await prune(await Repository.open(backend, PASS, { loadIndex: false }), SKEW);
    expect(early.orphansDeleted + early.packsDeleted).toBe(0);
    expect(early.deferred).toEqual([lease]);
    expect(await leftovers()).toEqual(dead);
    expect((await checkClean(backend)).length).toBeGreaterThan(0); // unindexed leftovers are not damage

    await until('the lease to expire', async () => (await liveWriters(backend, SKEW)).length === 0, 30_000);
    const late = await prune(await Repository.open(backend, PASS, { loadIndex: false }), SKEW);
    expect(late.deferred).toEqual([]);
    expect(late.orphansDeleted).toBeGreaterThan(0);
    expect(late.packsDeleted).toBeGreaterThan(0);
    expect(await leftovers()).toEqual([]);
    expect((await keysUnder(backend, layout.dataPrefix)).sort()).toEqual(packsBefore.sort());
    expect(await checkClean(backend)).toEqual([]);
    await restoresIdentical(backend, s0.snapshot, s0.src);
  });
});

describe('hoard bank CLI', () => {
  const main = join(CWD, 'src/main.ts');

  it('says clearly when the passphrase is wrong, and exits 1', async () => {
    const { root } = await newRepo();
    const file = join(await tempDir('pass'), 'pass');
    await writeFile(file, 'wrong horse\n');
    const r = await run([main, 'bank', 'check', '--path', root, '--passphrase-file', file]).done;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/passphrase or key file does not open this bank/);
    const ok = await run([main, 'bank', 'check', '--path', root], { HOARD_BANK_PASSPHRASE: PASS }).done;
    expect(ok.code).toBe(0);
    expect(ok.err).toMatch(/no damage found/);
  });

  it('check --read-data lists the damaged file and exits 1; snapshots lists snapshots', async () => {
    const { backend, root } = await newRepo();
    const s0 = await firstBackup(backend, { 'hurt.bin': seeded(100 * 1024, 'hurt') });
    const [pack] = await keysUnder(backend, layout.dataPrefix);
    const bytes = Buffer.from(await backend.get(pack!));
    bytes[10]! ^= 1;
    await backend.put(pack!, bytes);
    const env = { HOARD_BANK_PASSPHRASE: PASS };
    const r = await run([main, 'bank', 'check', '--read-data', '--path', root], env).done;
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`file +snapshot ${s0.snapshot.slice(0, 12)} files:/hurt.bin: `));
    expect(r.err).toContain(`damaged snapshots: ${s0.snapshot}`);
    const list = await run([main, 'bank', 'snapshots', '--json', '--path', root], env).done;
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as { id: string }[]).map((s) => s.id)).toEqual([s0.snapshot]);
  });
});
