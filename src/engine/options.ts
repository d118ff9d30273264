/** EngineOptions: the engine's knobs, with defaults sized for real backends (tests shrink them). */
import type { BackoffPolicy } from './scheduler/index.js';

/** EngineOptions tunes concurrency, timeouts, retries, polling and leases. All times in milliseconds. */
export interface EngineOptions {
  /** At most `global` hooks run at once in a worker, and at most `perPlugin` of one plugin. */
  readonly concurrency: { readonly global: number; readonly perPlugin: number };
  /** A hook call that takes longer fails the resource (its signal is aborted). */
  readonly hookTimeoutMs: number;
  /** How many times a hook that threw RetryLater is tried again. */
  readonly retries: number;
  readonly retryBackoff: BackoffPolicy;
  readonly pollBackoff: BackoffPolicy;
  /** Polling a handle longer than this (counted from the persisted start) fails the resource. */
  readonly pollTimeoutMs: number;
  /** A lease lasts this long; the worker renews it every third of it. */
  readonly leaseMs: number;
  /** How often the worker looks for work (and for expired leases). */
  readonly tickMs: number;
  /** Operations one worker runs at once. */
  readonly maxOperations: number;
  /** A live task's progress is written at most this often. */
  readonly progressEveryMs: number;
}

/** DEFAULT_ENGINE_OPTIONS are the production defaults. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  concurrency: { global: 32, perPlugin: 8 },
  hookTimeoutMs: 6 * 3600_000,
  retries: 5,
  retryBackoff: { initialMs: 1000, maxMs: 60_000 },
  pollBackoff: { initialMs: 1000, maxMs: 30_000 },
  pollTimeoutMs: 24 * 3600_000,
  leaseMs: 30_000,
  tickMs: 500,
  maxOperations: 8,
  progressEveryMs: 1000,
};

/** engineOptions fills unspecified knobs with the defaults. */
export function engineOptions(o: Partial<EngineOptions> = {}): EngineOptions {
  return { ...DEFAULT_ENGINE_OPTIONS, ...o };
}
