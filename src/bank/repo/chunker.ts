import { createHash } from 'node:crypto';
import type { ChunkerParams } from './format.js';

/**
 * gearTable derives FastCDC's 256 random 32-bit gear values from a seed (SHA-256 in counter mode), so a
 * repository always cuts the same data at the same places and different repositories cut differently.
 */
export function gearTable(seed: string): Int32Array {
  const table = new Int32Array(256);
  for (let block = 0; block < 32; block++) {
    const digest = createHash('sha256').update(`hoard-gear:${seed}:${block}`).digest();
    for (let j = 0; j < 8; j++) table[block * 8 + j] = digest.readInt32LE(j * 4);
  }
  return table;
}

// The gear hash shifts left once per byte, so its high bits summarise the last 32 bytes; masks that
// test high bits therefore look at a 32-byte window, as FastCDC intends.
function topBits(n: number): number {
  return n >= 32 ? -1 : ((2 ** n - 1) * 2 ** (32 - n)) | 0;
}

const SCAN = { hash: 0 };

// The hot loop lives in a plain function over typed arrays: V8 optimises it far better than the same
// loop inside a method that touches `this` (measured: about 4x on Node 20).
function findCut(buf: Uint8Array, gear: Int32Array, from: number, to: number, mask: number, h0: number, out: { hash: number }): number {
  let h = h0;
  for (let i = from; i < to; i++) {
    h = ((h << 1) + gear[buf[i]!]!) | 0;
    if ((h & mask) === 0) return i;
  }
  out.hash = h;
  return -1;
}

/**
 * CutFinder finds FastCDC cut points in a buffer that the caller owns, so chunks can be views of a
 * file read in large segments instead of copies (the worker-side path). It gives exactly Chunker's
 * cuts: the gear hash restarts at each chunk's `min`, so scanning from there needs no carried state.
 */
export class CutFinder {
  private readonly gear: Int32Array;
  private readonly maskS: number;
  private readonly maskL: number;

  constructor(readonly params: ChunkerParams) {
    if (!(params.min > 0 && params.min <= params.avg && params.avg <= params.max)) throw new Error('Chunker needs 0 < min <= avg <= max.');
    this.gear = gearTable(params.seed);
    const bits = Math.round(Math.log2(params.avg - params.min || 1));
    this.maskS = topBits(bits + 2);
    this.maskL = topBits(Math.max(1, bits - 2));
  }

  /**
   * next returns the length of the chunk starting at `start` in buf[start, end), or 0 when more data
   * is needed to decide (never when `final`, unless the range is empty). A caller that gets 0 must
   * come back with at least `max` bytes or the final ones.
   */
  next(buf: Uint8Array, start: number, end: number, final: boolean): number {
    const { min, avg, max } = this.params;
    const len = end - start;
    if (len <= min) return final ? len : 0;
    const found = findCut(buf, this.gear, start + min, start + Math.min(avg, len), this.maskS, 0, SCAN);
    const cut = found >= 0 ? found : findCut(buf, this.gear, start + Math.min(avg, len), start + Math.min(max, len), this.maskL, SCAN.hash, SCAN);
    if (cut >= 0) return cut + 1 - start;
    if (len >= max) return max;
    return final ? len : 0;
  }
}

/**
 * Chunker splits a byte stream into content-defined chunks with normalized FastCDC (level 2): no cut
 * before `min`, a harder mask before `avg` and an easier one after, a forced cut at `max`. Cut points
 * depend only on content, so an insertion moves the boundaries near it and no others. It is a
 * synchronous state machine owned by one caller; it keeps at most `max` bytes buffered.
 */
export class Chunker {
  private readonly gear: Int32Array;
  private readonly maskS: number;
  private readonly maskL: number;
  private readonly buf: Buffer;
  private len = 0;
  private pos = 0;
  private hash = 0;

  constructor(private readonly params: ChunkerParams) {
    if (!(params.min > 0 && params.min <= params.avg && params.avg <= params.max)) throw new Error('Chunker needs 0 < min <= avg <= max.');
    this.gear = gearTable(params.seed);
    const bits = Math.round(Math.log2(params.avg - params.min || 1));
    this.maskS = topBits(bits + 2);
    this.maskL = topBits(Math.max(1, bits - 2));
    this.buf = Buffer.allocUnsafeSlow(params.max);
  }

  /** push feeds bytes and returns the chunks completed by them, in order; each chunk owns its memory. */
  push(data: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.buf.length - this.len, data.length - off);
      this.buf.set(data.subarray(off, off + n), this.len);
      this.len += n;
      off += n;
      for (let cut = this.scan(false); cut > 0; cut = this.scan(false)) out.push(this.take(cut));
    }
    return out;
  }

  /** finish returns the chunks left at the end of the stream (none for an empty stream) and resets. */
  finish(): Buffer[] {
    const out: Buffer[] = [];
    for (let cut = this.scan(true); cut > 0; cut = this.scan(true)) out.push(this.take(cut));
    return out;
  }

  // scan returns the length of the next chunk, or 0 when more input is needed to decide.
  private scan(final: boolean): number {
    const { min, avg, max } = this.params;
    const len = this.len;
    if (len === 0) return 0;
    if (len <= min) return final ? len : 0;
    const from = Math.max(this.pos, min);
    const found = findCut(this.buf, this.gear, from, Math.min(avg, len), this.maskS, this.hash, SCAN);
    const cut = found >= 0 ? found : findCut(this.buf, this.gear, Math.max(from, Math.min(avg, len)), Math.min(max, len), this.maskL, SCAN.hash, SCAN);
    if (cut >= 0) return this.cut(cut + 1);
    if (len >= max) return this.cut(max);
    this.pos = len;
    this.hash = SCAN.hash;
    return final ? this.cut(len) : 0;
  }

  private cut(n: number): number {
    this.pos = 0;
    this.hash = 0;
    return n;
  }

  private take(n: number): Buffer {
    const chunk = Buffer.allocUnsafeSlow(n);
    this.buf.copy(chunk, 0, 0, n);
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    return chunk;
  }
}
