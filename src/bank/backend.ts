import { randomBytes } from 'node:crypto';
import { HoardError, type ReasonCode } from '../model/errors.js';

/**
 * BankBackend is the object layer every bank stands on: named immutable-by-convention objects with a
 * little metadata, in a flat key space. Backends (fs, s3, swift, mem) only move bytes and classify
 * errors; retrying, limiting and logging are decorators that wrap a backend (see STYLE.md §4).
 *
 * Keys match KEY_RE: `/`-separated segments of [A-Za-z0-9_.@-], no empty, `.` or `..` segment.
 * Metadata follows METADATA_LIMITS, the intersection of what Swift and S3 keep intact.
 */
export const KEY_RE = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9_.@-]+(?:\/[A-Za-z0-9_.@-]+)*$/;

/** PREFIX_RE is what `list` accepts as a prefix: any run of key characters, possibly ending in `/`. */
export const PREFIX_RE = /^[A-Za-z0-9_.@/-]*$/;

/**
 * METADATA_LIMITS bounds metadata so that every backend returns it unchanged: names are lower case
 * (S3 lower-cases, Swift title-cases), values are printable ASCII without edge spaces (HTTP trims them),
 * and the totals fit S3's 2 KiB and Swift's per-value 256 bytes.
 */
export const METADATA_LIMITS = {
  nameRe: /^[a-z0-9][a-z0-9-]{0,63}$/,
  valueRe: /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/,
  maxCount: 32,
  maxTotalBytes: 2048,
} as const;

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BankBackend {
  /** put stores the whole object atomically: readers see the old object or the new one, never a mix.
   * With `ifAbsent` it fails with isConflict when the key exists (used for leases and locks); of several
   * concurrent `ifAbsent` puts of one key exactly one succeeds. */
  put(key: string, data: Uint8Array, opts?: { metadata?: Record<string, string>; ifAbsent?: boolean }): Promise<void>;
  /** get reads an object, or the byte range [offset, offset+length) of it, cut short at the object's end.
   * An offset past the end is an `invalid` BankError. */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  stat(key: string): Promise<ObjectInfo>;
  /** list yields keys under a prefix in ascending byte order, resuming after `after` when given. */
  list(prefix: string, opts?: { after?: string }): AsyncIterable<ObjectInfo>;
  /** remove deletes an object; removing a missing object is not an error. */
  remove(key: string): Promise<void>;
  isNotFound(err: unknown): boolean;
  isConflict(err: unknown): boolean;
  /** isPermanent tells the retry decorator not to try again (bad credentials, bad request). */
  isPermanent(err: unknown): boolean;
}

/** BankErrorKind classifies a bank failure; `transient` is the only kind worth retrying. */
export type BankErrorKind = 'not-found' | 'conflict' | 'invalid' | 'permanent' | 'transient';

const REASON_OF: Record<BankErrorKind, ReasonCode> = {
  'not-found': 'not_found',
  conflict: 'conflict',
  invalid: 'bad_request',
  permanent: 'backend_unavailable',
  transient: 'backend_unavailable',
};

/**
 * BankError is what backends throw once they have classified a failure; `cause` keeps the raw error
 * (errno, HTTP status) for logs. Backends' isNotFound/isConflict/isPermanent accept it from any backend.
 */
export class BankError extends HoardError {
  readonly kind: BankErrorKind;

  constructor(kind: BankErrorKind, message: string, options?: { cause?: unknown }) {
    super(REASON_OF[kind], message, options);
    this.name = 'BankError';
    this.kind = kind;
  }
}

/** bankErrorKind returns the kind of a BankError, or undefined for anything else. */
export function bankErrorKind(err: unknown): BankErrorKind | undefined {
  return err instanceof BankError ? err.kind : undefined;
}

/** checkKey throws an `invalid` BankError unless key matches KEY_RE; every backend calls it first. */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw new BankError('invalid', `Invalid bank key ${JSON.stringify(key)}: use /-separated segments of [A-Za-z0-9_.@-], no . or .. segment.`);
  }
}

/** checkPrefix throws an `invalid` BankError unless prefix matches PREFIX_RE. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new BankError('invalid', `Invalid bank list prefix ${JSON.stringify(prefix)}.`);
  }
}

/** checkMetadata throws an `invalid` BankError unless metadata keeps to METADATA_LIMITS. */
export function checkMetadata(metadata: Record<string, string> | undefined): void {
  if (!metadata) return;
  const entries = Object.entries(metadata);
  let total = 0;
  for (const [name, value] of entries) {
    if (!METADATA_LIMITS.nameRe.test(name) || typeof value !== 'string' || !METADATA_LIMITS.valueRe.test(value)) {
      throw new BankError('invalid', `Invalid bank metadata ${JSON.stringify(name)}: names are [a-z0-9-], values printable ASCII without edge spaces.`);
    }
    total += name.length + value.length;
  }
  if (entries.length > METADATA_LIMITS.maxCount || total > METADATA_LIMITS.maxTotalBytes) {
    throw new BankError('invalid', `Bank metadata too large: at most ${METADATA_LIMITS.maxCount} entries and ${METADATA_LIMITS.maxTotalBytes} bytes.`);
  }
}

/** checkRange throws an `invalid` BankError unless offset and length are non-negative safe integers. */
export function checkRange(range: { offset: number; length: number } | undefined): void {
  if (!range) return;
  if (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0) {
    throw new BankError('invalid', `Invalid byte range offset=${range.offset} length=${range.length}.`);
  }
}

/** rangePastEnd builds the error for a ranged read that starts beyond the object's end. */
export function rangePastEnd(key: string, offset: number, size: number): BankError {
  return new BankError('invalid', `Range offset ${offset} is past the end of ${key} (${size} bytes).`);
}

/** notFoundError builds the classified error for a missing object. */
export function notFoundError(key: string, cause?: unknown): BankError {
  return new BankError('not-found', `Bank object ${key} does not exist.`, { cause });
}

/** conflictError builds the classified error for an `ifAbsent` put that lost to an existing object. */
export function conflictError(key: string, cause?: unknown): BankError {
  return new BankError('conflict', `Bank object ${key} already exists.`, { cause });
}

/**
 * statInOrder turns a stream of listed keys into ObjectInfo in the same order, running up to
 * `concurrency` stats ahead, for stores whose listings carry no metadata (S3, Swift). Keys that vanish
 * between listing and stat are skipped, as if listed a moment later; other errors end the stream.
 */
export async function* statInOrder(
  keys: AsyncIterable<string>, stat: (key: string) => Promise<ObjectInfo>, isNotFound: (err: unknown) => boolean, concurrency = 8,
): AsyncGenerator<ObjectInfo> {
  const ahead: Promise<ObjectInfo | undefined>[] = [];
  const settle = (key: string) => stat(key).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  // Unawaited rejections in the window are re-thrown when their turn comes; silence the early warning.
  const track = (p: Promise<ObjectInfo | undefined>) => { p.catch(() => undefined); ahead.push(p); };
  for await (const key of keys) {
    track(settle(key));
    if (ahead.length >= concurrency) {
      const info = await ahead.shift();
      if (info) yield info;
    }
  }
  while (ahead.length > 0) {
    const info = await ahead.shift();
    if (info) yield info;
  }
}

/*
 * ifAbsent by intents, for stores whose own conditional write is missing or not exclusive: Swift's
 * s3api answers `If-None-Match: *` on PUT with 501, and Swift's native `If-None-Match: *` is checked
 * before the upload, so two concurrent PUTs both pass it (the conformance suite's race test shows it).
 * Each contender:
 *   1. fails with a conflict if the key exists (HEAD);
 *   2. writes a uniquely named intent object beside the bank (`<prefix>~ifabsent/<key>/<ms>-<random>`,
 *      outside the key alphabet, so list() never yields it);
 *   3. lists the intents for the key: if any other fresh intent exists it withdraws its own and tries
 *      again after a random pause, so simultaneous contenders do not livelock;
 *   4. alone, it checks the key once more, writes the object, and only then deletes its intent.
 * Two contenders cannot both be alone in step 3, because each wrote its intent before listing; a late
 * contender that finds the winner's intent already gone finds the object in step 4. This needs
 * read-after-write consistent listings (AWS S3; a single-replica Swift, as in the tests), and assumes a
 * contender never stalls longer than INTENT_TTL_MS between steps 3 and 4, after which its intent is
 * considered abandoned by a crash. With exhausted attempts it fails with a transient error, not a
 * conflict, because the key is still absent.
 */
/** INTENT_TTL_MS is how old an intent must be to count as abandoned by a crashed contender. */
export const INTENT_TTL_MS = 5 * 60_000;
const INTENT_ATTEMPTS = 12;

/** IntentStore is the little of a store the intent protocol needs: `exists` takes a bank key, the
 * marker methods take raw object names (prefix included). */
export interface IntentStore {
  exists(key: string): Promise<boolean>;
  putMarker(name: string): Promise<void>;
  deleteMarker(name: string): Promise<void>;
  listMarkers(prefix: string): Promise<string[]>;
}

/**
 * putIfAbsentByIntent runs `write` only if it is the single contender for key and key is absent; else it
 * throws a `conflict` BankError (or a `transient` one when contention outlasts its attempts).
 */
export async function putIfAbsentByIntent(store: IntentStore, intentPrefix: string, key: string, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; attempt <= INTENT_ATTEMPTS; attempt++) {
    if (await store.exists(key)) throw conflictError(key);
    const mine = `${intentPrefix}${String(Date.now()).padStart(13, '0')}-${randomBytes(8).toString('hex')}`;
    await store.putMarker(mine);
    let wrote = false;
    try {
      const alone = (await store.listMarkers(intentPrefix)).every((m) => m === mine || isStaleIntent(m.slice(intentPrefix.length)));
      if (alone) {
        if (await store.exists(key)) throw conflictError(key);
        await write();
        wrote = true;
        return;
      }
    } finally {
      // Once the object exists, a leftover intent blocks nobody (step 1 sees the object), so a failed
      // cleanup must not turn a successful write into an error.
      await store.deleteMarker(mine).catch((err: unknown) => { if (!wrote) throw err; });
    }
    // Exponential, jittered back-off: contenders that collided spread out until one runs alone.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(3_000, 25 * 2 ** attempt)));
  }
  throw new BankError('transient', `Too many concurrent writers for ${key}; try again.`);
}

function isStaleIntent(leaf: string): boolean {
  const ms = Number(leaf.slice(0, 13));
  return !Number.isFinite(ms) || Date.now() - ms > INTENT_TTL_MS;
}
