/**
 * User cancellation, on SQLite and PostgreSQL. The canceller and the worker always use different
 * database handles (two connections, as the API and protection processes have), and one test puts the
 * worker in another process: the only way a cancel reaches a worker is the operation row. What a user
 * sees is asserted: the subject's end status, the reason "cancelled by the user at …" on the operation,
 * its log and the restore's per-resource reasons, the blocked hook aborted with that reason, owed
 * compensations run exactly once, and nothing run for an operation that had not started.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cancelOperation, cancelReason, createEngine, createWorker, type CancelRequest, type CancelTarget, type Engine, type Worker } from '../../src/engine/index.js';
import type { HookContext, HookResult } from '../../src/plugins/sdk/index.js';
import { checkpoints, openStore, operationLogs, restores, type Store } from '../../src/store/index.js';
import { claimOperations, getOperation, getTasks, latestOperation } from '../../src/store/operations.js';
import { HoardError } from '../../src/model/errors.js';
import { systemClock } from '../../src/util/clock.js';
import { dropSchema, PG_URL } from '../helpers/hoard.js';
import { DIALECTS } from '../helpers/store.js';
import { blockingPlugin, type LogLine } from './cancel-fixture.js';
import { FAST } from './harness.js';
import { LAB, labRegistry, P, SHARED } from './lab.js';
import { recordingPlugin, type Recorder } from './recording.js';

const V1 = `${LAB.volume}#v1`;
const ALL = [`${LAB.project}#p`, `${LAB.server}#s1`, `${LAB.server}#s2`, V1, `${LAB.volume}#v2`, `${LAB.image}#i`];
type By = { checkpointId: string } | { restoreId: string };

/** Db is one database opened twice: `api` submits and cancels, `work` is the worker's own connection. */
interface Db { readonly url: string; readonly schema?: string; readonly api: Store; readonly work: Store; close(): Promise<void> }

async function openTwice(dialect: 'sqlite' | 'postgres'): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), 'hoard-cancel-'));
  const schema = dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const url = schema ? PG_URL : `sqlite:${join(dir, 'hoard.db')}`;
  const open = () => openStore({ url, ...(schema ? { schema } : {}) });
  const api = await open();
  const work = await open();
  return {
    url, api, work, ...(schema ? { schema } : {}),
    async close() {
      await work.close();
      await api.close();
      if (process.env.HOARD_KEEP_TEST_DATA) return void console.error(`kept cancel test data in ${dir}${schema ? ` and schema ${schema}` : ''}`);
      await rm(dir, { recursive: true, force: true });
      if (schema) await dropSchema(schema);
    },
  };
}

/** until polls `read` until `done` holds; it fails after many polls, never on a measured time. */
async function until<T>(read: () => Promise<T> | T, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const request = (by: string | null = 'alice', reason: string | null = 'wrong plan'): CancelRequest => ({ at: new Date().toISOString(), by, reason });

describe.each(DIALECTS)('user cancellation on %s', (dialect) => {
  let db: Db;
  let engine: Engine;
  let worker: Worker;
  let rec: Recorder;
  const provider = { id: randomUUID(), plugins: ['hoard.io/recorder'] };
  afterEach(async () => {
    await worker?.stop();
    await db?.close();
  });

  const start = async () => {
    db = await openTwice(dialect);
    rec = recordingPlugin();
    const registry = labRegistry(SHARED);
    registry.registerProtectionPlugin(rec.plugin);
    engine = createEngine({ store: db.api, registry, clock: systemClock });
    worker = createWorker({ store: db.work, registry, options: FAST });
  };
  const protect = async () => (await engine.protect({
    projectId: 'demo', provider, extraInfo: null,
    plan: { id: randomUUID(), name: 'lab', providerId: provider.id, parameters: {}, resources: [{ ...P, extraInfo: null }] },
  })).id;
  const restore = async (checkpointId: string) => {
    const checkpoint = (await checkpoints.getCheckpoint(db.api.db, checkpointId))!;
    return (await engine.restore({ projectId: 'demo', provider, checkpoint, restoreTarget: null, parameters: {} })).id;
  };
  const op = async (by: By) => (await latestOperation(db.api.db, by))!;
  const ended = (by: By) => until(() => op(by), (o) => o.status === 'done' || o.status === 'error', 'the operation to end');
  const logOf = async (by: By) => operationLogs.getLog(db.api.db, (await op(by)).log_id!);
  const status = async (id: string) => (await checkpoints.getCheckpoint(db.api.db, id))?.status;
  /** settle runs the worker by hand until the operation ends (tests that must control when the worker looks). */
  const settle = (by: By) => until(async () => { await worker.tick(); await worker.idle(); return op(by); }, (o) => o.status === 'done' || o.status === 'error', 'settle');

  /** blockAt makes one hook of one resource wait for its abort, keeping the reason; `blocked` resolves when it is waiting. */
  const blockAt = (kind: string, resourceId: string, hook: string) => {
    const seen: { reason?: unknown; blocked: boolean } = { blocked: false };
    rec.script = (ctx: HookContext, h): Promise<HookResult> | undefined => {
      if (ctx.operation.kind !== kind || ctx.resource.id !== resourceId || h !== hook) return undefined;
      seen.blocked = true;
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => { seen.reason = ctx.signal.reason; reject(ctx.signal.reason); }, { once: true }));
    };
    return seen;
  };

  it('cancels a running protect: its blocked hook is aborted with the reason, the checkpoint ends error, owed compensations run once', async () => {
    await start();
    const seen = blockAt('protect', 'v1', 'main');
    worker.start();
    const cp = await protect();
    await until(() => seen.blocked, Boolean, 'the main hook of v1 to block');

    const req = request();
    const answer = await cancelOperation(db.api, { checkpointId: cp }, req);
    expect(answer).toMatchObject({ state: 'requested', request: req });
    const reason = `cancelled by the user at ${req.at} (requested by alice): wrong plan`;
    expect(cancelReason(req)).toBe(reason);

    const end = await ended({ checkpointId: cp });
    expect([end.status, end.error]).toEqual(['error', reason]);
    expect(await status(cp)).toBe('error');
    expect(seen.reason).toMatchObject({ name: 'Cancelled', message: reason });
    const log = await logOf({ checkpointId: cp });
    expect([log?.status, log?.errorInfo]).toEqual(['error', reason]);
    expect(log?.endedAt).not.toBeNull();
    expect((await engine.progress({ checkpointId: cp }))?.error).toBe(reason);

    const tasks = await getTasks(db.api.db, end.id);
    expect(tasks.find((t) => t.resource_key === V1 && t.hook === 'main')).toMatchObject({ state: 'failed', reason });
    const owed = tasks.filter((t) => t.hook === 'prepareBegin' && t.state === 'compensated').map((t) => `protect:${t.resource_key}`).sort();
    expect(owed).toEqual(expect.arrayContaining([`protect:${V1}`, `protect:${LAB.server}#s1`, `protect:${LAB.project}#p`]));
    expect([...rec.compensations].sort()).toEqual(owed);
    // Nothing completed that depends on the cancelled work.
    expect(rec.calls.filter((c) => c.hook === 'complete' && [V1, `${LAB.project}#p`].includes(c.key))).toEqual([]);
  });

  it('cancels a running restore: it fails, every resource has a status, and each one not restored names the cancel', async () => {
    await start();
    worker.start();
    const cp = await protect();
    expect((await ended({ checkpointId: cp })).status).toBe('done');
    const seen = blockAt('restore', 'v1', 'main');
    const id = await restore(cp);
    await until(() => seen.blocked, Boolean, 'the restore main of v1 to block');

    const req = request('bob', null);
    await cancelOperation(db.api, { restoreId: id }, req);
    const reason = `cancelled by the user at ${req.at} (requested by bob)`;
    expect((await ended({ restoreId: id })).error).toBe(reason);
    const r = (await restores.getRestore(db.api.db, id))!;
    expect(r.status).toBe('fail');
    expect(Object.keys(r.resourcesStatus).sort()).toEqual([...ALL].sort());
    expect(r.resourcesStatus[V1]).toBe('error');
    expect(r.resourcesReason[V1]).toBe(`main failed: ${reason}`);
    // The parents of v1 could not complete: "not restored: <reason>", or "<hook> failed: <reason>" for the
    // hook that was running (or waiting for its slot) when the cancel came. Whatever did not succeed names the cancel.
    const cancelled = new RegExp(`^(not restored|(prepareBegin|prepareFinish|main) failed): ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    for (const key of [`${LAB.project}#p`, `${LAB.server}#s1`]) {
      expect(r.resourcesStatus[key]).toBe('error');
      expect(r.resourcesReason[key]).toMatch(cancelled);
    }
    for (const [key, s] of Object.entries(r.resourcesStatus)) if (s !== 'available') expect(r.resourcesReason[key], key).toContain(reason);
    expect(await logOf({ restoreId: id })).toMatchObject({ status: 'fail', errorInfo: reason });
  });

  it('ends a pending operation that no worker claimed at once, and no hook of it ever runs', async () => {
    await start();
    const cp = await protect();
    await settle({ checkpointId: cp });
    expect(await status(cp)).toBe('available');
    rec.calls.length = 0;

    const pendingCp = await protect();
    const id = await restore(cp);
    const req = request(null, null);
    expect(await cancelOperation(db.api, { checkpointId: pendingCp }, req)).toMatchObject({ state: 'ended' });
    expect(await cancelOperation(db.api, { restoreId: id }, req)).toMatchObject({ state: 'ended' });
    const reason = `cancelled by the user at ${req.at}`;

    expect(await status(pendingCp)).toBe('error');
    expect(await logOf({ checkpointId: pendingCp })).toMatchObject({ status: 'error', errorInfo: reason });
    const r = (await restores.getRestore(db.api.db, id))!;
    expect(r.status).toBe('fail');
    expect(r.resourcesStatus).toEqual(Object.fromEntries(ALL.map((k) => [k, 'error'])));
    expect(new Set(Object.values(r.resourcesReason))).toEqual(new Set([`not restored: ${reason}`]));
    expect(await logOf({ restoreId: id })).toMatchObject({ status: 'fail', errorInfo: reason });

    // The worker finds nothing to do: no hook runs, every task is still pending.
    await worker.tick();
    await worker.idle();
    expect(rec.calls).toEqual([]);
    for (const by of [{ checkpointId: pendingCp }, { restoreId: id }]) {
      expect((await getTasks(db.api.db, (await op(by)).id)).every((t) => t.state === 'pending')).toBe(true);
    }
  });

  it('a cancel asked of a worker that died before starting the operation is honoured by the next owner, without running hooks', async () => {
    await start();
    const cp = await protect();
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await claimOperations(db.api.db, db.api.dialect, 'dead-worker', iso(now), iso(now + 3_600_000), 1)).toHaveLength(1);
    const req = request();
    // Claimed: the request is recorded for its holder rather than ending it under the holder's feet.
    expect(await cancelOperation(db.api, { checkpointId: cp }, req)).toMatchObject({ state: 'requested' });
    expect(await status(cp)).toBe('protecting');

    const o = await op({ checkpointId: cp });
    await db.api.db.updateTable('operations').set({ lease_expires_at: iso(now - 1000) }).where('id', '=', o.id).execute();
    const end = await settle({ checkpointId: cp });
    expect([end.status, end.error]).toEqual(['error', cancelReason(req)]);
    expect(await status(cp)).toBe('error');
    expect(rec.calls).toEqual([]);
  });

  it('is idempotent while the operation lives, and refuses one that ended, changing nothing', async () => {
    await start();
    const seen = blockAt('protect', 'v1', 'main');
    worker.start();
    const cp = await protect();
    await until(() => seen.blocked, Boolean, 'the main hook of v1 to block');
    const first = request('alice', 'first');
    const again = { ...request('carol', 'second'), at: new Date(Date.parse(first.at) + 1000).toISOString() };
    expect(await cancelOperation(db.api, { checkpointId: cp }, first)).toMatchObject({ state: 'requested', request: first });
    expect((await cancelOperation(db.api, { checkpointId: cp }, again)).request).toEqual(first);
    await ended({ checkpointId: cp });
    // Asked again after it ended because of the cancel: the same answer, nothing new.
    expect(await cancelOperation(db.api, { checkpointId: cp }, again)).toMatchObject({ state: 'ended', request: first });
    expect((await op({ checkpointId: cp })).error).toBe(cancelReason(first));

    rec.script = () => undefined;
    const done = await protect();
    await ended({ checkpointId: done });
    const before = await snapshot(db.api, { checkpointId: done });
    const refused = await cancelOperation(db.api, { checkpointId: done }, request()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HoardError);
    expect(refused).toMatchObject({ reason: 'invalid_state', status: 400 });
    expect((refused as Error).message).toMatch(new RegExp(`^Checkpoint ${done} cannot be cancelled: its protect already ended; it succeeded at `));
    expect(await snapshot(db.api, { checkpointId: done })).toEqual(before);
    expect(await status(done)).toBe('available');
  });
});

/** snapshot is everything a cancel could change about a checkpoint's operation. */
async function snapshot(store: Store, by: { checkpointId: string }) {
  const o = (await latestOperation(store.db, by))!;
  return { op: await getOperation(store.db, o.id), tasks: await getTasks(store.db, o.id), log: await operationLogs.getLog(store.db, o.log_id!), cp: await checkpoints.getCheckpoint(store.db, by.checkpointId) };
}

const FIXTURE = new URL('./cancel-fixture.ts', import.meta.url).pathname;

describe.each(DIALECTS)('cancel across processes on %s', (dialect) => {
  let db: Db | undefined;
  afterEach(async () => db?.close());

  it('a worker in another process learns of the cancel through the database, aborts the hook and compensates once', async () => {
    db = await openTwice(dialect);
    const log = join(tmpdir(), `hoard-cancel-${randomUUID()}.log`);
    await writeFile(log, '');
    const spec = { log, blockAt: `protect:${V1}:main` };
    const registry = labRegistry(SHARED);
    registry.registerProtectionPlugin(blockingPlugin(spec));
    const provider = { id: randomUUID(), plugins: ['hoard.io/blocker'] };
    const engine = createEngine({ store: db.api, registry, clock: systemClock });
    const cp = (await engine.protect({
      projectId: 'demo', provider, extraInfo: null,
      plan: { id: randomUUID(), name: 'lab', providerId: provider.id, parameters: {}, resources: [{ ...P, extraInfo: null }] },
    })).id;

    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, db.url, ...(db.schema ? [db.schema] : [])],
      { env: { ...process.env, CANCEL_SPEC: JSON.stringify(spec) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = async () => (await readFile(log, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
    try {
      await until(lines, (ls) => ls.some((l) => l.at === 'blocked'), 'the worker process to block in main');
      const req = request('alice', null);
      const target: CancelTarget = { checkpointId: cp };
      expect(await cancelOperation(db.api, target, req)).toMatchObject({ state: 'requested' });
      expect(await exited, stderr).toBe(0);

      const reason = cancelReason(req);
      const o = (await latestOperation(db.api.db, target))!;
      expect([o.status, o.error]).toEqual(['error', reason]);
      expect((await checkpoints.getCheckpoint(db.api.db, cp))?.status).toBe('error');
      const all = await lines();
      expect(all.filter((l) => l.at === 'aborted')).toEqual([expect.objectContaining({ name: 'Cancelled', reason, pid: child.pid })]);
      const compensated = (await getTasks(db.api.db, o.id)).filter((t) => t.hook === 'prepareBegin' && t.state === 'compensated').map((t) => `protect:${t.resource_key}:compensate`).sort();
      expect(compensated).toContain(`protect:${V1}:compensate`);
      expect(all.filter((l) => l.at.endsWith(':compensate')).map((l) => l.at).sort()).toEqual(compensated);
    } finally {
      child.kill('SIGKILL');
      await rm(log, { force: true });
    }
  });
});
