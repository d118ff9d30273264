/** The claim table and plan slots on both engines: the insert that lands wins, a lease expires. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { abandonStaleClaims, acquirePlanSlots, claimRuns, finishRun, lastDueAt, releasePlanSlots, type ScheduleRunRecord } from '../../src/store/schedule-runs.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const run = (op: string, dueAt: string, holder: string): ScheduleRunRecord => ({
  scheduledOperationId: op, dueAt, projectId: 'p', planId: `plan-${op}`, fireAt: dueAt, claimedBy: holder, claimedAt: dueAt,
  state: 'claimed', reason: null, checkpointId: null, logId: null, endedAt: null,
});

describe.each(DIALECTS)('schedule runs on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterAll(() => cleanup());

  it('a run is claimed by exactly one of several concurrent claimers', async () => {
    const due = ['2030-01-01T01:00:00.000Z', '2030-01-01T02:00:00.000Z'];
    const claimers = ['a', 'b', 'c', 'd'].map((h) => claimRuns(store.db, ['op1', 'op2', 'op3'].flatMap((op) => due.map((d) => run(op, d, h)))));
    const won = (await Promise.all(claimers)).flat().map((k) => `${k.scheduledOperationId}@${k.dueAt}`);
    expect(won.sort()).toEqual(['op1', 'op2', 'op3'].flatMap((op) => due.map((d) => `${op}@${d}`)).sort());
    expect((await lastDueAt(store.db, ['op1', 'op9'])).get('op1')).toBe(due[1]);
    expect(await finishRun(store.db, { scheduledOperationId: 'op1', dueAt: due[0]! }, { state: 'fired', reason: 'on_time', endedAt: due[0]! })).toBe(true);
    // The first outcome stays.
    expect(await finishRun(store.db, { scheduledOperationId: 'op1', dueAt: due[0]! }, { state: 'failed', reason: 'x', endedAt: due[0]! })).toBe(false);
  });

  it('reports a stale claim as abandoned once', async () => {
    const now = '2030-01-01T03:00:00.000Z';
    const first = await abandonStaleClaims(store.db, '2030-01-01T01:30:00.000Z', now);
    expect(first.map((r) => `${r.scheduledOperationId}@${r.dueAt}`).sort()).toEqual(['op2@2030-01-01T01:00:00.000Z', 'op3@2030-01-01T01:00:00.000Z']);
    expect(await abandonStaleClaims(store.db, '2030-01-01T01:30:00.000Z', now)).toEqual([]);
  });

  it('plan slots go to one holder until released or expired', async () => {
    const t = (m: number) => `2030-01-01T00:0${m}:00.000Z`;
    expect([...await acquirePlanSlots(store.db, ['x', 'y'], 'a', t(0), t(1))].sort()).toEqual(['x', 'y']);
    expect([...await acquirePlanSlots(store.db, ['x', 'z'], 'b', t(0), t(1))]).toEqual(['z']);
    await releasePlanSlots(store.db, ['x'], 'a');
    expect([...await acquirePlanSlots(store.db, ['x'], 'b', t(0), t(1))]).toEqual(['x']);
    // a's slot on y expired at 00:01; another holder takes it over after that, not before.
    expect([...await acquirePlanSlots(store.db, ['y'], 'c', t(0), t(2))]).toEqual([]);
    expect([...await acquirePlanSlots(store.db, ['y'], 'c', t(2), t(3))]).toEqual(['y']);
    await releasePlanSlots(store.db, ['y'], 'a');
    expect([...await acquirePlanSlots(store.db, ['y'], 'd', t(2), t(3))]).toEqual([]);
  });
});
