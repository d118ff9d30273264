import { createHash, randomBytes } from 'node:crypto';
import { compress, decompress } from 'zstd-napi';
import type { BankBackend } from '../backend.js';
import { LeaseError, acquireLease, listLeases, type Lease, type LeaseInfo } from '../lease.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import { RepoError, corrupt } from './errors.js';
import type { Credential } from './keys.js';
import { Repository, type RepoOptions } from './repository.js';

/*
 * Writers and prune share a repository without a global lock (docs/bank-format.md, "Concurrency"):
 * - every writer holds its own lease `writer-<random>`, taken before it reads anything, renewed while
 *   it runs, re-checked (renewed) before it publishes an index file or a snapshot, released at the end;
 * - a prune holds the lease `prune` (one prune at a time), and before deleting announces what it will
 *   delete in a notice `pending/<id>`, then lists the writer leases. A writer reads the notices after
 *   taking its lease and never deduplicates against an announced blob. Because each side writes before
 *   it reads, a writer either sees the notice or is seen by the prune, which then waits for it to end.
 */

/** PENDING_PREFIX holds prune notices: sealed lists of the blobs and packs a running prune will delete. */
export const PENDING_PREFIX = 'pending/';
/** WRITER_LEASE_PREFIX starts every writer lease name. */
export const WRITER_LEASE_PREFIX = 'writer-';
/** PRUNE_LEASE is the lease a prune holds; a second prune fails with a `locked` RepoError. */
export const PRUNE_LEASE = 'prune';
/** DEFAULT_LEASE_TTL_MS: a dead writer's data is reclaimable this long (plus skew) after its last renewal. */
export const DEFAULT_LEASE_TTL_MS = 5 * 60_000;

/** LockOptions tune leases; tests shorten them, production keeps the defaults. */
export interface LockOptions {
  readonly ttlMs?: number;
  /** skewMs is how long past its expiry another holder's lease is still respected (default 5 000). */
  readonly skewMs?: number;
  readonly clock?: Clock;
  readonly owner?: string;
}

/** Notice is the content of a prune notice. */
export interface Notice {
  readonly time: string;
  readonly blobs: readonly string[];
  readonly packs: readonly string[];
}

/**
 * KeptLease renews a lease from a timer at a third of its TTL and serialises every renewal (the Lease
 * object is not safe for concurrent renewals). Once a renewal fails, `check()` throws that error.
 */
export class KeptLease {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly lease: Lease, ttlMs: number) {
    this.timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /** check renews now and throws a LeaseError once the lease is lost or was taken over. */
  async check(): Promise<void> {
    await this.renew();
    if (this.failure !== undefined) throw this.failure;
  }

  /** release stops renewing and frees the lease; a lost lease is left as it is. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.chain.catch(() => undefined);
    await this.lease.release();
  }

  /** abandon stops renewing without releasing, as a crash would (tests of crash cleanup). */
  abandon(): void {
    clearInterval(this.timer);
  }

  private renew(): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.lease.renew();
      } catch (err) {
        this.failure = err;
      }
    });
    this.chain = next;
    return next;
  }
}

/** WriterSession is a Repository opened for writing under its own writer lease. */
export interface WriterSession {
  readonly repo: Repository;
  readonly lease: KeptLease;
  /** close flushes and releases the lease; after an error, call it too (it releases even when flush fails). */
  close(): Promise<void>;
}

/**
 * openWriter takes a fresh writer lease, opens the repository, reads the prune notices and loads the
 * index, in that order (the order is what makes a concurrent prune safe). The session's packs are
 * tagged with the lease name, and it refuses to write an index file or snapshot once the lease is
 * lost. Many writers may be open at once, in one process or many.
 */
export async function openWriter(backend: BankBackend, cred: Credential, opts: RepoOptions & LockOptions = {}): Promise<WriterSession> {
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const name = `${WRITER_LEASE_PREFIX}${randomBytes(8).toString('hex')}`;
  const lease = new KeptLease(await acquireLease(backend, opts.owner ?? name, ttlMs, { name, clock: opts.clock, skewMs: opts.skewMs }), ttlMs);
  try {
    const repo = await Repository.open(backend, cred, { ...opts, loadIndex: false, writer: { tag: name, guard: () => lease.check() } });
    for (const notice of await readNotices(repo)) repo.avoid(notice.notice.blobs);
    await repo.loadIndex();
    return {
      repo, lease,
      close: async () => {
        try {
          await repo.close();
        } finally {
          await lease.release();
        }
      },
    };
  } catch (err) {
    await lease.release().catch(() => undefined);
    throw err;
  }
}

/** acquirePruneLease takes the `prune` lease or fails with a `locked` RepoError naming its holder. */
export async function acquirePruneLease(backend: BankBackend, opts: LockOptions = {}): Promise<KeptLease> {
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  try {
    return new KeptLease(await acquireLease(backend, opts.owner ?? `prune-${randomBytes(4).toString('hex')}`, ttlMs,
      { name: PRUNE_LEASE, clock: opts.clock, skewMs: opts.skewMs }), ttlMs);
  } catch (err) {
    if (!(err instanceof LeaseError)) throw err;
    throw new RepoError('locked', `The bank is locked: ${err.message}`, { object: PRUNE_LEASE, cause: err });
  }
}

/** liveWriters lists writer leases not released and not expired (by more than skewMs) at `now`. */
export async function liveWriters(backend: BankBackend, opts: LockOptions = {}): Promise<LeaseInfo[]> {
  const now = (opts.clock ?? systemClock).now().getTime();
  const skew = opts.skewMs ?? 5_000;
  return (await listLeases(backend)).filter((l) => l.name.startsWith(WRITER_LEASE_PREFIX) && !l.released && l.expiresAt.getTime() + skew > now);
}

/**
 * endWriters waits until each named writer lease is released or expired, at most `waitMs`. An expired
 * lease is taken over (acquired and released by us), so a stalled writer that wakes up cannot renew it
 * and so cannot publish anything that names blobs we delete. Returns the names still live.
 */
export async function endWriters(backend: BankBackend, names: readonly string[], waitMs: number, opts: LockOptions = {}): Promise<string[]> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now().getTime() + waitMs;
  let pending = [...names];
  for (;;) {
    const heads = new Map((await listLeases(backend)).map((l) => [l.name, l]));
    const still: string[] = [];
    for (const name of pending) {
      const head = heads.get(name);
      if (!head || head.released) continue;
      try {
        const taken = await acquireLease(backend, `${PRUNE_LEASE}-takeover`, 1_000, { name, clock, skewMs: opts.skewMs });
        await taken.release();
      } catch (err) {
        if (!(err instanceof LeaseError)) throw err;
        still.push(name);
      }
    }
    pending = still;
    if (pending.length === 0 || clock.now().getTime() >= deadline) return pending;
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - clock.now().getTime()))));
  }
}

/** writeNotice stores a sealed prune notice and returns its key. */
export async function writeNotice(repo: Repository, notice: Notice): Promise<string> {
  const box = repo.sealObject('prune-notice', compress(Buffer.from(JSON.stringify(notice)), { compressionLevel: 3 }));
  const key = `${PENDING_PREFIX}${createHash('sha256').update(box).digest('hex')}`;
  await repo.backend.put(key, box);
  return key;
}

/** readNotices reads every prune notice; a damaged one is a `corrupt` RepoError (a writer must not
 * guess which blobs are about to vanish). */
export async function readNotices(repo: Repository): Promise<{ key: string; notice: Notice }[]> {
  const out: { key: string; notice: Notice }[] = [];
  for await (const info of repo.backend.list(PENDING_PREFIX)) {
    let box: Uint8Array;
    try {
      box = await repo.backend.get(info.key);
    } catch (err) {
      // A notice is removed only once its prune has finished deleting: nothing left to avoid.
      if (repo.backend.isNotFound(err)) continue;
      throw err;
    }
    const plain = repo.openObject('prune-notice', info.key, box);
    try {
      out.push({ key: info.key, notice: JSON.parse(decompress(plain).toString('utf8')) as Notice });
    } catch (err) {
      throw corrupt(info.key, 'prune notice does not decode', err);
    }
  }
  return out;
}
