/**
 * Failure is a result: a failing resource fails the checkpoint with that resource's reason (operation,
 * operation log, progress), owed compensations run, retries and timeouts behave as documented, and a
 * restore with one failing resource reports a status for every resource.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetryLater, Unrecoverable } from '../../src/plugins/sdk/index.js';
import { getTasks, latestOperation } from '../../src/store/operations.js';
import { checkpoints, operationLogs } from '../../src/store/index.js';
import { DIALECTS } from '../helpers/store.js';
import { checkpointStatus, harness, operationError, restoreOf, type EngineHarness } from './harness.js';
import { LAB, labRegistry, P, SHARED } from './lab.js';
import { recordingPlugin, type Recorder } from './recording.js';

const S2 = `${LAB.server}#s2`;
const V1 = `${LAB.volume}#v1`;

describe.each(DIALECTS)('failures on %s', (dialect) => {
  let h: EngineHarness;
  let rec: Recorder;
  afterEach(() => h?.close());
  const start = async (opts = {}) => {
    rec = recordingPlugin();
    h = await harness(dialect, labRegistry(SHARED), rec.plugin, opts);
  };
  const logOf = async (by: { checkpointId: string } | { restoreId: string }) => {
    const op = await latestOperation(h.store.db, by);
    return operationLogs.getLog(h.store.db, op!.log_id!);
  };

  it('fails the checkpoint with the failing resource\'s reason, in the operation log and progress, and compensates', async () => {
    await start();
    rec.script = (ctx, hook) => {
      if (hook === 'main' && ctx.resource.id === 's2') throw new Unrecoverable('snapshot quota exceeded on db');
    };
    const cp = await h.protect([P]);
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('error');
    const reason = 'Lab::Test::Server s2 (db): main failed: snapshot quota exceeded on db';
    expect(await operationError(h.store, { checkpointId: cp })).toBe(reason);
    const log = await logOf({ checkpointId: cp });
    expect([log?.operationType, log?.status, log?.errorInfo]).toEqual(['protect', 'error', reason]);
    expect(log?.endedAt).not.toBeNull();
    const progress = await h.engine.progress({ checkpointId: cp });
    expect(progress?.resources.find((r) => r.resource === S2)).toMatchObject({ state: 'failed', reason: 'snapshot quota exceeded on db' });
    // Every resource whose prepareBegin finished and whose complete did not was compensated, once.
    const tasks = await getTasks(h.store.db, progress!.operationId);
    const owed = tasks.filter((t) => t.hook === 'prepareBegin' && t.state === 'compensated').map((t) => `protect:${t.resource_key}`);
    expect(owed.length).toBeGreaterThan(0);
    expect([...rec.compensations].sort()).toEqual(owed.sort());
    expect(tasks.filter((t) => t.hook === 'complete' && t.state === 'done').map((t) => t.resource_key)).not.toContain(S2);
  });

  it('retries RetryLater with backoff, then gives up with the last reason', async () => {
    await start();
    let tries = 0;
    rec.script = (ctx, hook) => {
      if (hook === 'main' && ctx.resource.id === 'v1' && ++tries <= 2) throw new RetryLater('backend busy');
    };
    const ok = await h.protect([P]);
    await h.settle({ checkpointId: ok });
    expect(await checkpointStatus(h.store, ok)).toBe('available');
    const op = await latestOperation(h.store.db, { checkpointId: ok });
    expect((await getTasks(h.store.db, op!.id)).find((t) => t.resource_key === V1 && t.hook === 'main')).toMatchObject({ state: 'done', attempt: 2 });

    rec.script = (ctx, hook) => {
      if (hook === 'main' && ctx.resource.id === 'v1') throw new RetryLater('backend still busy');
    };
    const bad = await h.protect([P]);
    await h.settle({ checkpointId: bad });
    expect(await checkpointStatus(h.store, bad)).toBe('error');
    expect(await operationError(h.store, { checkpointId: bad })).toContain('main failed: backend still busy');
  });

  it('fails a hook that outlives the hook timeout and aborts its signal', async () => {
    await start({ hookTimeoutMs: 200 });
    let aborted = false;
    rec.script = (ctx, hook) => {
      if (hook !== 'prepareFinish' || ctx.resource.id !== 'i') return undefined;
      ctx.signal.addEventListener('abort', () => { aborted = true; });
      return new Promise(() => {});
    };
    const cp = await h.protect([P]);
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('error');
    expect(await operationError(h.store, { checkpointId: cp })).toMatch(/Lab::Test::Image i \(café image\): prepareFinish failed: .*200 ms \(the hook timeout\)/);
    expect(aborted).toBe(true);
  });

  it('never re-runs a task the journal already has failed (a crash between the task and the operation failing)', async () => {
    await start();
    const cp = await h.protect([P]);
    const op = (await latestOperation(h.store.db, { checkpointId: cp }))!;
    await h.store.db.updateTable('operations').set({ status: 'running' }).where('id', '=', op.id).execute();
    await h.store.db.updateTable('operation_tasks').set({ state: 'failed', reason: 'disk gone' })
      .where('operation_id', '=', op.id).where('resource_key', '=', S2).where('hook', '=', 'prepareBegin').execute();
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('error');
    expect(await operationError(h.store, { checkpointId: cp })).toBe('Lab::Test::Server s2 (db): prepareBegin failed: disk gone');
    expect(rec.calls).toEqual([]);
  });

  it('reports a status for every resource of a restore with one failing resource', async () => {
    await start();
    const cp = await h.protect([P]);
    await h.settle({ checkpointId: cp });
    rec.script = (ctx, hook) => {
      if (ctx.operation.kind === 'restore' && hook === 'main' && ctx.resource.id === 'v1') throw new Error('volume type gold does not exist here');
      if (ctx.operation.kind === 'restore' && hook === 'main') ctx.newResources.set(ctx.resource.id, `new-${ctx.resource.id}`);
    };
    const provider = h.provider;
    const checkpoint = (await checkpoints.getCheckpoint(h.store.db, cp))!;
    const r = await h.engine.restore({ projectId: 'demo', provider, checkpoint, restoreTarget: null, parameters: {} });
    await h.settle({ restoreId: r.id });
    const done = (await restoreOf(h.store, r.id))!;
    expect(done.status).toBe('fail');
    expect(done.resourcesStatus).toEqual({
      [V1]: 'error',
      [`${LAB.image}#new-i`]: 'available',
      [`${LAB.volume}#new-v2`]: 'available',
      [`${LAB.server}#new-s2`]: 'available',
      [`${LAB.server}#new-s1`]: 'error',
      [`${LAB.project}#new-p`]: 'error',
    });
    expect(done.resourcesReason[V1]).toBe('main failed: volume type gold does not exist here');
    expect(done.resourcesReason[`${LAB.server}#new-s1`]).toContain('not restored: Lab::Test::Volume v1 (web data): main failed');
    expect((await logOf({ restoreId: r.id }))?.status).toBe('fail');
  });
});
