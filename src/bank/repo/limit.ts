/**
 * Budget bounds a quantity (bytes in flight, open files) shared by concurrent tasks. acquire() waits,
 * in FIFO order, until the amount fits; a request larger than the whole budget is let through alone
 * so that one oversized item cannot deadlock. release() must follow every acquire().
 */
export class Budget {
  private used = 0;
  private readonly waiters: { n: number; go: () => void }[] = [];

  constructor(private readonly limit: number) {}

  /** acquire resolves once `n` more units fit in the budget. */
  acquire(n: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(n)) {
      this.used += n;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiters.push({ n, go }));
  }

  /** release returns `n` units and wakes the waiters that now fit. */
  release(n: number): void {
    this.used -= n;
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.n)) {
      const w = this.waiters.shift()!;
      this.used += w.n;
      w.go();
    }
  }

  /** run holds `n` units while `fn` runs. */
  async run<T>(n: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(n);
    try {
      return await fn();
    } finally {
      this.release(n);
    }
  }

  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.limit;
  }
}

/** mapLimit maps items with at most `limit` calls in flight and keeps the input order in its result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
