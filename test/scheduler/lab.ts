/**
 * schedulerLab composes real Hoard services (SQLite file or a PostgreSQL schema of their own) under a
 * fake clock, with plans on the No-Op provider, so scheduler tests move time instead of waiting for it.
 * The protection role's part (a checkpoint leaving `protecting`) is done by finishCheckpoints, so a
 * test decides when a plan stops being busy.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { defaultConfig, NOOP_PROVIDER_ID, type Config } from '../../src/config/index.js';
import { authenticatorFor } from '../../src/roles/api.js';
import type { Caller } from '../../src/model/caller.js';
import { DIRECTORY_TYPE, directoryId } from '../../src/plugins/file-tree/index.js';
import { compose, type Hoard } from '../../src/roles/compose.js';
import { createScheduler, type RunEvent, type Scheduler, type SchedulerDeps } from '../../src/services/scheduler/index.js';
import { checkpoints, operationLogs, tokens, type CheckpointRecord } from '../../src/store/index.js';
import type { OperationLogRecord } from '../../src/store/operation-logs.js';
import { listRuns, type ScheduleRunRecord } from '../../src/store/schedule-runs.js';
import { storedTime, type Clock } from '../../src/util/clock.js';
import { dropSchema, PG_URL } from '../helpers/hoard.js';

/** FakeClock is a settable Clock. */
export class FakeClock implements Clock {
  constructor(private t: number) {}
  now(): Date { return new Date(this.t); }
  set(iso: string): void { this.t = Date.parse(iso); }
}

export const caller: Caller = { userId: 'u-lab', projectId: 'lab', roles: ['member'], isAdmin: false };

/** LabApi is the real API (Fastify on a loopback port) over a lab's Hoard, so its clock is the lab's. */
export interface LabApi {
  readonly url: string;
  /** token creates a member token of `project` (default: the lab's). */
  token(project?: string): Promise<string>;
  /** call sends JSON with X-Auth-Token and parses the answer. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; body: any; text: string }>;
}

export interface Lab {
  readonly clock: FakeClock;
  readonly hoard: Hoard;
  /** another composes a second Hoard (its own connections) on the same database, as another process would. */
  another(): Promise<Hoard>;
  scheduler(h?: Hoard, extra?: Partial<SchedulerDeps>): Scheduler & { events: RunEvent[] };
  /** operation creates a started plan, an hourly trigger and a protect operation on them. */
  operation(opts?: { misfire?: 'skip' | 'run-once'; planId?: string; pattern?: string; window?: number; type?: 'protect' | 'retention_protect'; definition?: Record<string, unknown> }): Promise<{ id: string; planId: string; triggerId: string }>;
  checkpointsOf(planId: string): Promise<CheckpointRecord[]>;
  /** logsOf lists the scheduler's records of an operation's runs (not the protect logs of its checkpoints). */
  logsOf(operationId: string): Promise<OperationLogRecord[]>;
  runsOf(operationId: string): Promise<ScheduleRunRecord[]>;
  finishCheckpoints(): Promise<void>;
  /** serve starts the API on the lab's Hoard (closed with the lab). */
  serve(): Promise<LabApi>;
  close(): Promise<void>;
}

export async function schedulerLab(db: 'sqlite' | 'postgres', start = '2030-01-01T00:00:30Z', configure: (c: Config) => Config = (c) => c): Promise<Lab> {
  const clock = new FakeClock(Date.parse(start));
  const dataDir = await mkdtemp(join(tmpdir(), 'hoard-sched-'));
  const root = join(dataDir, 'root');
  await mkdir(join(root, 'data'), { recursive: true });
  const schema = db === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const base = defaultConfig(dataDir);
  const config = configure({ ...base, database: { url: schema ? PG_URL : '' }, protectables: { directory: { roots: [root] } }, quotas: { plans: -1, checkpoints: -1 } });
  const open = () => compose(config, { clock, ...(schema ? { pgSchema: schema } : {}) });
  const hoard = await open();
  const others: Hoard[] = [];
  const apps: FastifyInstance[] = [];
  const dir = join(root, 'data');
  const svc = hoard.services;

  return {
    clock, hoard,
    async another() { const h = await open(); others.push(h); return h; },
    scheduler(h = hoard, extra = {}) {
      const events: RunEvent[] = [];
      // Jitter of at most 30 s, so a test that moves the clock a minute past a due time sees the run.
      const s = createScheduler({ store: h.store, clock, checkpoints: h.services.checkpoints, onRun: (e) => events.push(e), options: { jitter: { maxMs: 30_000, windowFraction: 0.25 } }, ...extra });
      return Object.assign(s, { events });
    },
    async operation(opts = {}) {
      let planId = opts.planId;
      if (!planId) {
        const plan = await svc.plans.create(caller, { name: 'p', provider_id: NOOP_PROVIDER_ID, resources: [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }] });
        await svc.plans.update(caller, plan.id, { status: 'started' });
        planId = plan.id;
      }
      const trigger = await svc.triggers.create(caller, { name: 't', type: 'time', properties: { format: 'crontab', pattern: opts.pattern ?? '0 * * * *', window: opts.window ?? 900 } });
      const op = await svc.scheduledOperations.create(caller, {
        name: 'op', operation_type: opts.type ?? 'protect', trigger_id: trigger.id,
        operation_definition: { provider_id: NOOP_PROVIDER_ID, plan_id: planId, ...(opts.misfire ? { misfire: opts.misfire } : {}), ...(opts.definition ?? {}) },
      });
      return { id: op.id, planId, triggerId: trigger.id };
    },
    async checkpointsOf(planId) {
      return checkpoints.listCheckpoints(hoard.store.db, { limit: 10_000, sort: [{ key: 'created_at', dir: 'asc' }, { key: 'id', dir: 'asc' }], filters: [{ op: 'eq', column: 'plan_id', value: planId }] } as never);
    },
    async logsOf(operationId) {
      const rows = await hoard.store.db.selectFrom('operation_logs').select('id').where('scheduled_operation_id', '=', operationId).orderBy('created_at').orderBy('id').execute();
      const logs = await Promise.all(rows.map(async (r) => (await operationLogs.getLog(hoard.store.db, r.id))!));
      // The run records only, should any other log ever name the operation.
      return logs.filter((l) => l.extraInfo?.created_by === 'scheduled_operation');
    },
    runsOf: (operationId) => listRuns(hoard.store.db, operationId),
    async finishCheckpoints() {
      const rows = await hoard.store.db.selectFrom('checkpoints').select('id').where('status', '=', 'protecting').execute();
      for (const r of rows) await checkpoints.setCheckpointStatus(hoard.store.db, r.id, ['protecting'], 'available', storedTime(clock.now()));
    },
    async serve() {
      const app = await buildApp({ services: hoard.services, auth: authenticatorFor(hoard) });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      return {
        url,
        async token(project = caller.projectId) {
          const now = storedTime(new Date());
          await tokens.ensureProject(hoard.store.db, project, now);
          return (await tokens.createToken(hoard.store.db, { projectId: project, userId: `u-${project}`, roles: ['member'], description: 'lab', createdAt: now, expiresAt: null })).token;
        },
        async call(method, path, o = {}) {
          const headers: Record<string, string> = o.token ? { 'X-Auth-Token': o.token } : {};
          if (o.body !== undefined) headers['Content-Type'] = 'application/json';
          const res = await fetch(url + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
          const text = await res.text();
          let body: unknown;
          try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
          return { status: res.status, body, text };
        },
      };
    },
    async close() {
      for (const app of apps) await app.close();
      for (const h of others) await h.close();
      await hoard.close();
      if (process.env.HOARD_KEEP_TEST_DATA) {
        console.error(`kept scheduler test data in ${dataDir}${schema ? ` and PostgreSQL schema ${schema}` : ''}`);
        return;
      }
      await rm(dataDir, { recursive: true, force: true });
      if (schema) await dropSchema(schema);
    },
  };
}
