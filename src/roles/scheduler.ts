/**
 * The scheduler role: Karbor's operation engine. Each process running it polls the shared metadata
 * database and fires due scheduled operations; any number may run against one PostgreSQL database
 * (claims make every run fire once), and SQLite serves the embedded single-process default.
 */
import { createScheduler, type RetentionStep, type RunEvent, type Scheduler, type SchedulerOptions } from '../services/scheduler/index.js';
import type { SchedulerConfig } from '../config/index.js';
import type { Clock } from '../util/clock.js';
import { karborPolicy, policyJson } from '../services/retention/index.js';
import type { Hoard } from './compose.js';

/** SchedulerRoleOptions tune the role; tests pass a fake clock and smaller intervals. */
export interface SchedulerRoleOptions {
  readonly clock?: Clock;
  readonly options?: Partial<SchedulerOptions>;
  readonly onRun?: (e: RunEvent) => void;
  /**
   * retention is where retention_protect's second step is wired: services/retention's step, once it
   * exists, belongs here (see RetentionStep). Without it a retention_protect protects only.
   */
  readonly retention?: RetentionStep;
}

/** SchedulerRole is a running scheduler role; stop() lets a running tick finish. */
export interface SchedulerRole {
  readonly scheduler: Scheduler;
  stop(): Promise<void>;
}

/**
 * startScheduler starts the scheduler loop for a composed Hoard, tuned by the configuration's `scheduler`
 * section; `opts.options` (tests, the benchmark) override it.
 */
export function startScheduler(hoard: Hoard, opts: SchedulerRoleOptions = {}): SchedulerRole {
  const scheduler = createScheduler({
    store: hoard.store,
    clock: opts.clock ?? hoard.services.deps.clock,
    checkpoints: hoard.services.checkpoints,
    retention: opts.retention ?? retentionStep(hoard),
    options: { ...schedulerOptions(hoard.config.scheduler), ...opts.options },
    onRun: opts.onRun ?? logRun,
  });
  scheduler.start();
  return { scheduler, stop: () => scheduler.stop() };
}

/** schedulerOptions turns the configuration's scheduler section (seconds) into the scheduler's options (milliseconds). */
export function schedulerOptions(c: SchedulerConfig): Partial<SchedulerOptions> {
  return {
    pollMs: c.tickSeconds * 1000, refreshMs: c.refreshSeconds * 1000, jitter: { maxMs: c.jitter.maxSeconds * 1000, windowFraction: c.jitter.windowFraction },
    misfire: c.misfire, batch: c.batch, concurrency: c.concurrency, slotMs: c.slotSeconds * 1000, staleClaimMs: c.staleClaimSeconds * 1000,
  };
}

/**
 * retentionStep is retention_protect's second step: the operation's own Karbor limits (max_backups,
 * retention_duration) as a retention policy, applied to the plan through the retention use case, which
 * deletes through the checkpoint delete use case and never below the policy's minimum of good ones.
 */
export function retentionStep(hoard: Hoard): RetentionStep {
  return {
    async afterProtect({ caller, operation, checkpoint }) {
      const policy = karborPolicy(operation.operationDefinition);
      if (!policy) return;
      await hoard.services.retention.apply(caller, checkpoint.planId, policyJson(policy), { dryRun: false });
    },
  };
}

/** logRun writes a line for runs that did not simply fire on time; the operation logs hold them all. */
function logRun(e: RunEvent): void {
  if (e.state === 'fired' && e.reason === 'on_time') return;
  const what = e.state === 'fired' ? `fired (${e.reason})` : `${e.state}: ${e.reason}`;
  process.stderr.write(`hoard scheduler: scheduled operation ${e.operationId} due ${e.dueAt.toISOString()} ${what}${e.detail ? ` — ${e.detail}` : ''}\n`);
}
