import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../util/clock.js';
import type { BankBackend, ObjectInfo } from './backend.js';
import { LeaseError, acquireLease, expiredLeases, listLeases } from './lease.js';

/** BankFixture is one fresh, empty bank for one test, and how to dispose of it. */
export interface BankFixture {
  readonly backend: BankBackend;
  /** cleanup runs after the test; `failed` lets a fixture keep its data as evidence. */
  cleanup?(failed: boolean): Promise<void>;
}

/** BankSuiteOptions scales the suite to the backend and the machine. */
export interface BankSuiteOptions {
  /** largeBytes is the size of the large-object test (default 20 MiB). */
  readonly largeBytes?: number;
  /** manyKeys must exceed the backend's listing page (default 1 100: S3 and Swift page at 1 000). */
  readonly manyKeys?: number;
  /** concurrency bounds parallel requests when filling and emptying a bank (default 16). */
  readonly concurrency?: number;
}

/**
 * runBankSuite registers the BankBackend conformance tests (vitest) for one backend. makeBackend is
 * called before every test and must return an empty bank of its own (a temp dir, a fresh prefix), so
 * tests may run while other suites use the same store. Each test fails on a contract violation, not
 * merely on an exception: orders, bytes, sizes, metadata and error classes are all compared.
 */
export function runBankSuite(name: string, makeBackend: () => Promise<BankFixture | BankBackend>, opts: BankSuiteOptions = {}): void {
  const largeBytes = opts.largeBytes ?? 20 * 1024 * 1024;
  const manyKeys = opts.manyKeys ?? 1_100;
  const concurrency = opts.concurrency ?? 16;
  describe(`bank conformance: ${name}`, () => {
    let fixture: BankFixture;
    let b: BankBackend;
    beforeEach(async () => {
      const made = await makeBackend();
      fixture = 'backend' in made ? made : { backend: made };
      b = fixture.backend;
    });
    afterEach(async (ctx) => {
      await fixture.cleanup?.(ctx.task.result?.state === 'fail');
    }, 300_000);

    it('round-trips bytes and metadata, and put replaces', async () => {
      await b.put('obj/one', bytes('hello'), { metadata: { kind: 'greeting', 'x-count': '1' } });
      expect(text(await b.get('obj/one'))).toBe('hello');
      expect(await b.stat('obj/one')).toEqual({ key: 'obj/one', size: 5, metadata: { kind: 'greeting', 'x-count': '1' } });
      await b.put('obj/one', bytes('replaced!'));
      expect(text(await b.get('obj/one'))).toBe('replaced!');
      expect(await b.stat('obj/one')).toEqual({ key: 'obj/one', size: 9, metadata: {} });
      await b.put('obj/empty', new Uint8Array(0));
      expect((await b.get('obj/empty')).length).toBe(0);
      expect((await b.stat('obj/empty')).size).toBe(0);
    });

    it('refuses metadata that some backend would alter', async () => {
      const bad: Record<string, string>[] = [{ Upper: 'x' }, { ok: ' padded' }, { ok: 'ünïcode' }, { ok: '' }, { 'a_b': 'x' }];
      for (const metadata of bad) {
        await expectClass(b, b.put('meta/bad', bytes('x'), { metadata }), 'permanent');
      }
      await expectClass(b, b.stat('meta/bad'), 'notFound');
    });

    it('keeps every byte value intact', async () => {
      const all = new Uint8Array(256 * 4).map((_, i) => i % 256);
      await b.put('bin/all', all);
      expect(Buffer.from(await b.get('bin/all')).equals(Buffer.from(all))).toBe(true);
      expect(Buffer.from(await b.get('bin/all', { offset: 250, length: 12 }))).toEqual(Buffer.from(all.subarray(250, 262)));
    });

    it('reads byte ranges, cut short at the end', async () => {
      await b.put('range/x', bytes('0123456789'));
      expect(text(await b.get('range/x', { offset: 0, length: 3 }))).toBe('012');
      expect(text(await b.get('range/x', { offset: 4, length: 2 }))).toBe('45');
      expect(text(await b.get('range/x', { offset: 7, length: 100 }))).toBe('789');
      expect((await b.get('range/x', { offset: 3, length: 0 })).length).toBe(0);
      expect((await b.get('range/x', { offset: 10, length: 5 })).length).toBe(0);
      await expectClass(b, b.get('range/x', { offset: 11, length: 1 }), 'permanent');
      await expectClass(b, b.get('range/x', { offset: -1, length: 1 }), 'permanent');
      await expectClass(b, b.get('range/missing', { offset: 0, length: 1 }), 'notFound');
    });

    it('classifies missing objects as not found, and remove is idempotent', async () => {
      await expectClass(b, b.get('nope/x'), 'notFound');
      await expectClass(b, b.stat('nope/x'), 'notFound');
      await b.remove('nope/x');
      await b.put('gone/x', bytes('x'));
      await b.remove('gone/x');
      await b.remove('gone/x');
      await expectClass(b, b.get('gone/x'), 'notFound');
      expect(await keys(b, 'gone/')).toEqual([]);
    });

    it('refuses invalid keys without writing anything', async () => {
      const bad = ['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', 'a b', 'ä', 'a\\b', 'a\n', 'a~obj', 'a?b', 'a%2Fb'];
      for (const key of bad) {
        await expectClass(b, b.put(key, bytes('x')), 'permanent');
        await expectClass(b, b.get(key), 'permanent');
        await expectClass(b, b.stat(key), 'permanent');
        await expectClass(b, b.remove(key), 'permanent');
      }
      await expect(keys(b, 'a?')).rejects.toThrow();
      expect(await keys(b, '')).toEqual([]);
    });

    it('lists in byte order, by prefix, after a key', async () => {
      const all = ['A', '_x', '@y', 'a', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a/b0', 'a/c', 'a0', 'ab', 'b/z/y'];
      await fill(b, all, concurrency);
      const sorted = [...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(await keys(b, '')).toEqual(sorted);
      expect(await keys(b, 'a/')).toEqual(['a/b', 'a/b/c', 'a/b0', 'a/c']);
      expect(await keys(b, 'a/b')).toEqual(['a/b', 'a/b/c', 'a/b0']);
      expect(await keys(b, 'a')).toEqual(['a', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a/b0', 'a/c', 'a0', 'ab']);
      expect(await keys(b, 'zz')).toEqual([]);
      expect(await keys(b, '', 'a.b')).toEqual(sorted.slice(sorted.indexOf('a.b') + 1));
      expect(await keys(b, 'a/', 'a/b/c')).toEqual(['a/b0', 'a/c']);
      expect(await keys(b, 'a/', 'a/b/')).toEqual(['a/b/c', 'a/b0', 'a/c']);
      expect(await keys(b, '', 'a/')).toEqual(['a/b', 'a/b/c', 'a/b0', 'a/c', 'a0', 'ab', 'b/z/y']);
      expect(await keys(b, 'a/', 'zzz')).toEqual([]);
      const infos: ObjectInfo[] = [];
      for await (const i of b.list('a/b/')) infos.push(i);
      expect(infos).toEqual([{ key: 'a/b/c', size: 5, metadata: { k: 'a-b-c' } }]);
    });

    it(`lists more keys than a page (${manyKeys}) in order, resuming after any of them`, async () => {
      const all = Array.from({ length: manyKeys }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      await fill(b, all, concurrency);
      await b.put('many0', bytes('outside'));
      expect(await keys(b, 'many/')).toEqual(all);
      expect(await keys(b, 'many/', all[1010])).toEqual(all.slice(1011));
      expect(await keys(b, 'many/0000', all[3])).toEqual(all.slice(4, 10));
      await drain(b, all, concurrency);
    }, 300_000);

    it(`stores a large object (${largeBytes} bytes) and reads ranges of it`, async () => {
      const big = randomBytes(largeBytes);
      await b.put('large/blob', big);
      expect((await b.stat('large/blob')).size).toBe(largeBytes);
      expect(sha(await b.get('large/blob'))).toBe(sha(big));
      const tail = await b.get('large/blob', { offset: largeBytes - 1000, length: 4096 });
      expect(Buffer.from(tail).equals(big.subarray(largeBytes - 1000))).toBe(true);
    }, 300_000);

    it('ifAbsent refuses an existing key with a conflict and keeps the object', async () => {
      await b.put('once/x', bytes('first'), { ifAbsent: true });
      await expectClass(b, b.put('once/x', bytes('second'), { ifAbsent: true }), 'conflict');
      expect(text(await b.get('once/x'))).toBe('first');
      await b.remove('once/x');
      await b.put('once/x', bytes('third'), { ifAbsent: true });
      expect(text(await b.get('once/x'))).toBe('third');
    });

    it('lets exactly one of many concurrent ifAbsent puts win', async () => {
      for (let round = 0; round < 3; round++) {
        const key = `race/${round}`;
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => b.put(key, bytes(`writer-${i}`), { ifAbsent: true })));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(b.isConflict(r.reason)).toBe(true);
        expect(text(await b.get(key))).toBe(`writer-${won[0]}`);
      }
    });

    it('never shows readers a mix of two versions', async () => {
      const size = 256 * 1024;
      const versions = [new Uint8Array(size).fill(1), new Uint8Array(size).fill(2)];
      await b.put('atomic/x', versions[0] as Uint8Array);
      let writing = true;
      const writer = (async () => {
        for (let i = 1; i <= 12; i++) await b.put('atomic/x', versions[i % 2] as Uint8Array);
        writing = false;
      })();
      let reads = 0;
      while (writing || reads === 0) {
        const got = Buffer.from(await b.get('atomic/x'));
        expect(got.length).toBe(size);
        expect(got.every((v) => v === got[0])).toBe(true);
        reads++;
      }
      await writer;
    }, 120_000);

    describe('leases', () => {
      const clock = fakeClock();

      it('are exclusive until released or expired, and a taken-over lease cannot be renewed', async () => {
        const a = await acquireLease(b, 'worker-a', 10_000, { name: 'ops', clock, skewMs: 1_000 });
        expect(a.isValid()).toBe(true);
        await expect(acquireLease(b, 'worker-b', 10_000, { name: 'ops', clock, skewMs: 1_000 })).rejects.toMatchObject({ code: 'held' });
        clock.advance(9_000);
        await a.renew();
        clock.advance(10_500); // expired for the holder, but still within the others' skew allowance
        expect(a.isValid()).toBe(false);
        await expect(acquireLease(b, 'worker-b', 10_000, { name: 'ops', clock, skewMs: 1_000 })).rejects.toBeInstanceOf(LeaseError);
        clock.advance(1_000);
        const taker = await acquireLease(b, 'worker-b', 10_000, { name: 'ops', clock, skewMs: 1_000 });
        expect(taker.generation).toBeGreaterThan(a.generation);
        const lost = await a.renew().then(() => undefined, (e: unknown) => e);
        expect(lost).toBeInstanceOf(LeaseError);
        expect(lost).toMatchObject({ code: 'lost', holder: { owner: 'worker-b' } });
        expect(b.isConflict(lost)).toBe(true);
        expect(a.isValid()).toBe(false);
        await taker.renew();
        await taker.release();
        await a.release(); // a no-op on a lost lease
        const again = await acquireLease(b, 'worker-c', 5_000, { name: 'ops', clock });
        expect(again.isValid()).toBe(true);
        expect((await keys(b, 'leases/ops/')).length).toBe(1);
      });

      it('renew after expiry succeeds when nobody took over', async () => {
        const a = await acquireLease(b, 'solo', 1_000, { clock, skewMs: 0 });
        clock.advance(5_000);
        expect(a.isValid()).toBe(false);
        await a.renew(2_000);
        expect(a.isValid(1_500)).toBe(true);
        expect(a.isValid(2_500)).toBe(false);
      });

      it('let exactly one of concurrent acquirers win', async () => {
        const tries = await Promise.allSettled(['p1', 'p2', 'p3', 'p4', 'p5'].map((o) => acquireLease(b, o, 60_000, { name: 'race', clock })));
        expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
        for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'held' });
      });

      it('are listed, and dead writers are found by expiry', async () => {
        const live = await acquireLease(b, 'alive', 60_000, { clock });
        await acquireLease(b, 'dead', 1_000, { clock });
        const gone = await acquireLease(b, 'done', 1_000, { clock });
        await gone.release();
        clock.advance(30_000);
        const listed = (await listLeases(b)).map((l) => [l.name, l.owner, l.released]).sort();
        expect(listed).toEqual([['alive', 'alive', false], ['dead', 'dead', false], ['done', 'done', true]]);
        expect((await expiredLeases(b, clock.now())).map((l) => l.owner)).toEqual(['dead']);
        expect((await expiredLeases(b, clock.now(), { skewMs: 60_000 })).map((l) => l.owner)).toEqual([]);
        await live.release();
      });
    });
  });
}

type ErrorClass = 'notFound' | 'conflict' | 'permanent';

/** expectClass awaits a failure and checks that the backend classifies it as exactly one class. */
async function expectClass(b: BankBackend, p: Promise<unknown>, cls: ErrorClass): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e ?? new Error('rejected with nothing'));
  expect(err, `expected a ${cls} error`).toBeDefined();
  expect({ notFound: b.isNotFound(err), conflict: b.isConflict(err), permanent: b.isPermanent(err) }).toEqual({
    notFound: cls === 'notFound', conflict: cls === 'conflict', permanent: cls === 'permanent',
  });
}

async function keys(b: BankBackend, prefix: string, after?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const i of b.list(prefix, after === undefined ? {} : { after })) out.push(i.key);
  return out;
}

/** fill puts each key with its own name as data and a small metadata entry. */
async function fill(b: BankBackend, all: readonly string[], concurrency: number): Promise<void> {
  await pool(all, concurrency, (k) => b.put(k, bytes(k), { metadata: { k: k.replace(/[^a-z0-9-]/gi, '-').toLowerCase() || 'x' } }));
}

/** drain removes keys in parallel; used where a test leaves many objects behind on a remote store. */
export async function drain(b: BankBackend, all: readonly string[], concurrency = 16): Promise<void> {
  await pool(all, concurrency, (k) => b.remove(k));
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** emptyBank removes every object in a bank; remote fixtures call it from cleanup. */
export async function emptyBank(b: BankBackend, concurrency = 16): Promise<void> {
  const all: string[] = [];
  for await (const i of b.list('')) all.push(i.key);
  await drain(b, all, concurrency);
}

function fakeClock(): Clock & { advance(ms: number): void } {
  let t = Date.parse('2030-01-01T00:00:00Z');
  return { now: () => new Date(t), advance: (ms) => { t += ms; } };
}

function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

function text(u: Uint8Array): string {
  return Buffer.from(u).toString('utf8');
}

function sha(u: Uint8Array): string {
  return createHash('sha256').update(u).digest('hex');
}
