import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../util/clock.js';
import { type BankBackend, BankError } from './backend.js';
import { LEASES_PREFIX, isLeaseName, leaseKey, leasePrefix, parseLeaseKey } from './layout.js';

/*
 * Leases, improving on Karbor's (a Swift object with X-Delete-After, renewed by POST, judged by the
 * store's clock and open to two owners overwriting each other):
 *
 * - A lease is a chain of immutable records `leases/<name>/<generation>`; the highest generation is the
 *   truth. Every change (acquire, renew, take over, release) writes generation g+1 with `ifAbsent`, so
 *   of two writers racing from the same g exactly one wins: a compare-and-swap built on exclusive create.
 * - After writing, the writer lists the chain again; if a higher generation exists it lost (this also
 *   covers a stale holder re-creating a generation that had been pruned), removes its stray record and
 *   fails. Older generations are pruned after each successful write.
 * - Each record stores its expiry as wall-clock milliseconds from the writer's clock. Others treat the
 *   lease as expired only `skewMs` after that, which bounds how far clocks may disagree; the object
 *   store's clock is never consulted. A released lease is a record with `released: true`, never a
 *   deletion, because deleting the head would let generations restart and a stale holder win again.
 */

/** LeaseInfo is one lease's current record as stored in the bank. */
export interface LeaseInfo {
  readonly name: string;
  readonly owner: string;
  readonly generation: number;
  readonly acquiredAt: Date;
  readonly expiresAt: Date;
  readonly released: boolean;
}

/**
 * Lease is a held lease. Not safe for concurrent renew/release calls on one Lease object; callers renew
 * from one timer. Once a renewal fails the Lease stays lost and isValid() is false.
 */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** generation is the chain position of the holder's latest record. */
  readonly generation: number;
  readonly expiresAt: Date;
  /** renew extends the lease to now + ttlMs (default: the acquire TTL); throws LeaseError `lost` if another
   * owner took it over or it was released. Renewing after expiry succeeds only if nobody took it over. */
  renew(ttlMs?: number): Promise<void>;
  /** release frees the lease at once for others; idempotent, and a no-op on a lost lease. */
  release(): Promise<void>;
  /** isValid is true while the lease is held and at least marginMs remain by the holder's clock. */
  isValid(marginMs?: number): boolean;
}

/** LeaseOptions tunes acquireLease. */
export interface LeaseOptions {
  /** name of the lease (one key segment); defaults to owner, as Karbor's per-owner leases. */
  readonly name?: string;
  readonly clock?: Clock;
  /** skewMs is how long past its expiry a lease of another owner is still respected (default 5 000). */
  readonly skewMs?: number;
}

/** LeaseErrorCode says why a lease operation failed: `held` on acquire, `lost` on renew. */
export type LeaseErrorCode = 'held' | 'lost';

/** LeaseError is a `conflict` BankError naming the lease, and the other owner and its expiry when known. */
export class LeaseError extends BankError {
  readonly code: LeaseErrorCode;
  readonly holder: LeaseInfo | undefined;

  constructor(code: LeaseErrorCode, message: string, holder?: LeaseInfo) {
    super('conflict', message);
    this.name = 'LeaseError';
    this.code = code;
    this.holder = holder;
  }
}

const DEFAULT_SKEW_MS = 5_000;

interface LeaseRecord {
  readonly v: 1;
  readonly name: string;
  readonly owner: string;
  readonly token: string;
  readonly acquiredAt: number;
  readonly expiresAt: number;
  readonly released: boolean;
}

interface Ctx {
  readonly backend: BankBackend;
  readonly clock: Clock;
  readonly skewMs: number;
}

/**
 * acquireLease takes the lease `opts.name ?? owner` for ttlMs, if it is free, released, or expired more
 * than skewMs ago by this process's clock. Of concurrent acquirers exactly one succeeds; the others get
 * a LeaseError `held` naming the holder. A restarted process is a new holder too: it cannot reclaim the
 * unexpired lease of its previous life, since nothing proves that life has ended. Invalid names are `invalid` BankErrors; storage errors pass
 * through (wrap the backend with retry() for transient ones).
 */
export async function acquireLease(backend: BankBackend, owner: string, ttlMs: number, opts: LeaseOptions = {}): Promise<Lease> {
  const name = opts.name ?? owner;
  if (!isLeaseName(name)) throw new BankError('invalid', `Invalid lease name ${JSON.stringify(name)}: use one key segment.`);
  if (!(ttlMs > 0)) throw new BankError('invalid', `Lease TTL must be positive, not ${ttlMs}.`);
  const ctx: Ctx = { backend, clock: opts.clock ?? systemClock, skewMs: opts.skewMs ?? DEFAULT_SKEW_MS };
  const chain = await readChain(backend, name);
  const head = chain.at(-1);
  if (head && !isFree(ctx, head.record)) throw heldError(head, 'is held');
  const now = ctx.clock.now().getTime();
  const record: LeaseRecord = {
    v: 1, name, owner, token: randomBytes(16).toString('hex'), acquiredAt: now, expiresAt: now + ttlMs, released: false,
  };
  const generation = (head?.generation ?? 0) + 1;
  const outcome = await advance(ctx, record, generation);
  if (outcome.kind === 'lost') throw heldError(outcome.winner, 'was taken concurrently');
  return new LeaseImpl(ctx, record, generation, ttlMs);
}

/** listLeases returns the current record of every lease in the bank, by name. Read-only; no locking. */
export async function listLeases(backend: BankBackend): Promise<LeaseInfo[]> {
  const heads = new Map<string, { generation: number; key: string }>();
  for await (const obj of backend.list(LEASES_PREFIX)) {
    const parsed = parseLeaseKey(obj.key);
    if (parsed) heads.set(parsed.name, { generation: parsed.generation, key: obj.key });
  }
  const out: LeaseInfo[] = [];
  for (const head of heads.values()) {
    const record = await readRecord(backend, head.key);
    if (record) out.push(info(record, head.generation));
  }
  return out;
}

/**
 * expiredLeases returns the leases whose holders stopped renewing: not released, and expired more than
 * skewMs (default 5 000) before `now`. A garbage collector uses their owners to find partial checkpoints;
 * before deleting anything it should acquire the lease itself, which fails if the owner came back.
 */
export async function expiredLeases(backend: BankBackend, now: Date, opts: { skewMs?: number } = {}): Promise<LeaseInfo[]> {
  const skew = opts.skewMs ?? DEFAULT_SKEW_MS;
  return (await listLeases(backend)).filter((l) => !l.released && l.expiresAt.getTime() + skew <= now.getTime());
}

class LeaseImpl implements Lease {
  private lost = false;

  constructor(
    private readonly ctx: Ctx,
    private record: LeaseRecord,
    private gen: number,
    private readonly ttlMs: number,
  ) {}

  get name(): string { return this.record.name; }
  get owner(): string { return this.record.owner; }
  get generation(): number { return this.gen; }
  get expiresAt(): Date { return new Date(this.record.expiresAt); }

  isValid(marginMs = 0): boolean {
    return !this.lost && !this.record.released && this.ctx.clock.now().getTime() + marginMs < this.record.expiresAt;
  }

  async renew(ttlMs = this.ttlMs): Promise<void> {
    if (this.lost || this.record.released) {
      throw new LeaseError('lost', `Lease ${this.name} of ${this.owner} was ${this.lost ? 'lost' : 'released'} and cannot be renewed.`);
    }
    const next = { ...this.record, expiresAt: this.ctx.clock.now().getTime() + ttlMs };
    const outcome = await advance(this.ctx, next, this.gen + 1);
    if (outcome.kind === 'lost') {
      this.lost = true;
      throw new LeaseError('lost', `Lease ${this.name} of ${this.owner} was taken over by ${outcome.winner.record.owner} `
        + `(generation ${outcome.winner.generation}); stop writing under it.`, info(outcome.winner.record, outcome.winner.generation));
    }
    this.record = next;
    this.gen += 1;
  }

  async release(): Promise<void> {
    if (this.lost || this.record.released) return;
    const next = { ...this.record, released: true };
    const outcome = await advance(this.ctx, next, this.gen + 1);
    if (outcome.kind === 'lost') this.lost = true;
    else this.gen += 1;
    this.record = next;
  }
}

interface Link {
  readonly generation: number;
  readonly record: LeaseRecord;
}

type Outcome = { kind: 'won' } | { kind: 'lost'; winner: Link };

/** advance writes record as `generation` with ifAbsent, checks nothing newer exists, and prunes older records. */
async function advance(ctx: Ctx, record: LeaseRecord, generation: number): Promise<Outcome> {
  const key = leaseKey(record.name, generation);
  try {
    await ctx.backend.put(key, encode(record), { ifAbsent: true });
  } catch (err) {
    if (!ctx.backend.isConflict(err)) throw err;
    const there = await readRecord(ctx.backend, key);
    // A retried put whose first try landed meets its own record: that is a win, not a conflict.
    if (there?.token !== record.token) {
      const winner = there ? { generation, record: there } : (await readChain(ctx.backend, record.name)).at(-1);
      return { kind: 'lost', winner: winner ?? { generation, record } };
    }
  }
  const chain = await readChain(ctx.backend, record.name);
  const head = chain.at(-1);
  if (head && head.generation > generation) {
    await ctx.backend.remove(key);
    return { kind: 'lost', winner: head };
  }
  for (const l of chain) if (l.generation < generation) await ctx.backend.remove(leaseKey(record.name, l.generation));
  return { kind: 'won' };
}

async function readChain(backend: BankBackend, name: string): Promise<Link[]> {
  const links: Link[] = [];
  for await (const obj of backend.list(leasePrefix(name))) {
    const parsed = parseLeaseKey(obj.key);
    if (!parsed || parsed.name !== name) continue;
    const record = await readRecord(backend, obj.key);
    if (record) links.push({ generation: parsed.generation, record });
  }
  return links;
}

async function readRecord(backend: BankBackend, key: string): Promise<LeaseRecord | undefined> {
  try {
    return decode(await backend.get(key), key);
  } catch (err) {
    // Pruned between list and get: a newer generation exists and is what counts.
    if (backend.isNotFound(err)) return undefined;
    throw err;
  }
}

function isFree(ctx: Ctx, r: LeaseRecord): boolean {
  return r.released || r.expiresAt + ctx.skewMs <= ctx.clock.now().getTime();
}

function heldError(head: Link, what: string): LeaseError {
  const r = head.record;
  return new LeaseError('held', `Lease ${r.name} ${what} by ${r.owner} until ${new Date(r.expiresAt).toISOString()}.`, info(r, head.generation));
}

function info(r: LeaseRecord, generation: number): LeaseInfo {
  return {
    name: r.name, owner: r.owner, generation, acquiredAt: new Date(r.acquiredAt), expiresAt: new Date(r.expiresAt), released: r.released,
  };
}

function encode(r: LeaseRecord): Uint8Array {
  return Buffer.from(JSON.stringify(r), 'utf8');
}

function decode(bytes: Uint8Array, key: string): LeaseRecord {
  let r: Partial<LeaseRecord> = {};
  try {
    r = (JSON.parse(Buffer.from(bytes).toString('utf8')) ?? {}) as Partial<LeaseRecord>;
  } catch {
    // fall through to the version check, which reports the record as damaged
  }
  if (r.v !== 1 || typeof r.owner !== 'string' || typeof r.token !== 'string' || typeof r.expiresAt !== 'number') {
    throw new BankError('permanent', `Lease record ${key} is not a version 1 lease.`);
  }
  return r as LeaseRecord;
}
