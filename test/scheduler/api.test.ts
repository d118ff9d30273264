/**
 * Hoard's scheduled-operation extensions over real HTTP, on both engines, under the lab's fake clock:
 * enable/disable (`POST …/scheduled_operations/{id}/action`) and the operation-log filter
 * `scheduled_operation_id`. The scheduler runs against the same services the API writes through.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scheduledOperations } from '../../src/store/index.js';
import { DIALECTS } from '../helpers/store.js';
import { schedulerLab, type Lab, type LabApi } from './lab.js';

describe.each(DIALECTS)('scheduled operations API on %s', (dialect) => {
  let lab: Lab;
  let api: LabApi;
  let token: string;
  beforeEach(async () => {
    lab = await schedulerLab(dialect);
    api = await lab.serve();
    token = await api.token();
  });
  afterEach(() => lab.close());

  const action = (id: string, body: unknown, t = token, project = 'lab') => api.call('POST', `/v1/${project}/scheduled_operations/${id}/action`, { token: t, body });

  it('a disabled operation never fires; re-enabling fires from the next due time, with no catch-up', async () => {
    const op = await lab.operation({ misfire: 'run-once' });
    const s = lab.scheduler();
    await s.tick();

    const off = await action(op.id, { disable: {} });
    expect(off.status, off.text).toBe(200);
    expect(off.body.scheduled_operation).toMatchObject({ id: op.id, enabled: false });
    expect((await api.call('GET', `/v1/lab/scheduled_operations/${op.id}`, { token })).body.scheduled_operation.enabled).toBe(false);
    for (const t of ['01:01', '02:01', '03:01']) {
      lab.clock.set(`2030-01-01T${t}:00Z`);
      await s.tick();
      await lab.scheduler().tick();
    }

    // 03:00 is still inside its 15-minute window, but it fell due while the operation was disabled.
    lab.clock.set('2030-01-01T03:05:00Z');
    const on = await action(op.id, { enable: {} });
    expect(on.status, on.text).toBe(200);
    expect(on.body.scheduled_operation).toMatchObject({ id: op.id, enabled: true });
    await s.tick();
    await lab.scheduler().tick();
    expect(await lab.runsOf(op.id)).toEqual([]);
    expect(await lab.logsOf(op.id)).toEqual([]);
    expect(await lab.checkpointsOf(op.planId)).toEqual([]);

    lab.clock.set('2030-01-01T04:01:00Z');
    await s.tick();
    expect((await lab.checkpointsOf(op.planId)).map((c) => c.extraInfo?.due_at)).toEqual(['2030-01-01T04:00:00.000Z']);
    expect((await lab.logsOf(op.id)).map((l) => [l.status, l.extraInfo?.reason])).toEqual([['success', 'on_time']]);
  });

  it('asking for the state an operation already has changes nothing, so a run due but not yet fired still fires', async () => {
    const op = await lab.operation();
    const s = lab.scheduler();
    await s.tick();
    const before = await scheduledOperations.getOperation(lab.hoard.store.db, op.id);
    // 01:00 is due; the operation's jitter (up to 30 s in the lab) may not have passed yet.
    lab.clock.set('2030-01-01T01:00:01Z');
    const again = await action(op.id, { enable: {} });
    expect(again.status, again.text).toBe(200);
    expect(again.body.scheduled_operation.enabled).toBe(true);
    expect((await scheduledOperations.getOperation(lab.hoard.store.db, op.id))?.updatedAt).toBe(before?.updatedAt);
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    expect((await lab.checkpointsOf(op.planId)).map((c) => c.extraInfo?.due_at)).toEqual(['2030-01-01T01:00:00.000Z']);
  });

  it('refuses a malformed action, an unknown operation and another project\'s, with Karbor fault bodies', async () => {
    const op = await lab.operation();
    const bad = async (body: unknown, text: string) => {
      const r = await action(op.id, body);
      expect(r.status, r.text).toBe(400);
      expect(r.body.badRequest).toMatchObject({ code: 400, message: expect.stringContaining(text) });
    };
    await bad({}, 'exactly one action');
    await bad({ enable: {}, disable: {} }, 'exactly one action');
    await bad({ pause: {} }, "'pause'");
    await bad({ enable: { now: true } }, "'now'");
    await bad([], 'body');

    const notUuid = await action('not-an-id', { enable: {} });
    expect(notUuid.status).toBe(400);
    expect(notUuid.body.badRequest.reason).toBe('invalid_id');
    const missing = await action('00000000-0000-4000-8000-000000000000', { disable: {} });
    expect(missing.status).toBe(404);
    expect(missing.body.itemNotFound).toMatchObject({ code: 404 });
    const stranger = await action(op.id, { disable: {} }, await api.token('other'), 'other');
    expect(stranger.status).toBe(404);
    expect((await scheduledOperations.getOperation(lab.hoard.store.db, op.id))?.enabled).toBe(true);
    expect((await api.call('POST', `/v1/lab/scheduled_operations/${op.id}/action`, { body: { disable: {} } })).status).toBe(401);
  });

  it('lists the operation logs of one scheduled operation with scheduled_operation_id', async () => {
    const a = await lab.operation();
    const b = await lab.operation();
    const s = lab.scheduler();
    await s.tick();
    lab.clock.set('2030-01-01T01:01:00Z');
    await s.tick();
    // a's checkpoint is still protecting at 02:00: a's run is skipped as overlap; b's plan was freed.
    const [bCheckpoint] = await lab.checkpointsOf(b.planId);
    await lab.hoard.store.db.updateTable('checkpoints').set({ status: 'available' }).where('id', '=', bCheckpoint!.id).execute();
    lab.clock.set('2030-01-01T02:01:00Z');
    await s.tick();

    type Log = { id: string; status: string; checkpoint_id: string | null; scheduled_operation_id: string | null; extra_info: string | null };
    const list = async (query: string, t = token, project = 'lab'): Promise<Log[]> => {
      const r = await api.call('GET', `/v1/${project}/operation_logs?${query}`, { token: t });
      expect(r.status, r.text).toBe(200);
      return r.body.operation_logs;
    };
    // One record per run of a: the fired one names its checkpoint (whose protect log checkpoint_id finds).
    const logs = await list(`scheduled_operation_id=${a.id}`);
    expect(logs.every((l) => l.scheduled_operation_id === a.id)).toBe(true);
    const records = logs.map((l) => ({ status: l.status, checkpoint: l.checkpoint_id, reason: JSON.parse(l.extra_info!).reason }));
    const [aCheckpoint] = await lab.checkpointsOf(a.planId);
    expect(records.sort((x, y) => x.reason.localeCompare(y.reason))).toEqual([
      { status: 'success', checkpoint: aCheckpoint!.id, reason: 'on_time' },
      { status: 'skipped', checkpoint: null, reason: 'overlap' },
    ]);

    expect((await list(`scheduled_operation_id=${a.id}&status=skipped`)).map((l) => JSON.parse(l.extra_info!).reason)).toEqual(['overlap']);
    expect((await list(`scheduled_operation_id=${b.id}`)).map((l) => l.status)).toEqual(['success', 'success']);
    expect(await list(`scheduled_operation_id=${a.id}`, await api.token('other'), 'other')).toEqual([]);

    const bad = await api.call('GET', '/v1/lab/operation_logs?scheduled_operation_id=nope', { token });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.reason).toBe('invalid_filter');
  });
});
