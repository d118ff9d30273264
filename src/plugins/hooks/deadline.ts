/**
 * Deadline joins a hook's own timeout and the caller's cancellation into one AbortSignal, and remembers
 * which of the two fired so the error can say "timed out after 30 s" or "cancelled" truthfully.
 */
import { HookError } from './errors.js';
import type { HookRunResult } from './output.js';

export interface Deadline {
  readonly signal: AbortSignal;
  /** error is the HookError for whichever stop fired; call it only once `signal.aborted`. */
  error(label: string, result?: HookRunResult): HookError;
  dispose(): void;
}

/** deadline starts the clock now; dispose() it when the hook is done so the timer never outlives it. */
export function deadline(timeoutSeconds: number, parent?: AbortSignal): Deadline {
  const ctl = new AbortController();
  let cause: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled') => { cause ??= why; ctl.abort(); };
  const timer = setTimeout(() => stop('timeout'), Math.round(timeoutSeconds * 1000));
  const onParent = () => stop('cancelled');
  if (parent?.aborted) stop('cancelled');
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctl.signal,
    error: (label, result) => (cause === 'timeout'
      ? new HookError('hook_timeout', `${label} did not finish within its timeout of ${timeoutSeconds} s and was stopped; raise timeoutSeconds if it needs longer, or find out why it hangs.`, { result })
      : new HookError('hook_cancelled', `${label} was stopped because the operation was cancelled.`, { result })),
    dispose: () => { clearTimeout(timer); parent?.removeEventListener('abort', onParent); },
  };
}

/** onAbort runs `fn` once when `signal` aborts (now, if it already has) and returns the unsubscribe. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) { fn(); return () => {}; }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}
