/**
 * retry() over a real fs bank. Transient failures are injected by a thin decorator in front of the
 * real backend (the storage itself is real); the tests prove what is retried, what is not, how long
 * the backoff waits, and that a listing resumes where it failed without repeating keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BankBackend, BankError, type ObjectInfo, acquireLease, fsBackend, retry } from '../../src/bank/index.js';

/** flaky fails the next `failures` calls of each method named in `methods` with `error`, then passes through. */
function flaky(inner: BankBackend, error: () => unknown, failures: number, methods: readonly string[]) {
  const calls: string[] = [];
  let left = failures;
  const gate = (name: string) => {
    calls.push(name);
    if (methods.includes(name) && left > 0) { left--; throw error(); }
  };
  const backend: BankBackend = {
    put: async (k, d, o) => { gate('put'); return inner.put(k, d, o); },
    get: async (k, r) => { gate('get'); return inner.get(k, r); },
    stat: async (k) => { gate('stat'); return inner.stat(k); },
    remove: async (k) => { gate('remove'); return inner.remove(k); },
    list: (p, o) => inner.list(p, o),
    isNotFound: (e) => inner.isNotFound(e),
    isConflict: (e) => inner.isConflict(e),
    isPermanent: (e) => inner.isPermanent(e),
  };
  return { backend, calls };
}

/** failingList yields `okItems` items of the real listing, then fails once with a transient error. */
function failingList(inner: BankBackend, okItems: number) {
  const afters: (string | undefined)[] = [];
  let failed = false;
  const backend: BankBackend = {
    ...inner,
    list: (prefix, o) => {
      afters.push(o?.after);
      return (async function* () {
        let n = 0;
        for await (const i of inner.list(prefix, o)) {
          if (!failed && n++ === okItems) { failed = true; throw new BankError('transient', 'connection reset'); }
          yield i;
        }
      })();
    },
  };
  return { backend, afters };
}

const transient = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('retry decorator', () => {
  let dir: string;
  let real: BankBackend;
  let sleeps: number[];
  const opts = () => ({ attempts: 4, baseMs: 100, maxMs: 250, random: () => 0.999, sleep: async (ms: number) => { sleeps.push(ms); } });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hoard-bank-retry-'));
    real = fsBackend({ root: dir });
    sleeps = [];
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('retries transient failures with capped exponential backoff, then succeeds', async () => {
    const f = flaky(real, transient, 3, ['put']);
    await retry(f.backend, opts()).put('k/1', Buffer.from('v'));
    expect(f.calls).toEqual(['put', 'put', 'put', 'put']);
    expect(sleeps).toEqual([99, 199, 249]); // ceilings 100, 200, then capped at 250; jitter just below each
    expect(Buffer.from(await real.get('k/1')).toString()).toBe('v');
  });

  it('draws each delay at random below its ceiling (full jitter)', async () => {
    const f = flaky(real, transient, 2, ['put']);
    await retry(f.backend, { ...opts(), random: () => 0.5 }).put('k/1', Buffer.from('v'));
    expect(sleeps).toEqual([50, 100]);
  });

  it('gives up after the last attempt and throws the last error unchanged', async () => {
    const errors: unknown[] = [];
    const f = flaky(real, () => { const e = transient(); errors.push(e); return e; }, 10, ['get']);
    const err = await retry(f.backend, opts()).get('k/1').catch((e: unknown) => e);
    expect(f.calls).toHaveLength(4);
    expect(err).toBe(errors[3]);
  });

  it('never retries not-found, conflict or permanent errors', async () => {
    const f = flaky(real, () => new Error('unused'), 0, []);
    const r = retry(f.backend, opts());
    expect(real.isNotFound(await r.get('missing/x').catch((e: unknown) => e))).toBe(true);
    await r.put('once/x', Buffer.from('a'), { ifAbsent: true });
    expect(real.isConflict(await r.put('once/x', Buffer.from('b'), { ifAbsent: true }).catch((e: unknown) => e))).toBe(true);
    expect(real.isPermanent(await r.stat('bad key').catch((e: unknown) => e))).toBe(true);
    const denied = flaky(real, () => Object.assign(new Error('EACCES'), { code: 'EACCES' }), 5, ['remove']);
    await expect(retry(denied.backend, opts()).remove('once/x')).rejects.toMatchObject({ code: 'EACCES' });
    expect(denied.calls).toEqual(['remove']);
    expect(f.calls).toEqual(['get', 'put', 'put', 'stat']);
    expect(sleeps).toEqual([]);
  });

  it('resumes a failed listing after the last key it yielded, yielding each key once', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `l/${i}`);
    for (const k of keys) await real.put(k, Buffer.from(k));
    const f = failingList(real, 3);
    const seen: ObjectInfo[] = [];
    for await (const i of retry(f.backend, opts()).list('l/')) seen.push(i);
    expect(seen.map((i) => i.key)).toEqual(keys);
    expect(f.afters).toEqual([undefined, 'l/2']);
    expect(sleeps).toHaveLength(1);
  });

  it('lets a lease survive a lost answer: the retried ifAbsent put meets its own record', async () => {
    let lost = 0;
    const lossy: BankBackend = {
      ...real,
      put: async (k, d, o) => {
        await real.put(k, d, o);
        // The write landed, but the caller hears a reset, as when a response is lost on the wire.
        if (o?.ifAbsent && lost++ === 0) throw transient();
      },
    };
    const lease = await acquireLease(retry(lossy, opts()), 'owner-1', 60_000);
    expect(lost).toBeGreaterThan(0);
    expect(lease.isValid()).toBe(true);
    await expect(acquireLease(real, 'owner-2', 60_000, { name: 'owner-1' })).rejects.toMatchObject({ code: 'held' });
  });
});
