import { describe, expect, it } from 'vitest';
import { Chunker, gearTable } from '../../../src/bank/repo/index.js';
import { seeded } from './helpers.js';

const params = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024, seed: 'test-seed' };

function cut(data: Buffer, piece = data.length, p = params): Buffer[] {
  const c = new Chunker(p);
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) out.push(...c.push(data.subarray(at, at + piece)));
  return [...out, ...c.finish()];
}

const sizes = (chunks: Buffer[]) => chunks.map((c) => c.length);

describe('FastCDC chunker', () => {
  const data = seeded(4 * 1024 * 1024, 'chunker');

  it('reassembles to the input and respects min and max', () => {
    const chunks = cut(data);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(params.min);
      expect(c.length).toBeLessThanOrEqual(params.max);
    }
    // The average lands near avg: a broken mask would give all-min or all-max chunks.
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(params.avg * 0.6);
    expect(mean).toBeLessThan(params.avg * 1.6);
  });

  it('cuts at max on data without any cut point (zeros)', () => {
    const chunks = cut(Buffer.alloc(1024 * 1024));
    // Zeros make the gear hash constant, so either every chunk cuts at one spot or at max; both are bounded.
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(params.max);
    expect(Buffer.concat(chunks).length).toBe(1024 * 1024);
  });

  it('gives the same cuts however the input is split into pushes', () => {
    const whole = sizes(cut(data));
    expect(sizes(cut(data, 1000))).toEqual(whole);
    expect(sizes(cut(data, 77_777))).toEqual(whole);
  });

  it('keeps later boundaries after an insertion near the start', () => {
    const before = cut(data);
    const edited = Buffer.concat([data.subarray(0, 1000), Buffer.from('a few inserted bytes'), data.subarray(1000)]);
    const after = cut(edited);
    const ids = (cs: Buffer[]) => new Set(cs.map((c) => c.toString('base64').slice(0, 40) + c.length));
    const old = ids(before);
    const changed = [...ids(after)].filter((k) => !old.has(k));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
    expect(after.length - changed.length).toBeGreaterThan(before.length - 4);
  });

  it('depends on the seed, and a seed always gives the same table', () => {
    expect(gearTable('a')).toEqual(gearTable('a'));
    expect(gearTable('a')).not.toEqual(gearTable('b'));
    expect(sizes(cut(data, data.length, { ...params, seed: 'other' }))).not.toEqual(sizes(cut(data)));
  });

  it('returns nothing for an empty stream and one chunk for a short one', () => {
    expect(cut(Buffer.alloc(0))).toEqual([]);
    expect(sizes(cut(Buffer.from('short')))).toEqual([5]);
  });
});
