/**
 * The scheduler against real services on SQLite under a fake clock: on-time runs, missed runs after
 * downtime (skip / run-once), pause and resume without surprise runs, and the one-run-per-plan rule.
 */
import { retentionStep } from '../../src/roles/scheduler.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOOP_PROVIDER_ID } from '../../src/config/index.js';
import { caller, schedulerLab, type Lab } from './lab.js';

let lab: Lab;
beforeEach(async () => { lab = await schedulerLab('sqlite'); });
afterEach(() => lab.close());

describe('on-time runs', () => {
  it('fires a due run once, through the checkpoint use case, and records it', async () => {
    const op = await lab.operation();
    const s = lab.scheduler();
    await s.tick();
    expect(await lab.checkpointsOf(op.planId)).toEqual([]);
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    await s.tick();
    const cps = await lab.checkpointsOf(op.planId);
    expect(cps).toHaveLength(1);
    expect(cps[0]!.extraInfo).toEqual({ created_by: 'scheduled_operation', scheduled_operation_id: op.id, trigger_id: op.triggerId, due_at: '2030-01-01T01:00:00.000Z' });
    const logs = await lab.logsOf(op.id);
    expect(logs.map((l) => [l.status, l.extraInfo?.reason, l.checkpointId])).toEqual([['success', 'on_time', cps[0]!.id]]);
    expect((await lab.runsOf(op.id)).map((r) => [r.dueAt, r.state, r.reason])).toEqual([['2030-01-01T01:00:00.000Z', 'fired', 'on_time']]);
  });

  it('waits for the operation\'s jitter, which stays inside the window', async () => {
    const op = await lab.operation();
    const s = lab.scheduler();
    await s.tick();
    lab.clock.set('2030-01-01T01:00:00Z');
    await s.tick();
    const jitter = s.events.length === 0 ? undefined : s.events[0]!.fireAt.getTime() - s.events[0]!.dueAt.getTime();
    // Either the jitter is zero (fired at once) or nothing fired before it.
    if (jitter === undefined) expect(await lab.checkpointsOf(op.planId)).toEqual([]);
    lab.clock.set('2030-01-01T01:00:31Z');
    await s.tick();
    expect(s.events).toHaveLength(1);
    const e = s.events[0]!;
    expect(e.fireAt.getTime() - e.dueAt.getTime()).toBeLessThanOrEqual(30_000);
    expect(e.endedAt.getTime()).toBeGreaterThanOrEqual(e.fireAt.getTime());
  });
});

describe('missed runs', () => {
  it('after downtime, skip fires nothing and run-once fires exactly one; both are logged', async () => {
    const skip = await lab.operation({ misfire: 'skip' });
    const once = await lab.operation({ misfire: 'run-once' });
    const before = lab.scheduler();
    await before.tick();
    await before.stop();

    // Down from 00:00:30 to 05:30: the runs due 01:00 … 05:00 all closed their 15-minute windows.
    lab.clock.set('2030-01-01T05:30:00Z');
    const after = lab.scheduler();
    await after.tick();
    await after.tick();

    expect(await lab.checkpointsOf(skip.planId)).toEqual([]);
    const skipLogs = await lab.logsOf(skip.id);
    expect(skipLogs.map((l) => [l.status, l.extraInfo?.reason, l.extraInfo?.missed, l.extraInfo?.due_at])).toEqual([['skipped', 'misfire_skip', 5, '2030-01-01T05:00:00.000Z']]);
    expect(skipLogs[0]!.errorInfo).toContain('5 occurrence(s)');

    const cps = await lab.checkpointsOf(once.planId);
    expect(cps).toHaveLength(1);
    expect(cps[0]!.extraInfo).toMatchObject({ due_at: '2030-01-01T05:00:00.000Z', misfire: 'run-once' });
    expect((await lab.logsOf(once.id)).map((l) => [l.status, l.extraInfo?.reason, l.extraInfo?.missed])).toEqual([['success', 'misfire_run_once', 5]]);

    // Back on schedule: the next due time fires normally for both.
    await lab.finishCheckpoints();
    lab.clock.set('2030-01-01T06:01:00Z');
    await after.tick();
    expect(await lab.checkpointsOf(skip.planId)).toHaveLength(1);
    expect(await lab.checkpointsOf(once.planId)).toHaveLength(2);
  });

  it('a run still inside its window after downtime fires late, once, whatever the policy', async () => {
    const skip = await lab.operation({ misfire: 'skip' });
    await lab.scheduler().tick();
    lab.clock.set('2030-01-01T03:10:00Z');
    await lab.scheduler().tick();
    expect(await lab.checkpointsOf(skip.planId)).toHaveLength(1);
    expect((await lab.logsOf(skip.id)).map((l) => [l.status, l.extraInfo?.reason, l.extraInfo?.missed])).toEqual([['success', 'late', 2]]);
  });

  it('a new scheduler continues from the claimed runs, not from the operation\'s creation', async () => {
    const op = await lab.operation();
    const a = lab.scheduler();
    for (const t of ['01:01', '02:01', '03:01']) {
      lab.clock.set(`2030-01-01T${t}:00Z`);
      await a.tick();
      await lab.finishCheckpoints();
    }
    const b = lab.scheduler();
    await b.tick();
    expect(await lab.checkpointsOf(op.planId)).toHaveLength(3);
    expect((await lab.logsOf(op.id)).every((l) => l.extraInfo?.reason === 'on_time')).toBe(true);
  });
});

describe('pause and resume', () => {
  it('a suspended plan fires nothing, and resuming counts from the resume: no catch-up run', async () => {
    const op = await lab.operation({ misfire: 'run-once' });
    const s = lab.scheduler();
    await s.tick();
    lab.clock.set('2030-01-01T01:30:00Z');
    await lab.hoard.services.plans.update(caller, op.planId, { status: 'suspended' });
    for (const t of ['02:01', '03:01']) {
      lab.clock.set(`2030-01-01T${t}:00Z`);
      await s.tick();
    }
    lab.clock.set('2030-01-01T04:05:00Z');
    await lab.hoard.services.plans.update(caller, op.planId, { status: 'started' });
    // 04:00 is still inside its window, but it fell due while the plan was suspended.
    await s.tick();
    await lab.scheduler().tick();
    expect(await lab.checkpointsOf(op.planId)).toEqual([]);
    expect(await lab.logsOf(op.id)).toEqual([]);
    lab.clock.set('2030-01-01T05:01:00Z');
    await s.tick();
    expect((await lab.checkpointsOf(op.planId)).map((c) => c.extraInfo?.due_at)).toEqual(['2030-01-01T05:00:00.000Z']);
  });

  it('disabling and re-enabling an operation does not cause a catch-up run', async () => {
    const op = await lab.operation({ misfire: 'run-once' });
    const s = lab.scheduler();
    await s.tick();
        await lab.hoard.services.scheduledOperations.setEnabled(caller, op.id, false);
    lab.clock.set('2030-01-01T03:30:00Z');
    await s.tick();
    await lab.hoard.services.scheduledOperations.setEnabled(caller, op.id, true);
    await s.tick();
    await lab.scheduler().tick();
    expect(await lab.logsOf(op.id)).toEqual([]);
    lab.clock.set('2030-01-01T04:01:00Z');
    await s.tick();
    expect(await lab.checkpointsOf(op.planId)).toHaveLength(1);
  });
});

describe('one run per plan at a time', () => {
  it('skips a run due while a checkpoint of the plan is protecting, and logs why', async () => {
    const op = await lab.operation();
    const s = lab.scheduler();
    await s.tick();
    lab.clock.set('2030-01-01T00:40:00Z');
    const manual = await lab.hoard.services.checkpoints.create(caller, NOOP_PROVIDER_ID, { plan_id: op.planId });
    expect(manual.status).toBe('protecting');
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    expect((await lab.checkpointsOf(op.planId)).map((c) => c.id)).toEqual([manual.id]);
    const logs = await lab.logsOf(op.id);
    expect(logs.map((l) => [l.status, l.extraInfo?.reason])).toEqual([['skipped', 'overlap']]);
    expect(logs[0]!.errorInfo).toContain('still protecting');
    expect((await lab.runsOf(op.id))[0]).toMatchObject({ state: 'skipped', reason: 'overlap' });
  });

  it('two operations of one plan due at the same time start one run; the other is skipped as overlap', async () => {
    const a = await lab.operation();
    const b = await lab.operation({ planId: a.planId });
    const s = lab.scheduler();
    await s.tick();
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    expect(await lab.checkpointsOf(a.planId)).toHaveLength(1);
    const reasons = [...(await lab.logsOf(a.id)), ...(await lab.logsOf(b.id))].map((l) => l.extraInfo?.reason).sort();
    expect(reasons).toEqual(['on_time', 'overlap']);
  });
});

describe('retention_protect', () => {
  it('protects and calls the retention step it is given', async () => {
    const op = await lab.operation({ type: 'retention_protect' });
    const seen: string[] = [];
    const s = lab.scheduler(lab.hoard, { retention: { afterProtect: async (r) => { seen.push(r.checkpoint.id); } } });
    await s.tick();
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    const cps = await lab.checkpointsOf(op.planId);
    expect(seen).toEqual([cps[0]!.id]);
    expect((await lab.logsOf(op.id))[0]!.extraInfo).toMatchObject({ operation_type: 'retention_protect', retention: 'done' });
  });
});

describe('retention_protect with the role\'s own retention step', () => {
  it('keeps max_backups available checkpoints of the plan and deletes the older ones through the delete use case', async () => {
    const op = await lab.operation({ type: 'retention_protect', definition: { max_backups: '2' } });
    const s = lab.scheduler(lab.hoard, { retention: retentionStep(lab.hoard) });
    await s.tick();
    for (const at of ['2030-01-01T01:01:00Z', '2030-01-01T02:01:00Z', '2030-01-01T03:01:00Z', '2030-01-01T04:01:00Z']) {
      lab.clock.set(at);
      await s.tick();
      await lab.finishCheckpoints();
    }
    const cps = await lab.checkpointsOf(op.planId);
    expect((await lab.logsOf(op.id)).map((l) => l.extraInfo?.retention)).toEqual(['done', 'done', 'done', 'done']);
    // Four runs; before each, retention kept the two newest available ones (the run's own was still protecting).
    expect(cps.map((c) => c.status)).toEqual(['deleting', 'available', 'available', 'available'].slice(-cps.length));
    expect(cps.filter((c) => c.status === 'available')).toHaveLength(3);
  });
});

describe('operation_definition.misfire', () => {
  it('accepts run-once and skip, and refuses anything else with a message naming both', async () => {
    const op = await lab.operation({ misfire: 'skip' });
    const create = (misfire: unknown) => lab.hoard.services.scheduledOperations.create(caller, {
      name: 'x', operation_type: 'protect', trigger_id: op.triggerId, operation_definition: { provider_id: NOOP_PROVIDER_ID, plan_id: op.planId, misfire },
    });
    await expect(create('run-once')).resolves.toMatchObject({ operationDefinition: { misfire: 'run-once' } });
    await expect(create('catch-up-all')).rejects.toMatchObject({ reason: 'invalid_operation_definition', message: expect.stringContaining('"run-once"') });
  });
});
