/**
 * Durability (ARCHITECTURE decisions 3 and 4): the engine runs in a child process whose plugin SIGKILLs
 * it at a chosen hook; a second process on the same SQLite file takes the operation over once the
 * lease expires. Asserted from the call log both processes append to and from the journal.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOOKS } from '../../src/plugins/sdk/index.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { checkpoints, openStore, operationLogs, type Store } from '../../src/store/index.js';
import { getTasks, latestOperation } from '../../src/store/operations.js';
import { systemClock } from '../../src/util/clock.js';
import { crashPlugin, type CrashSpec } from './crash-fixture.js';
import { LAB, labRegistry, P, SHARED } from './lab.js';

const FIXTURE = new URL('./crash-fixture.ts', import.meta.url).pathname;
const V1 = `${LAB.volume}#v1`;
/** Mains may not resume; every other hook may (so that only the chosen kind of interruption decides). */
const ALL_BUT_MAIN = HOOKS.filter((h) => h !== 'main');
const S1 = `${LAB.server}#s1`;
let dir: string;
let db: string;
let log: string;
let store: Store;
let engine: Engine;
const provider = { id: randomUUID(), plugins: ['hoard.io/crash'] };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hoard-crash-'));
  db = join(dir, 'hoard.db');
  log = join(dir, 'calls.log');
  await writeFile(log, '');
  store = await openStore({ url: `sqlite:${db}` });
  const registry = labRegistry(SHARED);
  registry.registerProtectionPlugin(crashPlugin({ log }));
  engine = createEngine({ store, registry, clock: systemClock });
});
afterEach(async () => {
  await store.close();
  if (!process.env.HOARD_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
  else console.error(`kept crash test data in ${dir}`);
});

/** runFixture runs one worker process to its end (or its self-inflicted SIGKILL). */
function runFixture(spec: Omit<CrashSpec, 'log'>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, db], { env: { ...process.env, CRASH_SPEC: JSON.stringify({ ...spec, log, db }) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** crashThenResume runs a process that dies at `killAt`, then a clean one; both must end as expected. */
async function crashThenResume(killAt: string, spec: Omit<CrashSpec, 'log' | 'killAt'> = {}) {
  const first = await runFixture({ ...spec, killAt });
  expect(first.signal, first.stderr).toBe('SIGKILL');
  const second = await runFixture(spec);
  expect(second.code, second.stderr).toBe(0);
}

const calls = async () => (await readFile(log, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { at: string; pid: number; handle?: unknown; done?: string[] });
const count = async (at: string) => (await calls()).filter((c) => c.at === at).length;
const protect = async () => (await engine.protect({ projectId: 'demo', provider, plan: { id: randomUUID(), name: 'lab', providerId: provider.id, parameters: {}, resources: [{ ...P, extraInfo: null }] }, extraInfo: null })).id;
const status = async (id: string) => (await checkpoints.getCheckpoint(store.db, id))?.status;

describe('crash and resume (SIGKILL, real SQLite, two processes)', () => {
  it('protect: a resumable hook interrupted by SIGKILL runs again; hooks the journal had done do not', async () => {
    const cp = await protect();
    await crashThenResume(`protect:${V1}:main`, { resumable: HOOKS });
    expect(await status(cp)).toBe('available');
    expect(await count(`protect:${V1}:main`)).toBe(2);
    const all = await calls();
    const [first, second] = [...new Set(all.map((c) => c.pid))];
    expect(second).toBeDefined();
    const doneAtKill = all.find((c) => c.at === 'journal-done-at-kill')!.done!;
    expect(doneAtKill.length).toBeGreaterThan(0);
    const rerun = all.filter((c) => c.pid === second).map((c) => c.at.replace(/^protect:/, ''));
    expect(rerun.filter((at) => doneAtKill.includes(at))).toEqual([]);
    // Every hook ran at least once, and at most twice (once more only if it was in flight at the kill).
    const byHook = new Map<string, number>();
    for (const c of all.filter((x) => x.at.startsWith('protect:') && (x.pid === first || x.pid === second))) byHook.set(c.at, (byHook.get(c.at) ?? 0) + 1);
    expect(byHook.size).toBe(6 * HOOKS.length);
    expect([...byHook.values()].every((n) => n <= 2)).toBe(true);
    const op = await latestOperation(store.db, { checkpointId: cp });
    expect((await getTasks(store.db, op!.id)).find((t) => t.resource_key === V1 && t.hook === 'main')?.attempt).toBe(1);
  }, 60_000);

  it('protect: a non-resumable hook interrupted ends the checkpoint in error naming it, and owed compensates run exactly once', async () => {
    const cp = await protect();
    await crashThenResume(`protect:${V1}:main`, { resumable: ALL_BUT_MAIN });
    expect(await status(cp)).toBe('error');
    const op = await latestOperation(store.db, { checkpointId: cp });
    // v1's main, or another main that was in flight at the kill: whichever the journal names first.
    expect(op?.error).toMatch(/^Lab::Test::\w+ \w+ \(.+\): main failed: interrupted: .*hoard\.io\/crash does not declare main resumable/);
    expect(await count(`protect:${V1}:main`)).toBe(1);
    const tasks = await getTasks(store.db, op!.id);
    const owed = tasks.filter((t) => t.hook === 'prepareBegin' && t.state === 'compensated').map((t) => t.resource_key).sort();
    // P's and S1's prepareBegin ran before v1's main (the order guarantees it), and neither completed.
    expect(owed).toEqual(expect.arrayContaining([`${LAB.project}#p`, S1, V1]));
    for (const key of owed) expect(await count(`protect:${key}:compensate`)).toBe(1);
    expect((await calls()).filter((c) => c.at.endsWith(':compensate')).length).toBe(owed.length);
    expect((await operationLogs.getLog(store.db, op!.log_id!))?.errorInfo).toBe(op?.error);
  }, 60_000);

  it('protect: a polled handle is re-attached after the crash: poll is called again, the hook is not', async () => {
    const cp = await protect();
    await crashThenResume(`protect:${V1}:poll`, { handleAt: `protect:${V1}:main`, resumable: ALL_BUT_MAIN });
    expect(await status(cp)).toBe('available');
    expect(await count(`protect:${V1}:main`)).toBe(1);
    const polls = (await calls()).filter((c) => c.at === `protect:${V1}:poll`);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(polls.map((p) => p.pid)).size).toBe(2);
    for (const p of polls) expect(p.handle).toEqual({ job: 'v1-job' });
  }, 60_000);

  it('restore: interrupted in a resumable hook, the restore resumes to success with every resource reported', async () => {
    const cp = await protect();
    await runFixture({});
    expect(await status(cp)).toBe('available');
    const checkpoint = (await checkpoints.getCheckpoint(store.db, cp))!;
    const r = await engine.restore({ projectId: 'demo', provider, checkpoint, restoreTarget: null, parameters: {} });
    await crashThenResume(`restore:${S1}:complete`, { resumable: HOOKS });
    const restore = await store.db.selectFrom('restores').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow();
    expect(restore.status).toBe('success');
    expect(Object.keys(JSON.parse(restore.resources_status))).toHaveLength(6);
    expect(await count(`restore:${S1}:complete`)).toBe(2);
  }, 60_000);

  it('delete: interrupted in a non-resumable hook, the checkpoint ends error-deleting with the reason, never deleting', async () => {
    const cp = await protect();
    await runFixture({});
    await engine.deleteCheckpoint(provider, (await checkpoints.getCheckpoint(store.db, cp))!);
    expect(await status(cp)).toBe('deleting');
    await crashThenResume(`delete:${LAB.project}#p:main`, { resumable: ALL_BUT_MAIN });
    expect(await status(cp)).toBe('error-deleting');
    const op = await latestOperation(store.db, { checkpointId: cp });
    expect(op?.kind).toBe('delete');
    expect(op?.error).toMatch(/^Lab::Test::\w+ \w+ \(.+\): main failed: interrupted/);
    const pMain = (await getTasks(store.db, op!.id)).find((t) => t.resource_key === `${LAB.project}#p` && t.hook === 'main');
    expect(pMain?.state).toBe('failed');
    expect((await operationLogs.getLog(store.db, op!.log_id!))?.status).toBe('error-deleting');
  }, 60_000);

  it('copy: interrupted in a resumable hook, the copy resumes to available with copy_status finished; a non-resumable one ends error', async () => {
    const cp = await protect();
    await runFixture({});
    const offsite = { id: randomUUID(), plugins: ['hoard.io/crash'] };
    const source = (await checkpoints.getCheckpoint(store.db, cp))!;
    const [pair] = await engine.copy({ projectId: 'demo', source: provider, destination: offsite, checkpoints: [source] });
    expect(await status(pair!.copy)).toBe('wait_copying');
    await crashThenResume(`copy:${V1}:main`, { resumable: HOOKS });
    const copy = (await checkpoints.getCheckpoint(store.db, pair!.copy))!;
    expect(copy.status).toBe('available');
    expect(copy.providerId).toBe(offsite.id);
    expect(copy.extraInfo).toMatchObject({ copy_status: 'finished', copy_from: { provider_id: provider.id, checkpoint_id: cp } });
    expect(await count(`copy:${V1}:main`)).toBe(2);
    const op = await latestOperation(store.db, { checkpointId: pair!.copy });
    expect((await operationLogs.getLog(store.db, op!.log_id!))).toMatchObject({ operationType: 'copy', status: 'available' });

    const [second] = await engine.copy({ projectId: 'demo', source: provider, destination: offsite, checkpoints: [source] });
    await crashThenResume(`copy:${V1}:main`, { resumable: ALL_BUT_MAIN });
    const failed = (await checkpoints.getCheckpoint(store.db, second!.copy))!;
    expect(failed.status).toBe('error');
    expect(failed.extraInfo).toMatchObject({ copy_status: 'error' });
    expect((await latestOperation(store.db, { checkpointId: second!.copy }))?.error).toMatch(/main failed: interrupted/);
  }, 60_000);

  it('delete: a resumable delete resumes to deleted', async () => {
    const cp = await protect();
    await runFixture({});
    await engine.deleteCheckpoint(provider, (await checkpoints.getCheckpoint(store.db, cp))!);
    await crashThenResume(`delete:${V1}:main`, { resumable: HOOKS });
    expect(await status(cp)).toBe('deleted');
  }, 60_000);
});
