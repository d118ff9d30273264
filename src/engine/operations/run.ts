/**
 * runOperation carries one claimed operation to its end, by phase: load the journal, recover
 * interrupted tasks, run the task DAG, then either succeed or fail → compensate → end. Each phase
 * reads what it needs from the journal, so a new owner after a crash enters at the right phase.
 * Contract: the caller holds the operation's lease; on `drained` the operation is left for the next
 * owner (nothing was finalized); errors other than LeaseLost propagate after the run stopped.
 */
import type { HookName } from '../../plugins/sdk/index.js';
import type { TaskRow } from '../../store/operations.js';
import { getOperation, getStartedTasks } from '../../store/operations.js';
import { taskDag } from '../hooks/order.js';
import { moveOperation } from '../journal/index.js';
import { runDag } from '../scheduler/index.js';
import { compensateOwed } from './compensate.js';
import { beginSubject, finishSubject, type Outcome } from './finish.js';
import { messageOf } from './invoke.js';
import { load } from './model.js';
import { recover } from './recover.js';
import { newRun, type Run, type RunDeps } from './run-state.js';
import { failureReason, reportRemaining } from './statuses.js';
import { runTask, slotLane } from './task.js';

/** RunEnd says how a run stopped: finished (done or error), or drained and left for another owner. */
export type RunEnd = 'finished' | 'drained';

/** runOperation runs operation `id`; `drain` stops it gracefully, `cancel` also aborts its hooks. */
export async function runOperation(deps: RunDeps, id: string, drain: AbortSignal, cancel: AbortController): Promise<RunEnd> {
  const opRow = await getOperation(deps.store.db, id);
  if (!opRow || opRow.status === 'done' || opRow.status === 'error') return 'finished';
  const run = await prepare(deps, id, cancel);
  if (typeof run === 'string') return abandon(deps, id, run);
  if (opRow.status === 'pending') await moveOperation(deps.writer, id, 'begin', {}, (trx) => beginSubject(trx, opRow, new Date().toISOString()));
  if (opRow.status !== 'compensating') {
    const outcome = await execute(run, drain);
    if (outcome === 'drained') return 'drained';
    if (outcome.ok) return succeed(run);
    await moveOperation(deps.writer, id, 'failed', { error: outcome.reason });
  }
  return end(run);
}

/** prepare loads the journal into a Run, or answers why the operation cannot run at all. */
async function prepare(deps: RunDeps, id: string, cancel: AbortController): Promise<Run | string> {
  const opRow = (await getOperation(deps.store.db, id))!;
  try {
    const op = load(opRow, await getStartedTasks(deps.store.db, id));
    return newRun(deps, op, taskDag(op.graph), progressOf(op.started.values()), cancel);
  } catch (err) {
    return `the operation cannot be run: ${messageOf(err)}`;
  }
}

async function execute(run: Run, drain: AbortSignal): Promise<Outcome | 'drained'> {
  // A task already failed means a crash came between its failure and the operation's: do not run it again.
  const stuck = (await recover(run)) ?? firstFailed(run);
  if (stuck) return { ok: false, reason: failureReason(run, stuck.key, stuck.hook) };
  const r = await runDag({
    count: run.dag.count,
    successors: run.dag.successors,
    done: (i) => run.rows[i]!.state === 'done',
    run: (i, signal) => runTask(run, i, signal),
    policy: run.op.kind === 'protect' ? 'abort' : 'continue',
    lane: (i) => slotLane(run, i),
    laneWindow: 2 * Math.min(run.deps.options.concurrency.global, run.deps.options.concurrency.perPlugin),
    drain,
  });
  if (r.error !== undefined) throw r.error;
  if (r.drained) return 'drained';
  const first = r.failed[0];
  if (first === undefined) return { ok: true };
  const t = run.dag.task(first);
  return { ok: false, reason: failureReason(run, t.key, t.hook) };
}

async function succeed(run: Run): Promise<RunEnd> {
  const { op, deps } = run;
  await reportRemaining(run, 'the restore succeeded');
  if (op.kind === 'protect' || op.kind === 'copy') await deps.sink.seal({ checkpointId: op.row.checkpoint_id!, resourceGraph: op.row.graph, status: 'available' });
  if (op.kind === 'delete') await deps.sink.discard(op.row.checkpoint_id!);
  await moveOperation(deps.writer, op.row.id, 'succeed', {}, (trx) => finishSubject(trx, op.row, op.kind, { ok: true }, new Date().toISOString()));
  return 'finished';
}

async function end(run: Run): Promise<RunEnd> {
  const { op, deps } = run;
  const reason = (await getOperation(deps.store.db, op.row.id))?.error ?? 'the operation failed';
  const undoFailures = await compensateOwed(run);
  await reportRemaining(run, reason);
  const full = undoFailures.length ? `${reason}; also ${undoFailures.join('; ')}` : reason;
  await moveOperation(deps.writer, op.row.id, 'end', { error: full }, (trx) => finishSubject(trx, op.row, op.kind, { ok: false, reason: full }, new Date().toISOString()));
  return 'finished';
}

async function abandon(deps: RunDeps, id: string, reason: string): Promise<RunEnd> {
  const opRow = (await getOperation(deps.store.db, id))!;
  const kind = opRow.kind as Run['op']['kind'];
  await moveOperation(deps.writer, id, 'abandon', { error: reason }, (trx) => finishSubject(trx, opRow, kind, { ok: false, reason }, new Date().toISOString()));
  return 'finished';
}

function firstFailed(run: Run): { key: string; hook: HookName } | undefined {
  for (const t of run.rows) if (t.state === 'failed') return { key: t.resource_key, hook: t.hook as HookName };
  return undefined;
}

function progressOf(tasks: Iterable<TaskRow>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const t of tasks) if (t.progress) out.set(t.resource_key, { ...out.get(t.resource_key), ...JSON.parse(t.progress) });
  return out;
}

