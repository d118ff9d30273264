/**
 * `--watch` for `checkpoint show` and `restore show`: polls the object until its status is final and
 * draws the engine's progress as a bar with counts, throughput and ETA. Throughput is measured here,
 * from the change in bytes done between polls, so it is what the caller actually sees move; the ETA is
 * only shown when the total is known. On a terminal the line is redrawn in place; otherwise (logs, CI)
 * a line is printed whenever something changed.
 */
const BAR = 24;

export interface WatchedProgress {
  readonly status?: string;
  readonly overall?: {
    readonly resources_done?: number; readonly resources_total?: number; readonly hooks_done?: number; readonly hooks_total?: number;
    readonly items_done?: number; readonly items_total?: number; readonly bytes_done?: number; readonly bytes_total?: number;
  };
}

/** Sample is one poll's bytes done and when it was seen, for the throughput estimate. */
export interface Sample { readonly at: number; readonly bytes: number }

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * fraction is how far the work is: bytes when a byte total is known, else hooks (always known before
 * work starts, so a resource that reports nothing still moves the bar honestly).
 */
export function fraction(p: WatchedProgress['overall']): number | undefined {
  if (!p) return undefined;
  if (p.bytes_total && p.bytes_total > 0) return Math.min(1, (p.bytes_done ?? 0) / p.bytes_total);
  if (p.hooks_total && p.hooks_total > 0) return Math.min(1, (p.hooks_done ?? 0) / p.hooks_total);
  return undefined;
}

/** rate is bytes per second over the samples (oldest to newest), or undefined before two samples. */
export function rate(samples: readonly Sample[]): number | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last.at <= first.at) return undefined;
  return Math.max(0, (last.bytes - first.bytes) / ((last.at - first.at) / 1000));
}

/** progressLine is one line: status, bar, percent, bytes, items, resources, throughput, ETA. */
export function progressLine(status: string, p: WatchedProgress['overall'], bytesPerSecond: number | undefined): string {
  const parts = [status.padEnd(11)];
  const f = fraction(p);
  if (f !== undefined) {
    const filled = Math.round(f * BAR);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`);
  }
  if (p) {
    const done = p.bytes_done ?? 0;
    parts.push(p.bytes_total ? `${formatBytes(done)} / ${formatBytes(p.bytes_total)}` : formatBytes(done));
    if (p.items_done !== undefined || p.items_total !== undefined) parts.push(`${p.items_done ?? 0}${p.items_total ? `/${p.items_total}` : ''} items`);
    if (p.resources_total !== undefined) parts.push(`${p.resources_done ?? 0}/${p.resources_total} resources`);
    if (bytesPerSecond !== undefined) {
      parts.push(`${formatBytes(Math.round(bytesPerSecond))}/s`);
      if (p.bytes_total && bytesPerSecond > 0 && done < p.bytes_total) parts.push(`ETA ${formatSeconds((p.bytes_total - done) / bytesPerSecond)}`);
    }
  }
  return parts.join('  ');
}

/** WatchFlags are the options `--watch` adds to a show command. */
export interface WatchFlags { watch?: boolean; interval: string }

/** intervalMs reads --interval (seconds, at least 0.1). */
export function intervalMs(seconds: string): number {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n < 0.1) throw new Error(`--interval ${seconds}: expected a number of seconds ≥ 0.1`);
  return Math.round(n * 1000);
}

export interface WatchOptions {
  /** read fetches the object and answers its status and progress field. */
  readonly read: () => Promise<{ status: string; progress?: WatchedProgress }>;
  readonly final: readonly string[];
  readonly intervalMs: number;
  readonly out?: NodeJS.WriteStream;
}

/** watch polls until a final status, drawing progress; it answers the final status. */
export async function watch(o: WatchOptions): Promise<string> {
  const out = o.out ?? process.stderr;
  const tty = out.isTTY === true;
  const samples: Sample[] = [];
  let last = '';
  for (;;) {
    const { status, progress } = await o.read();
    samples.push({ at: Date.now(), bytes: progress?.overall?.bytes_done ?? 0 });
    // Ten seconds of samples: recent enough to follow changes, long enough to smooth polling jitter.
    while (samples.length > 2 && samples[0]!.at < Date.now() - 10_000) samples.shift();
    const line = progressLine(status, progress?.overall, rate(samples));
    if (tty) out.write(`\r\x1b[K${line}`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
    if (o.final.includes(status)) {
      if (tty) out.write('\n');
      return status;
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}
