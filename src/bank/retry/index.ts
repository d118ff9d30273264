import type { BankBackend, ObjectInfo } from '../backend.js';

/** RetryOptions tunes retry; every field has a default suited to an object store over a LAN. */
export interface RetryOptions {
  /** attempts is the total number of tries per call, the first included (default 5). */
  readonly attempts?: number;
  /** baseMs is the backoff ceiling before the first retry; it doubles each time (default 100). */
  readonly baseMs?: number;
  /** maxMs caps the backoff ceiling (default 10 000). */
  readonly maxMs?: number;
  /** sleep waits; injected by tests that must not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** random returns a number in [0, 1) for the jitter. */
  readonly random?: () => number;
  /** onRetry hears of each failure that will be retried, e.g. to log it (never pass credentials along). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

interface Policy {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly onRetry: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * retry wraps a backend so that transient failures are tried again with exponential backoff and full
 * jitter (a random delay up to min(maxMs, baseMs·2^n)). Errors the backend classifies as permanent,
 * not-found or conflict are thrown at once; after the last attempt the last error is thrown unchanged.
 * A listing that fails midway resumes after the last key it yielded, so nothing is yielded twice.
 *
 * Caveat for `ifAbsent`: when a put succeeded but its answer was lost, the retry meets the object it
 * wrote itself and reports a conflict; callers that need to know (leases) must check what is stored.
 * Safe for concurrent use if the wrapped backend is.
 */
export function retry(backend: BankBackend, opts: RetryOptions = {}): BankBackend {
  const policy: Policy = {
    attempts: Math.max(1, opts.attempts ?? 5),
    baseMs: opts.baseMs ?? 100,
    maxMs: opts.maxMs ?? 10_000,
    sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: opts.random ?? Math.random,
    onRetry: opts.onRetry ?? (() => undefined),
  };
  const run = <T>(op: () => Promise<T>) => withRetry(backend, policy, op);
  return {
    put: (key, data, o) => run(() => backend.put(key, data, o)),
    get: (key, range) => run(() => backend.get(key, range)),
    stat: (key) => run(() => backend.stat(key)),
    list: (prefix, o) => retryList(backend, policy, prefix, o?.after),
    remove: (key) => run(() => backend.remove(key)),
    isNotFound: (err) => backend.isNotFound(err),
    isConflict: (err) => backend.isConflict(err),
    isPermanent: (err) => backend.isPermanent(err),
  };
}

/** isRetryable tells whether backend's classification leaves err worth another try. */
export function isRetryable(backend: BankBackend, err: unknown): boolean {
  return !backend.isPermanent(err) && !backend.isNotFound(err) && !backend.isConflict(err);
}

async function withRetry<T>(backend: BankBackend, p: Policy, op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= p.attempts || !isRetryable(backend, err)) throw err;
      await backoff(p, err, attempt);
    }
  }
}

async function backoff(p: Policy, err: unknown, attempt: number): Promise<void> {
  const ceiling = Math.min(p.maxMs, p.baseMs * 2 ** (attempt - 1));
  const delay = Math.floor(p.random() * ceiling);
  p.onRetry(err, attempt, delay);
  await p.sleep(delay);
}

async function* retryList(backend: BankBackend, p: Policy, prefix: string, after: string | undefined): AsyncGenerator<ObjectInfo> {
  let last = after;
  // Failures count against one budget per uninterrupted stretch: progress resets it.
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const info of backend.list(prefix, last === undefined ? {} : { after: last })) {
        last = info.key;
        attempt = 1;
        yield info;
      }
      return;
    } catch (err) {
      if (attempt >= p.attempts || !isRetryable(backend, err)) throw err;
      await backoff(p, err, attempt);
    }
  }
}
