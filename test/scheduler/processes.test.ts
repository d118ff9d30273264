/**
 * Two real `hoard serve --role scheduler` processes on one PostgreSQL schema, real clock, an
 * every-minute trigger: a run fires once; SIGKILL the process that fired it and the survivor fires the
 * next run. Waits are generous polls; nothing here asserts how fast anything is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schedulerLab, type Lab } from './lab.js';

let lab: Lab;
const procs: ChildProcess[] = [];
const output: string[] = [];

beforeAll(async () => {
  // Karbor's devstack lowers the trigger limits the same way so that a minutely schedule is allowed.
  lab = await schedulerLab('postgres', new Date().toISOString(), (c) => ({ ...c, triggers: { ...c.triggers, minWindow: 20, maxWindow: 30, minInterval: 60 } }));
}, 60_000);
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) { p.kill('SIGTERM'); await new Promise((r) => p.once('exit', r)); }
  await lab?.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, seconds: number): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting ${seconds} s for ${what}\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

it('fires each run once across two processes, and the survivor carries on after a SIGKILL', async () => {
  const { hoard } = lab;
  const schema = (await hoard.store.db.selectNoFrom((eb) => eb.fn<string>('current_schema', []).as('s')).executeTakeFirstOrThrow()).s;
  const root = hoard.config.protectables.directory.roots[0]!;
  const configFile = join(hoard.config.dataDir, 'scheduler.yaml');
  const url = `${hoard.config.database.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  await writeFile(configFile, JSON.stringify({ database: { url }, protectables: { directory: { roots: [root] } } }));
  for (let i = 0; i < 2; i++) {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--role', 'scheduler', '--config', configFile], {
      env: { ...process.env, HOARD_DATA_DIR: hoard.config.dataDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout!.on('data', (d) => output.push(String(d)));
    p.stderr!.on('data', (d) => output.push(String(d)));
    procs.push(p);
  }
  // The lab's clock is fake; these processes use the real one, so the operation is created "now".
  lab.clock.set(new Date().toISOString());
  const op = await lab.operation({ pattern: '* * * * *', window: 20 });

  const first = await until('the first run', async () => (await lab.runsOf(op.id)).find((r) => r.state === 'fired'), 150);
  const pid = Number(first.claimedBy.split(':')[1]);
  // `hoard` relaunches itself once (memory tuning, src/main.ts): the scheduler runs in the launcher's
  // child. SIGKILL goes to the launcher we started, as an operator's kill would, and takes its child along.
  const parent = Number(/^PPid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
  const victim = procs.find((p) => p.pid === pid || p.pid === parent)!;
  expect(victim).toBeDefined();
  victim.kill('SIGKILL');
  await lab.finishCheckpoints();

  const next = await until('a run fired by the survivor', async () =>
    (await lab.runsOf(op.id)).find((r) => r.state === 'fired' && r.dueAt > first.dueAt), 150);
  expect(Number(next.claimedBy.split(':')[1])).not.toBe(pid);
  const runs = await lab.runsOf(op.id);
  expect(new Set(runs.map((r) => r.dueAt)).size).toBe(runs.length);
  const cps = await lab.checkpointsOf(runs[0]!.planId);
  expect(cps.map((c) => c.extraInfo?.due_at).sort()).toEqual(runs.filter((r) => r.state === 'fired').map((r) => r.dueAt).sort());
}, 360_000);
