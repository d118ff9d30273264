/**
 * The task DAG runner's lanes: at most `laneWindow` tasks of one lane are started and unsettled, a
 * lane at its window never holds back another lane's ready tasks, and a stopped run starts nothing
 * that was still queued.
 */
import { describe, expect, it } from 'vitest';
import { runDag } from '../../src/engine/scheduler/index.js';

/** gate holds every started task until released, and records how many of each lane ran at once. */
function gate(laneOf: (i: number) => string) {
  const open = new Map<number, (ok: boolean) => void>();
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const started: number[] = [];
  return {
    started,
    peak,
    run: (i: number) => new Promise<boolean>((resolve) => {
      const lane = laneOf(i);
      started.push(i);
      running.set(lane, (running.get(lane) ?? 0) + 1);
      peak.set(lane, Math.max(peak.get(lane) ?? 0, running.get(lane)!));
      open.set(i, (ok) => { running.set(lane, running.get(lane)! - 1); resolve(ok); });
    }),
    settle(i: number, ok = true) {
      open.get(i)!(ok);
      open.delete(i);
    },
    held: () => [...open.keys()],
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('runDag lanes', () => {
  it('keeps each lane within its window, and a full lane does not hold back another', async () => {
    // Tasks 0-9 are lane a, 10-11 lane b; none depends on another, so all are ready at once.
    const laneOf = (i: number) => (i < 10 ? 'a' : 'b');
    const g = gate(laneOf);
    const done = runDag({ count: 12, successors: Array.from({ length: 12 }, () => []), done: () => false, run: g.run, policy: 'continue', lane: laneOf, laneWindow: 3, drain: new AbortController().signal });
    await tick();
    expect(g.started).toEqual([0, 1, 2, 10, 11]);
    while (g.held().length > 0) {
      for (const i of g.held()) g.settle(i);
      await tick();
    }
    const outcome = await done;
    expect(outcome).toMatchObject({ failed: [], skipped: [], drained: false });
    expect(g.started.sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect(g.peak.get('a')).toBe(3);
  });

  it('starts no queued task once a failure stops an abort-policy run', async () => {
    const g = gate(() => 'a');
    const done = runDag({ count: 6, successors: Array.from({ length: 6 }, () => []), done: () => false, run: g.run, policy: 'abort', lane: () => 'a', laneWindow: 2, drain: new AbortController().signal });
    await tick();
    g.settle(0, false);
    g.settle(1);
    const outcome = await done;
    expect(outcome.failed).toEqual([0]);
    expect(g.started).toEqual([0, 1]);
  });
});
