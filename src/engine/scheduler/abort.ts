/**
 * Cancellation for many short calls under a few long-lived signals. Node's AbortSignal is costly to
 * create and to listen on (it is an EventTarget), and a 10,000-resource plan makes 40,000 hook calls,
 * each linked to the run's signals; so a parent signal gets one listener that fans out to a set of
 * callbacks, and a call's own AbortSignal is only made if its hook reads it.
 */

type OnAbort = (reason: unknown) => void;

const fanouts = new WeakMap<AbortSignal, Set<OnAbort>>();

/**
 * onAbort calls `cb` once with the parent's reason when `parent` aborts, unless the returned unlink ran
 * first. The caller checks `parent.aborted` itself: a parent that already aborted never calls back.
 */
export function onAbort(parent: AbortSignal, cb: OnAbort): () => void {
  let set = fanouts.get(parent);
  if (!set) {
    const callbacks = new Set<OnAbort>();
    parent.addEventListener('abort', () => {
      const all = [...callbacks];
      callbacks.clear();
      for (const f of all) f(parent.reason);
    }, { once: true });
    fanouts.set(parent, callbacks);
    set = callbacks;
  }
  const mine = set;
  mine.add(cb);
  return () => void mine.delete(cb);
}

/** CallScope is one call's cancellation: `signal` is created on first read, already aborted if the call was. */
export class CallScope {
  private controller: AbortController | undefined;
  private reason: unknown;
  private stopped = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** abort aborts the signal (now, or when it is first read); only the first reason counts. */
  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
