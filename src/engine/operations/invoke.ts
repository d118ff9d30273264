/**
 * One call of one hook: bounded by the per-hook timeout, cancelled with the run, and classified. The
 * classification is the whole retry contract: RetryLater → retry with backoff, anything else → the
 * resource fails with the error's message as its reason.
 */
import { RetryLater, Unrecoverable, type HookName, type HookResult, type ResourceOperation } from '../../plugins/sdk/index.js';
import { recordNewResources } from '../journal/index.js';
import { hookContext, type HookCall } from './context.js';
import type { Run } from './run-state.js';

/** HookOutcome is what one call of a hook came to. */
export type HookOutcome =
  | { readonly kind: 'done'; readonly result: HookResult }
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs: number | undefined }
  | { readonly kind: 'failed'; readonly reason: string };

/** callHook runs `op[hook]` once and journals what it reported (statuses, new resource ids) before returning. */
export async function callHook(run: Run, key: string, hook: HookName, op: ResourceOperation, signal: AbortSignal): Promise<HookOutcome> {
  const call: HookCall = { writes: [], lastProgressAt: 0 };
  const before = new Map(run.op.newResources);
  try {
    const result = await withTimeout((s) => op[hook]!.call(op, hookContext(run, key, hook, s, call)), run.deps.options.hookTimeoutMs, signal, run.cancel.signal);
    await Promise.all(call.writes);
    await persistNewResources(run, before);
    return { kind: 'done', result };
  } catch (err) {
    await Promise.allSettled(call.writes);
    if (err instanceof RetryLater) return { kind: 'retry', reason: err.message, afterMs: err.afterMs };
    return { kind: 'failed', reason: messageOf(err) };
  }
}

/**
 * withTimeout runs `fn` with a signal aborted by any parent or after `ms`, and stops waiting then.
 * Parents are linked by hand and unlinked at the end: AbortSignal.any would keep a dependent per call
 * on the run's long-lived signal (40,000 for a 10,000-resource plan).
 */
export async function withTimeout<T>(fn: (s: AbortSignal) => Promise<T>, ms: number, ...parents: AbortSignal[]): Promise<T> {
  const ac = new AbortController();
  const links = parents.map((p) => {
    const onAbort = () => ac.abort(p.reason);
    if (p.aborted) onAbort();
    else p.addEventListener('abort', onAbort, { once: true });
    return () => p.removeEventListener('abort', onAbort);
  });
  const timer = setTimeout(() => ac.abort(new Unrecoverable(`it did not finish within ${ms} ms (the hook timeout)`)), ms);
  try {
    return await Promise.race([fn(ac.signal), rejected(ac.signal)]);
  } finally {
    clearTimeout(timer);
    links.forEach((unlink) => unlink());
  }
}

function rejected(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function persistNewResources(run: Run, before: ReadonlyMap<string, string>): Promise<void> {
  const added = [...run.op.newResources].filter(([k, v]) => before.get(k) !== v);
  if (added.length > 0) await recordNewResources(run.deps.writer, run.deps.store, run.op.row.id, Object.fromEntries(added));
}

/** messageOf turns anything thrown into a reason a person can read. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}
