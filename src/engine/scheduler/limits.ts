/**
 * Concurrency limits: a counting semaphore, and the pair a hook needs (its plugin's, then the global
 * one). Always taken in that order and released in reverse, so no two hooks can deadlock on them.
 */

/** Semaphore admits at most `size` holders; waiters are served first come, first served. */
export class Semaphore {
  private free: number;
  // A queue with a moving head: every ready task of a large plan may wait here at once, and
  // Array.shift on thousands of waiters copies the array each time.
  private waiters: ((() => void) | undefined)[] = [];
  private head = 0;

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  /** acquire waits for a slot; the returned function releases it exactly once. */
  async acquire(): Promise<() => void> {
    if (!this.tryTake()) await new Promise<void>((r) => this.waiters.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give();
    };
  }

  /** tryTake takes a slot if one is free now (never ahead of a waiter: free slots mean nobody waits). */
  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** give returns a slot taken by tryTake or acquire, handing it to the first waiter if any. */
  give(): void {
    const next = this.waiters[this.head];
    if (!next) {
      this.free++;
      return;
    }
    this.waiters[this.head++] = undefined;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    next();
  }
}

/** Limits hands out slots: global and per plugin (a slow backend cannot starve the others). */
export interface Limits {
  /** withSlot runs `fn` holding one slot of `plugin` and one global slot. */
  withSlot<T>(plugin: string, fn: () => Promise<T>): Promise<T>;
}

/** limits builds Limits with `global` slots in all and at most `perPlugin` per plugin. */
export function limits(global: number, perPlugin: number): Limits {
  const all = new Semaphore(global);
  const byPlugin = new Map<string, Semaphore>();
  return {
    async withSlot(plugin, fn) {
      let s = byPlugin.get(plugin);
      if (!s) byPlugin.set(plugin, (s = new Semaphore(perPlugin)));
      // The common case, both free: no promise per slot (a large plan asks 40,000 times).
      if (s.tryTake()) {
        if (all.tryTake()) {
          try {
            return await fn();
          } finally {
            all.give();
            s.give();
          }
        }
        s.give();
      }
      const releasePlugin = await s.acquire();
      const releaseGlobal = await all.acquire();
      try {
        return await fn();
      } finally {
        releaseGlobal();
        releasePlugin();
      }
    },
  };
}
