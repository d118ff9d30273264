/**
 * withHooks is the closure form of beginHooks/end for callers that hold the whole operation in one
 * function: pre hooks, then `main`, then post hooks exactly once, whatever happened in between.
 */
import { beginHooks, type HookOptions, type HookReport } from './scope.js';
import type { HookSpec } from './schema.js';

/**
 * withHooks resolves with main's value and every hook's report. It rejects with a pre hook's HookError
 * (main not run, post hooks run), with main's own error unchanged (post hooks run; their failures are in
 * the reports passed to onReport), or with a post hook's HookError after main succeeded.
 */
export async function withHooks<T>(
  spec: HookSpec,
  opts: HookOptions,
  main: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<{ readonly value: T; readonly reports: readonly HookReport[] }> {
  const scope = await beginHooks(spec, opts);
  let value: T;
  try {
    value = await main(opts.signal);
  } catch (err) {
    await scope.end('failure');
    throw err;
  }
  const post = await scope.end('success');
  if (post.failure) throw post.failure;
  return { value, reports: [...scope.pre.reports, ...post.reports] };
}
