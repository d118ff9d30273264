/**
 * runOperation carries one claimed operation to its end, by phase: load the journal, recover
 * interrupted tasks, run the task DAG, then either succeed or fail → compensate → end. Each phase
 * reads what it needs from the journal, so a new owner after a crash enters at the right phase.
 * Contract: the caller holds the operation's lease; on `drained` the operation is left for the next
 * owner (nothing was finalized); errors other than LeaseLost propagate after the run stopped.
 *
 * A user's cancel (cancel.ts) is never drained: the run stops starting tasks, its hooks are aborted
 * with the Cancelled reason, and it fails and compensates like any failed run, with the cancel as its
 * reason. Compensation gets the lease signal only, because undoing pre hooks is what a cancel still owes.
 */
import { setMaxListeners } from 'node:events';
import type { HookName } from '../../plugins/sdk/index.js';
import type { TaskRow } from '../../store/operations.js';
import { cancelRequestOf, getOperation, getStartedTasks, type OperationRow } from '../../store/operations.js';
import { taskDag } from '../hooks/order.js';
import { moveOperation } from '../journal/index.js';
import { runDag } from '../scheduler/index.js';
import { cancelReason, endCancelled } from './cancel.js';
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

const NEVER = new AbortController().signal;

/**
 * runOperation runs operation `id`; `drain` stops it gracefully, `cancel` also aborts its hooks (lease
 * lost), and `userCancel` (aborted with a Cancelled reason) ends it in error as the user asked.
 */
export async function runOperation(deps: RunDeps, id: string, drain: AbortSignal, cancel: AbortController, userCancel: AbortSignal = NEVER): Promise<RunEnd> {
  const opRow = await getOperation(deps.store.db, id);
  if (!opRow || opRow.status === 'done' || opRow.status === 'error') return 'finished';
  // A request found on taking the operation (asked before this owner, or while the last one died).
  const asked = cancelRequestOf(opRow);
  if (asked && opRow.status === 'pending') return endUnstarted(deps, opRow, cancelReason(asked));
  const run = await prepare(deps, id, hookController(cancel, userCancel));
  if (typeof run === 'string') return abandon(deps, id, run);
  if (opRow.status === 'pending') await moveOperation(deps.writer, id, 'begin', {}, (trx) => beginSubject(trx, opRow, new Date().toISOString()));
  if (opRow.status !== 'compensating') {
    const outcome = asked ? { ok: false as const, reason: cancelReason(asked) } : await execute(run, drain, userCancel);
    if (outcome === 'drained') return 'drained';
    if (outcome.ok) return succeed(run);
    await moveOperation(deps.writer, id, 'failed', { error: outcome.reason });
  }
  return end({ ...run, cancel });
}

/** hookController is what a run's hooks are aborted by: the lease's controller, or one that also follows `userCancel`. */
function hookController(lease: AbortController, userCancel: AbortSignal): AbortController {
  if (userCancel === NEVER) return lease;
  const c = new AbortController();
  // Every in-flight hook links to this signal (and unlinks when done); that is not a leak.
  setMaxListeners(0, c.signal);
  for (const s of [lease.signal, userCancel]) {
    if (s.aborted) c.abort(s.reason);
    else s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c;
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

async function execute(run: Run, drain: AbortSignal, userCancel: AbortSignal): Promise<Outcome | 'drained'> {
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
    drain: userCancel === NEVER ? drain : AbortSignal.any([drain, userCancel]),
  });
  if (r.error !== undefined) throw r.error;
  // A cancel that came after the last task finished is too late: the work is done and stays done.
  if (userCancel.aborted && (r.drained || r.failed.length > 0)) return { ok: false, reason: messageOf(userCancel.reason) };
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

/** endUnstarted ends a pending operation whose cancel was asked before any hook ran, running none. */
async function endUnstarted(deps: RunDeps, opRow: OperationRow, reason: string): Promise<RunEnd> {
  await moveOperation(deps.writer, opRow.id, 'cancel', { error: reason }, (trx) => endCancelled(trx, deps.store.dialect, opRow, reason, new Date().toISOString()));
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

