/**
 * What a hook returns, and the bounded buffer its output goes through: a chatty command (a script that
 * dumps a table, `set -x`) must not grow Hoard's memory or the checkpoint's status record without limit.
 */

/** HookRunResult is one hook's outcome; stdout and stderr keep the last `maxOutputBytes` of each. */
export interface HookRunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** truncated is true when stdout or stderr lost their beginning to the bound. */
  readonly truncated: boolean;
  /** warnings are things that went wrong after the work itself, e.g. a guest temp file left behind. */
  readonly warnings?: readonly string[];
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/** TailBuffer keeps the last `limit` bytes written to it; the tail is what explains a failure. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > this.limit * 2) this.compact();
  }

  text(): string {
    this.compact();
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `[${this.dropped} earlier bytes dropped]\n${s}` : s;
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const excess = Math.max(0, all.length - this.limit);
    this.dropped += excess;
    this.chunks = [all.subarray(excess)];
    this.size = all.length - excess;
  }
}

/** tailForMessage gives the end of a command's stderr (or stdout) for an error message, short enough to read. */
export function tailForMessage(stderr: string, stdout: string): string {
  const text = (stderr.trim() || stdout.trim()).split('\n').slice(-5).join('\n');
  if (!text) return '';
  return `: ${text.length > 600 ? `…${text.slice(-600)}` : text}`;
}
