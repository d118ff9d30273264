/**
 * Scheduler benchmark: 10,000 scheduled operations whose triggers are all due at the same instant (the
 * worst case of "due in the same minute"), each on its own started plan of the No-Op provider, on a fresh
 * SQLite file and a fresh PostgreSQL schema. The real scheduler loop, on the system clock, claims each run
 * and submits its checkpoint through the checkpoint use case; the protection role is not started, so this
 * measures claim + submit, not the No-Op protect itself.
 *
 * Each run is its own process (a fresh heap and fresh connections); the parent prints every run, then
 * per backend the medians of fire-delay percentiles (submission time minus the run's planned time, due +
 * the operation's jitter), the scheduler's CPU seconds, how many runs fired inside their window, the load
 * average around the run, and whether the bar of GOALS.md is met: every run inside its window in every
 * repetition, median delay p99 ≤ 2 s. It prints, never asserts.
 *
 * Run: npm run bench:scheduler [-- [--runs 3] [--ops 10000] [--backends sqlite,postgres]]
 *   env: BENCH_RUNS, BENCH_OPS, BENCH_BACKENDS, JITTER_MS (0 shows the no-jitter worst case),
 *        HOARD_BENCH_PG_URL (default HOARD_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { defaultConfig, NOOP_PROVIDER_ID, type Config } from '../src/config/index.js';
import { DIRECTORY_TYPE, directoryId } from '../src/plugins/file-tree/index.js';
import { compose } from '../src/roles/compose.js';
import { startScheduler } from '../src/roles/scheduler.js';
import type { RunEvent } from '../src/services/scheduler/index.js';
import { plans, scheduledOperations, tokens, triggers } from '../src/store/index.js';
import { storedTime } from '../src/util/clock.js';
import { newId } from '../src/util/ids.js';

type Backend = 'sqlite' | 'postgres';

const PROJECTS = 100;
const WINDOW_S = 900;
const BAR_P99_MS = 2000;
/** LEAD_MS: the instant all runs are due is the first whole minute at least this far after seeding. */
const LEAD_MS = 15_000;
const JITTER_MS = process.env.JITTER_MS === undefined ? undefined : Number(process.env.JITTER_MS);
const PG_URL = process.env.HOARD_BENCH_PG_URL ?? process.env.HOARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Result is one run's figures, sent by the child as one JSON line. */
interface Result {
  readonly backend: Backend;
  readonly ops: number;
  readonly fired: number;
  readonly others: number;
  readonly inWindow: number;
  readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number;
  readonly jitterMaxMs: number;
  readonly lastAfterDueS: number;
  readonly cpuS: number;
  readonly setupS: number;
  readonly loadStart: number;
  readonly loadEnd: number;
}

const RESULT = 'RESULT ';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string' }, ops: { type: 'string' }, backends: { type: 'string' }, child: { type: 'string' } },
  });
  const ops = Number(values.ops ?? positionals[0] ?? process.env.BENCH_OPS ?? 10_000);
  if (values.child) {
    const r = await runOnce(values.child as Backend, ops);
    process.stdout.write(`${RESULT}${JSON.stringify(r)}\n`);
    return;
  }
  const runs = Number(values.runs ?? process.env.BENCH_RUNS ?? 3);
  const backends = (values.backends ?? process.env.BENCH_BACKENDS ?? 'sqlite,postgres').split(',').map((b) => b.trim()) as Backend[];
  if (!Number.isInteger(ops) || ops < 1 || !Number.isInteger(runs) || runs < 1) throw new Error('--ops and --runs must be positive integers');
  for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend ${b}; use sqlite, postgres`);
  console.log(`scheduler bench: ${ops} operations due at one instant, window ${WINDOW_S} s, ${runs} run(s) per backend, ${cpus().length} cpus${JITTER_MS === undefined ? '' : `, JITTER_MS=${JITTER_MS}`}`);
  const verdicts: string[] = [];
  for (const backend of backends) {
    if (backend === 'postgres' && !(await reachable(PG_URL))) {
      verdicts.push(`postgres: not run (no PostgreSQL at ${PG_URL}; set HOARD_BENCH_PG_URL)`);
      continue;
    }
    const results: Result[] = [];
    for (let i = 1; i <= runs; i++) {
      const r = await child(backend, ops);
      results.push(r);
      console.log(`  ${backend} run ${i}/${runs}: ${line(r)}`);
    }
    verdicts.push(summary(backend, results));
  }
  console.log('');
  for (const v of verdicts) console.log(v);
}

/** child runs one repetition in a fresh process and answers its result line. */
function child(backend: Backend, ops: number): Promise<Result> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, self, '--child', backend, '--ops', String(ops)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => {
      const json = out.split('\n').find((l) => l.startsWith(RESULT));
      if (code !== 0 || !json) reject(new Error(`${backend} run exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(json.slice(RESULT.length)) as Result);
    });
  });
}

function line(r: Result): string {
  return `delay p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} max ${r.max} ms; inside window ${r.inWindow}/${r.ops}; fired ${r.fired}, skipped/failed ${r.others}; `
    + `CPU ${r.cpuS.toFixed(1)} s; last submission ${r.lastAfterDueS.toFixed(0)} s after due (jitter ≤ ${(r.jitterMaxMs / 1000).toFixed(0)} s); load ${r.loadStart.toFixed(1)}→${r.loadEnd.toFixed(1)}`;
}

/** summary is a backend's medians over its runs and its verdict against the bar. */
function summary(backend: Backend, rs: readonly Result[]): string {
  const med = (f: (r: Result) => number) => median(rs.map(f));
  const allInside = rs.every((r) => r.inWindow === r.ops);
  const p99 = med((r) => r.p99);
  const met = allInside && p99 <= BAR_P99_MS;
  return `${backend}: median of ${rs.length} run(s): delay p50 ${med((r) => r.p50)} p95 ${med((r) => r.p95)} p99 ${p99} max ${med((r) => r.max)} ms; `
    + `inside window ${rs.map((r) => `${r.inWindow}/${r.ops}`).join(', ')}; CPU ${med((r) => r.cpuS).toFixed(1)} s; `
    + `load ${rs.map((r) => `${r.loadStart.toFixed(1)}→${r.loadEnd.toFixed(1)}`).join(', ')}\n`
    + `  GOALS bar (every run inside its window, delay p99 ≤ ${BAR_P99_MS} ms): ${met ? 'MET' : 'NOT MET'}`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** runOnce seeds a fresh store, runs the scheduler role until every run ended (or gave up), and measures. */
async function runOnce(backend: Backend, n: number): Promise<Result> {
  const loadStart = loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'hoard-bench-sched-'));
  const root = join(dataDir, 'root');
  await mkdir(join(root, 'data'), { recursive: true });
  const schema = backend === 'postgres' ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const base = defaultConfig(dataDir);
  const config: Config = { ...base, database: { url: schema ? PG_URL : '' }, protectables: { directory: { roots: [root] } }, quotas: { plans: -1, checkpoints: -1 } };
  const hoard = await compose(config, schema ? { pgSchema: schema } : {});
  try {
    const setupStart = Date.now();
    const due = nextMinute(new Date(Date.now() + LEAD_MS + n / 2));
    await seed(hoard.store.db, join(root, 'data'), due, n);
    const setupMs = Date.now() - setupStart;
    const events = await fire(hoard, due, n);
    return { ...measure(events.list, due, n, events.cpu), backend, setupS: setupMs / 1000, loadStart, loadEnd: loadavg()[0]! };
  } finally {
    await hoard.close();
    await rm(dataDir, { recursive: true, force: true });
    if (schema) await dropSchema(schema);
  }
}

/** fire runs the scheduler role until all n runs ended, the window closed, or nothing happened for 30 s after the last jittered run was due. */
async function fire(hoard: Awaited<ReturnType<typeof compose>>, due: Date, n: number): Promise<{ list: RunEvent[]; cpu: NodeJS.CpuUsage }> {
  const list: RunEvent[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((r) => { done = r; });
  const cpuBefore = process.cpuUsage();
  const role = startScheduler(hoard, {
    ...(JITTER_MS === undefined ? {} : { options: { jitter: { maxMs: JITTER_MS, windowFraction: 0.25 } } }),
    onRun: (e) => { list.push(e); if (list.length === n) done(); },
  });
  const progress = setInterval(() => process.stderr.write(`  … ${list.length}/${n} runs ended\n`), 30_000);
  const deadline = due.getTime() + WINDOW_S * 1000 + 5000;
  let lastCount = 0;
  let lastChange = Date.now();
  let poll: NodeJS.Timeout | undefined;
  const idle = new Promise<void>((r) => {
    poll = setInterval(() => {
      if (list.length !== lastCount) { lastCount = list.length; lastChange = Date.now(); }
      const quiet = Date.now() > due.getTime() + 60_000 && Date.now() - lastChange > 30_000;
      if (quiet || Date.now() > deadline) r();
    }, 1000);
  });
  await Promise.race([all, idle]);
  clearInterval(poll);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuBefore);
  await role.stop();
  return { list, cpu };
}

function measure(events: readonly RunEvent[], due: Date, n: number, cpu: NodeJS.CpuUsage): Omit<Result, 'backend' | 'setupS' | 'loadStart' | 'loadEnd'> {
  const fired = events.filter((e) => e.state === 'fired');
  const delays = fired.map((e) => e.endedAt.getTime() - e.fireAt.getTime()).sort((a, b) => a - b);
  const jitters = fired.map((e) => e.fireAt.getTime() - e.dueAt.getTime());
  const pct = (q: number) => (delays.length ? delays[Math.min(delays.length - 1, Math.ceil((q / 100) * delays.length) - 1)]! : NaN);
  return {
    ops: n, fired: fired.length, others: events.length - fired.length,
    inWindow: fired.filter((e) => e.endedAt.getTime() <= e.dueAt.getTime() + WINDOW_S * 1000).length,
    p50: pct(50), p95: pct(95), p99: pct(99), max: delays.at(-1) ?? NaN,
    jitterMaxMs: Math.max(0, ...jitters),
    lastAfterDueS: (Math.max(...fired.map((e) => e.endedAt.getTime())) - due.getTime()) / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

/** seed writes n started plans, one daily trigger due at `due` and one protect operation each, across PROJECTS projects. */
async function seed(db: Parameters<typeof plans.insertPlan>[0], dir: string, due: Date, n: number): Promise<void> {
  const now = storedTime(new Date());
  const start = new Date(due.getTime() - 3600_000);
  const properties = {
    format: 'crontab' as const, pattern: `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`,
    start_time: start.toISOString().slice(0, 19).replace('T', ' '), window: WINDOW_S, timezone: 'UTC',
  };
  for (let p = 0; p < PROJECTS; p++) await tokens.ensureProject(db, `bench-${p}`, now);
  const per = 500;
  for (let i = 0; i < n; i += per) {
    await db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(n, i + per); j++) {
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

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

function nextMinute(d: Date): Date {
  return new Date(Math.ceil(d.getTime() / 60_000) * 60_000);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
