/**
 * One call of one hook: bounded by the per-hook timeout, cancelled with the run, and classified. The
 * classification is the whole retry contract: RetryLater → retry with backoff, anything else → the
 * resource fails with the error's message as its reason.
 */
import { RetryLater, Unrecoverable, type HookName, type HookResult, type ResourceOperation } from '../../plugins/sdk/index.js';
import { recordNewResources } from '../journal/index.js';
import { CallScope, onAbort } from '../scheduler/index.js';
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
  try {
    const result = await withTimeout((s) => op[hook]!.call(op, hookContext(run, key, hook, s, call)), run.deps.options.hookTimeoutMs, signal, run.cancel.signal);
    if (call.writes.length > 0) await Promise.all(call.writes);
    await persistNewResources(run);
    return { kind: 'done', result };
  } catch (err) {
    await Promise.allSettled(call.writes);
    if (err instanceof RetryLater) return { kind: 'retry', reason: err.message, afterMs: err.afterMs };
    return { kind: 'failed', reason: messageOf(err) };
  }
}

/** Scope is what a call receives: its signal, made when first read (most hooks never read it). */
export interface Scope { readonly signal: AbortSignal }

/**
 * withTimeout runs `fn` with a scope whose signal aborts when any parent does or after `ms`, and stops
 * waiting then (rejecting with the reason; `fn`'s own late outcome is ignored). A parent already aborted
 * still calls `fn`, with an aborted signal, and rejects at once.
 */
export function withTimeout<T>(fn: (s: Scope) => Promise<T>, ms: number, ...parents: AbortSignal[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const scope = new CallScope();
    const unlinks: (() => void)[] = [];
    let settled = false;
    const end = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      for (const unlink of unlinks) unlink();
      return true;
    };
    const stop = (reason: unknown) => {
      scope.abort(reason);
      if (end()) reject(reason);
    };
    const timer = setTimeout(() => stop(new Unrecoverable(`it did not finish within ${ms} ms (the hook timeout)`)), ms);
    for (const p of parents) {
      if (settled) break;
      if (p.aborted) stop(p.reason);
      else unlinks.push(onAbort(p, stop));
    }
    let result: Promise<T>;
    try {
      result = fn(scope);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then((v) => { if (end()) resolve(v); }, (err: unknown) => { if (end()) reject(err); });
  });
}

async function persistNewResources(run: Run): Promise<void> {
  const added = run.op.newResources.takeAdded();
  if (added) await recordNewResources(run.deps.writer, run.deps.store, run.op.row.id, added);
}

/** messageOf turns anything thrown into a reason a person can read. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    // A plugin error with a stable code (an exec hook's `hook_timeout`, …) keeps it in the reason, so
    // people and scripts reading a checkpoint's or log's error see which failure it was (docs/errors.md).
    const code = (err as { reason?: unknown }).reason;
    const text = err.message || err.name;
    return typeof code === 'string' && /^[a-z][a-z_]*$/.test(code) && !text.startsWith(`${code}:`) ? `${code}: ${text}` : text;
  }
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}
