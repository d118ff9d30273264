/**
 * Concurrency limits: a counting semaphore, and the pair a hook needs (its plugin's, then the global
 * one). Always taken in that order and released in reverse, so no two hooks can deadlock on them.
 */

/** Semaphore admits at most `size` holders; waiters are served first come, first served. */
export class Semaphore {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  /** acquire waits for a slot; the returned function releases it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
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
