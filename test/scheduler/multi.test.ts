/**
 * Several schedulers on one PostgreSQL database, each with its own connections (as separate processes
 * would have), ticking at the same fake instants: every due run fires exactly once, none is lost, and
 * when one scheduler stops or dies the other fires everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRuns } from '../../src/store/schedule-runs.js';
import { schedulerLab, type Lab } from './lab.js';

const OPS = 12;
let lab: Lab;
let ops: { id: string; planId: string }[];

beforeAll(async () => {
  lab = await schedulerLab('postgres');
  ops = [];
  for (let i = 0; i < OPS; i++) ops.push(await lab.operation());
}, 60_000);
afterAll(() => lab.close());

const at = (hour: number, minute = 1) => `2030-01-0${1 + Math.floor(hour / 24)}T${String(hour % 24).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

describe('two schedulers on PostgreSQL', () => {
  it('fire every due run once, none twice, none lost; when one stops the other fires all', async () => {
    const a = lab.scheduler(lab.hoard);
    const b = lab.scheduler(await lab.another());
    await Promise.all([a.tick(), b.tick()]);

    for (let hour = 1; hour <= 6; hour++) {
      lab.clock.set(at(hour));
      await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
      await lab.finishCheckpoints();
    }
    await a.stop();
    for (let hour = 7; hour <= 9; hour++) {
      lab.clock.set(at(hour));
      await b.tick();
      await lab.finishCheckpoints();
    }

    for (const op of ops) {
      const runs = await lab.runsOf(op.id);
      expect(runs.map((r) => r.dueAt)).toEqual(Array.from({ length: 9 }, (_, i) => new Date(Date.UTC(2030, 0, 1, i + 1)).toISOString()));
      expect(runs.every((r) => r.state === 'fired' && r.reason === 'on_time')).toBe(true);
      expect(runs.slice(6).every((r) => r.claimedBy === b.holder)).toBe(true);
      const cps = await lab.checkpointsOf(op.planId);
      expect(cps.map((c) => c.extraInfo?.due_at)).toEqual(runs.map((r) => r.dueAt));
      expect(await lab.logsOf(op.id)).toHaveLength(9);
    }
    // Between them they fired exactly every run: what one won the other lost.
    const fired = [...a.events, ...b.events].filter((e) => e.state === 'fired');
    expect(fired).toHaveLength(OPS * 9);
    expect(new Set(fired.map((e) => `${e.operationId}@${e.dueAt.toISOString()}`)).size).toBe(OPS * 9);
  }, 120_000);

  it('a run claimed by a scheduler that died before firing is reported abandoned once, never fired twice', async () => {
    const [dead, ...rest] = ops;
    const dueAt = new Date(Date.UTC(2030, 0, 1, 10)).toISOString();
    lab.clock.set(at(10, 0));
    await claimRuns(lab.hoard.store.db, [{
      scheduledOperationId: dead!.id, dueAt, projectId: 'lab', planId: dead!.planId, fireAt: dueAt, claimedBy: 'gone:1:dead', claimedAt: dueAt,
      state: 'claimed', reason: null, checkpointId: null, logId: null, endedAt: null,
    }]);
    const b = lab.scheduler(await lab.another());
    const c = lab.scheduler(await lab.another());
    lab.clock.set(at(10, 1));
    await Promise.all([b.tick(), c.tick()]);
    for (const op of rest) expect((await lab.runsOf(op.id)).at(-1)).toMatchObject({ dueAt, state: 'fired' });
    expect((await lab.checkpointsOf(dead!.planId)).map((x) => x.extraInfo?.due_at)).not.toContain(dueAt);

    lab.clock.set(at(10, 10));
    await Promise.all([b.tick(), c.tick()]);
    expect((await lab.runsOf(dead!.id)).at(-1)).toMatchObject({ dueAt, state: 'failed', reason: 'abandoned' });
    const abandoned = (await lab.logsOf(dead!.id)).filter((l) => l.extraInfo?.reason === 'abandoned');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]!.errorInfo).toContain('gone:1:dead');
  }, 120_000);
});
