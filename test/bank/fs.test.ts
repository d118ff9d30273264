/**
 * The bank conformance suite on the fs backend, plus what only a local file system can show: a writer
 * killed with SIGKILL mid-write leaves the old object or the new one and no visible temp file, and
 * separate processes racing with ifAbsent cannot both win.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { runBankSuite } from '../../src/bank/testing.js';

const keep = Boolean(process.env.HOARD_KEEP_TEST_DATA);
const FS_MODULE = resolve(import.meta.dirname, '../../src/bank/fs/index.ts');
const TSX = resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs');

async function tempDir(): Promise<{ dir: string; cleanup(failed: boolean): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hoard-bank-fs-'));
  return {
    dir,
    cleanup: async (failed) => {
      if (failed && keep) console.error(`fs bank test data kept in ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    },
  };
}

runBankSuite('fs', async () => {
  const t = await tempDir();
  return { backend: fsBackend({ root: join(t.dir, 'bank') }), cleanup: t.cleanup };
});

/** pattern is the deterministic content a child writes, so the parent can check it byte for byte. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed + (i >>> 12)) & 255;
  return b;
}

// The child gets the pattern function's source, so parent and child agree on the bytes.
const CHILD = `
import { fsBackend } from ${JSON.stringify(FS_MODULE)};
const [root, key, size, seed, ifAbsent] = process.argv.slice(2);
const pattern = ${pattern.toString()};
const data = pattern(Number(size), Number(seed));
const bank = fsBackend({ root });
process.stdout.write('writing\\n');
try {
  await bank.put(key, data, { ifAbsent: ifAbsent === '1' });
  process.stdout.write('won\\n');
} catch (err) {
  process.stdout.write(bank.isConflict(err) ? 'conflict\\n' : 'error ' + String(err) + '\\n');
}
`;

interface Child {
  readonly exited: Promise<string>;
  kill(): void;
}

function runChild(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', TSX, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<string>((res) => proc.on('exit', () => res(out)));
  return { exited, kill: () => proc.kill('SIGKILL') };
}

async function tempsIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.includes('~tmp.'));
}

/** killMidWrite starts a writer and SIGKILLs it `delayMs` after its temp file appears. */
async function killMidWrite(script: string, root: string, size: number, seed: number, delayMs: number, ifAbsent: boolean): Promise<boolean> {
  const dir = join(root, 'crash');
  const before = new Set(await tempsIn(dir));
  const child = runChild(script, [root, 'crash/obj', String(size), String(seed), ifAbsent ? '1' : '0']);
  let done = false;
  void child.exited.then(() => { done = true; });
  while (!done && (await tempsIn(dir)).every((n) => before.has(n))) await new Promise((r) => setTimeout(r, 1));
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  child.kill();
  const out = await child.exited;
  if (!out.includes('writing')) throw new Error(`the writer never started: ${out}`);
  return !out.includes('won') && !out.includes('conflict');
}

describe('fs bank: crashes and processes', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let failed = false;
  beforeEach(async () => { t = await tempDir(); failed = false; });
  afterEach(async (ctx) => { failed = ctx.task.result?.state === 'fail'; await t.cleanup(failed); });

  it('a writer killed mid-write leaves the key absent or complete, and no listed temp file', async () => {
    const script = join(t.dir, 'child.mts');
    await writeFile(script, CHILD);
    const root = join(t.dir, 'bank');
    const bank = fsBackend({ root });
    const size = 24 * 1024 * 1024;
    let killedMidWrite = 0;
    let seed = 0;
    for (const ifAbsent of [true, false]) {
      for (const delayMs of [0, 2, 10, 30, 80]) {
        seed++;
        const previous = await bank.get('crash/obj').then((d) => Buffer.from(d), () => undefined);
        if (await killMidWrite(script, root, size, seed, delayMs, ifAbsent)) killedMidWrite++;
        const now = await bank.get('crash/obj').then((d) => Buffer.from(d), (e: unknown) => (bank.isNotFound(e) ? undefined : Promise.reject(e)));
        // Absent (nothing yet), the previous version, or the new one complete: never anything else.
        const ok = now === undefined ? previous === undefined
          : now.equals(pattern(size, seed)) || (previous !== undefined && now.equals(previous));
        expect(ok, `seed ${seed}, delay ${delayMs} ms, ifAbsent ${ifAbsent}: object is torn`).toBe(true);
        const listed = [];
        for await (const i of bank.list('')) listed.push(i);
        expect(listed.map((i) => i.key)).toEqual(now === undefined ? [] : ['crash/obj']);
        if (now !== undefined) expect(listed[0]?.size).toBe(size);
      }
    }
    // Without a kill inside the write window the test would prove nothing; the strays show it happened.
    expect(killedMidWrite).toBeGreaterThan(0);
    expect((await tempsIn(join(root, 'crash'))).length).toBeGreaterThan(0);
  }, 180_000);

  it('processes racing with ifAbsent for one key: exactly one wins', async () => {
    const script = join(t.dir, 'child.mts');
    await writeFile(script, CHILD);
    const root = join(t.dir, 'bank');
    const children = Array.from({ length: 6 }, (_, i) => runChild(script, [root, 'race/key', String(256 * 1024), String(100 + i), '1']));
    const outs = await Promise.all(children.map((c) => c.exited));
    const won = outs.flatMap((o, i) => (o.includes('won') ? [i] : []));
    expect(outs.filter((o) => o.includes('conflict'))).toHaveLength(5);
    expect(won).toHaveLength(1);
    const bank = fsBackend({ root });
    expect(Buffer.from(await bank.get('race/key')).equals(pattern(256 * 1024, 100 + (won[0] as number)))).toBe(true);
    expect(await tempsIn(join(root, 'race'))).toEqual([]);
  }, 120_000);

  it('ignores temp files and strays in listings, and reports a damaged file as permanent', async () => {
    const root = join(t.dir, 'bank');
    const bank = fsBackend({ root });
    await bank.put('d/ok', Buffer.from('fine'));
    await writeFile(join(root, 'd', 'ok~tmp.1.abc'), 'half');
    await writeFile(join(root, 'd', 'stray'), 'x');
    await mkdir(join(root, 'not a key'));
    await writeFile(join(root, 'd', 'bad~obj'), 'not a bank object');
    const keys = [];
    for await (const i of bank.list('d/', { after: 'd/bad' })) keys.push(i.key);
    expect(keys).toEqual(['d/ok']);
    const err = await bank.get('d/bad').catch((e: unknown) => e);
    expect(bank.isPermanent(err)).toBe(true);
    expect(bank.isNotFound(err)).toBe(false);
  });

  it('remove prunes the directories it empties, and only those', async () => {
    const root = join(t.dir, 'bank');
    const bank = fsBackend({ root });
    await bank.put('p/q/r', Buffer.from('1'));
    await bank.put('p/s', Buffer.from('2'));
    await bank.remove('p/q/r');
    expect(await readdir(join(root, 'p'))).toEqual(['s~obj']);
    await bank.remove('p/s');
    expect(await readdir(root)).toEqual([]);
  });
});
