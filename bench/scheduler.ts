/**
 * Scheduler benchmark: 10,000 scheduled operations whose triggers are all due at the same instant (the
 * worst case of "due in the same minute"), each on its own started plan of the No-Op provider, on a fresh
 * SQLite file (or PostgreSQL with HOARD_BENCH_PG_URL). The real scheduler loop, on the system clock,
 * claims each run and submits its checkpoint through the checkpoint use case; the protection role is not
 * started, so this measures claim + submit, not the No-Op protect itself.
 *
 * Prints fire-delay percentiles (submission time minus the run's planned time, due + the operation's
 * jitter), the jitter spread, and whether every run was submitted inside its window. The bar (GOALS.md):
 * every run inside its window, delay p99 ≤ 2 s. It prints, never asserts.
 * Run: npm run bench:scheduler [-- <operations>]   (JITTER_MS=0 shows the no-jitter worst case)
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultConfig, NOOP_PROVIDER_ID, type Config } from '../src/config/index.js';
import { DIRECTORY_TYPE, directoryId } from '../src/plugins/file-tree/index.js';
import { compose } from '../src/roles/compose.js';
import { startScheduler } from '../src/roles/scheduler.js';
import type { RunEvent } from '../src/services/scheduler/index.js';
import { plans, scheduledOperations, tokens, triggers } from '../src/store/index.js';
import { storedTime } from '../src/util/clock.js';
import { newId } from '../src/util/ids.js';

const N = Number(process.argv[2] ?? 10_000);
const PROJECTS = 100;
const WINDOW_S = 900;
const JITTER_MS = process.env.JITTER_MS === undefined ? undefined : Number(process.env.JITTER_MS);

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hoard-bench-sched-'));
  const root = join(dataDir, 'root');
  await mkdir(join(root, 'data'), { recursive: true });
  const pgUrl = process.env.HOARD_BENCH_PG_URL;
  const schema = pgUrl ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const base = defaultConfig(dataDir);
  const config: Config = { ...base, database: { url: pgUrl ?? '' }, protectables: { directory: { roots: [root] } }, quotas: { plans: -1, checkpoints: -1 } };
  const hoard = await compose(config, schema ? { pgSchema: schema } : {});

  const due = nextMinute(new Date(Date.now() + 45_000));
  const setupStart = Date.now();
  await seed(hoard.store.db, join(root, 'data'), due);
  const setupMs = Date.now() - setupStart;

  const events: RunEvent[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((r) => { done = r; });
  const cpuBefore = process.cpuUsage();
  const role = startScheduler(hoard, {
    options: JITTER_MS === undefined ? {} : { jitter: { maxMs: JITTER_MS, windowFraction: 0.25 } },
    onRun: (e) => { events.push(e); if (events.length === N) done(); },
  });
  console.error(`seeded ${N} operations in ${(setupMs / 1000).toFixed(1)} s; due at ${due.toISOString()}, ${((due.getTime() - Date.now()) / 1000).toFixed(0)} s from now`);
  const progress = setInterval(() => console.error(`  … ${events.length}/${N} runs ended`), 5000);
  // Give up when the window closed, or when nothing happened for 30 s after the last jittered run was due.
  const deadline = due.getTime() + WINDOW_S * 1000 + 5000;
  let lastCount = 0;
  let lastChange = Date.now();
  const idle = new Promise<void>((r) => {
    const t = setInterval(() => {
      if (events.length !== lastCount) { lastCount = events.length; lastChange = Date.now(); }
      const quiet = Date.now() > due.getTime() + 60_000 && Date.now() - lastChange > 30_000;
      if (quiet || Date.now() > deadline) { clearInterval(t); r(); }
    }, 1000);
  });
  await Promise.race([all, idle]);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuBefore);
  await role.stop();
  report(events, due, setupMs, cpu, pgUrl ? 'postgres' : 'sqlite');
  await hoard.close();
  await rm(dataDir, { recursive: true, force: true });
  if (schema && pgUrl) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}

/** seed writes N started plans, one daily trigger due at `due` and one protect operation each, across PROJECTS projects. */
async function seed(db: Parameters<typeof plans.insertPlan>[0], dir: string, due: Date): Promise<void> {
  const now = storedTime(new Date());
  const start = new Date(due.getTime() - 3600_000);
  const properties = {
    format: 'crontab' as const, pattern: `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`,
    start_time: start.toISOString().slice(0, 19).replace('T', ' '), window: WINDOW_S, timezone: 'UTC',
  };
  for (let p = 0; p < PROJECTS; p++) await tokens.ensureProject(db, `bench-${p}`, now);
  const per = 500;
  for (let i = 0; i < N; i += per) {
    await db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(N, i + per); j++) {
        const projectId = `bench-${j % PROJECTS}`;
        const planId = newId();
        const triggerId = newId();
        await plans.insertPlan(trx, {
          id: planId, projectId, name: `plan ${j}`, description: null, providerId: NOOP_PROVIDER_ID, status: 'started', parameters: {},
          resources: [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir, extraInfo: null }], createdAt: now, updatedAt: now,
        });
        await triggers.insertTrigger(trx, { id: triggerId, projectId, name: `t ${j}`, type: 'time', properties, createdAt: now, updatedAt: now });
        await scheduledOperations.insertOperation(trx, {
          id: newId(), projectId, userId: `u-${projectId}`, name: `op ${j}`, description: null, operationType: 'protect', triggerId, planId,
          operationDefinition: { provider_id: NOOP_PROVIDER_ID, plan_id: planId }, enabled: true, createdAt: now, updatedAt: now,
        });
      }
    });
  }
}

function report(events: readonly RunEvent[], due: Date, setupMs: number, cpu: NodeJS.CpuUsage, dialect: string): void {
  const fired = events.filter((e) => e.state === 'fired');
  const delays = fired.map((e) => e.endedAt.getTime() - e.fireAt.getTime()).sort((a, b) => a - b);
  const jitters = fired.map((e) => e.fireAt.getTime() - e.dueAt.getTime()).sort((a, b) => a - b);
  const inWindow = fired.filter((e) => e.endedAt.getTime() <= e.dueAt.getTime() + WINDOW_S * 1000).length;
  const pct = (xs: readonly number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil((q / 100) * xs.length) - 1)]! : NaN);
  const others = events.length - fired.length;
  const lastEnd = Math.max(...fired.map((e) => e.endedAt.getTime()));
  console.log(`scheduler bench: ${N} operations due at ${due.toISOString()} (${dialect}, ${cpus().length} cpus, load ${loadavg()[0]!.toFixed(2)})`);
  console.log(`  setup ${(setupMs / 1000).toFixed(1)} s; scheduler CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; last submission ${((lastEnd - due.getTime()) / 1000).toFixed(1)} s after due`);
  console.log(`  fired ${fired.length}/${N}, skipped or failed ${others}, not seen ${N - events.length}`);
  console.log(`  jitter (planned − due) ms: min ${jitters[0] ?? NaN} p50 ${pct(jitters, 50)} max ${jitters.at(-1) ?? NaN}`);
  console.log(`  fire delay (submitted − planned) ms: p50 ${pct(delays, 50)} p95 ${pct(delays, 95)} p99 ${pct(delays, 99)} max ${delays.at(-1) ?? NaN}`);
  console.log(`  every run inside its ${WINDOW_S} s window: ${inWindow === N ? 'yes' : `NO (${inWindow}/${N})`}; bar p99 ≤ 2000 ms: ${pct(delays, 99) <= 2000 ? 'met' : 'NOT met'}`);
}

function nextMinute(d: Date): Date {
  return new Date(Math.ceil(d.getTime() / 60_000) * 60_000);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
