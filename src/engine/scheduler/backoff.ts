/** Backoff and abortable sleep, shared by hook retries and polling. */

/** BackoffPolicy: the first delay, the cap, and the multiplier per attempt. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
}

/** backoffMs is the delay before attempt `n` (1 = first retry): initial × factor^(n-1), capped. */
export function backoffMs(p: BackoffPolicy, n: number): number {
  return Math.min(p.maxMs, p.initialMs * (p.factor ?? 2) ** Math.max(0, n - 1));
}

/** sleep waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
