/**
 * runTask carries one task from its journaled state to done or failed: skip a hook the plugin lacks,
 * start and call it (retrying RetryLater with backoff), persist a returned handle and poll it, or
 * re-attach to a handle a previous owner persisted. Every step is a journal transition first, so a
 * crash anywhere leaves a state the next owner knows how to continue from.
 */
import { Unrecoverable, type HookName, type HookResult, type Json, type ResourceOperation } from '../../plugins/sdk/index.js';
import { reportsResources } from './model.js';
import { awaitPoll, failTask, finishTask, retryTask, skipTask, startTask, type PolledHandle } from '../journal/index.js';
import { pollUntilSettled } from '../poll/index.js';
import { backoffMs, sleep } from '../scheduler/index.js';
import { hookContext } from './context.js';
import { callHook, messageOf, withTimeout } from './invoke.js';
import { pluginOp, row, setRow, taskKey, type Run } from './run-state.js';
import { afterTask } from './statuses.js';

/** runTask resolves true when the task is done, false when it failed (journaled); journal errors reject. */
export async function runTask(run: Run, i: number, signal: AbortSignal): Promise<boolean> {
  const { key, hook } = run.dag.task(i);
  const op = pluginOp(run, key);
  let ok: boolean;
  if (row(run, key, hook).state === 'polling') ok = await slot(run, key, () => reattach(run, key, hook, op, signal));
  else if (!op[hook]) ok = await skip(run, key, hook);
  else ok = await execute(run, key, hook, op, signal);
  if (reportsResources(run.op.kind)) await afterTask(run, key, hook, ok);
  return ok;
}

/** slotLane is the plugin whose slot task `i` will wait for, or undefined when it needs none (a skipped hook). */
export function slotLane(run: Run, i: number): string | undefined {
  const { key, hook } = run.dag.task(i);
  return pluginOp(run, key)[hook] || run.rows[i]!.state === 'polling' ? run.op.plugins.get(key) : undefined;
}

function slot<T>(run: Run, key: string, fn: () => Promise<T>): Promise<T> {
  return run.deps.limits.withSlot(run.op.plugins.get(key)!, fn);
}

async function skip(run: Run, key: string, hook: HookName): Promise<boolean> {
  await skipTask(run.deps.writer, taskKey(run, key, hook));
  setRow(run, key, hook, 'done');
  return true;
}

type CallEnd = { readonly ok: true; readonly result: HookResult } | { readonly ok: false; readonly reason: string };

/**
 * execute runs the hook (with its retries) holding a slot, and journals how it ended after giving the
 * slot back: the slot bounds running hooks, and a ready task taking it at once lets its `start` share a
 * transaction with this `finish`, instead of every task costing two transactions of its own. Nothing
 * that depends on this task runs before the `finish` commits (the DAG waits for this function).
 */
async function execute(run: Run, key: string, hook: HookName, op: ResourceOperation, signal: AbortSignal): Promise<boolean> {
  const end = await slot(run, key, () => startAndCall(run, key, hook, op, signal));
  if (!end.ok) return fail(run, key, hook, end.reason);
  const { result } = end;
  if (!result || !('handle' in result)) return finish(run, key, hook);
  const h: PolledHandle = { value: result.handle, since: new Date().toISOString() };
  await awaitPoll(run.deps.writer, taskKey(run, key, hook), h);
  setRow(run, key, hook, 'polling', { handle: JSON.stringify(h) });
  return slot(run, key, () => poll(run, key, hook, op, h, signal));
}

async function startAndCall(run: Run, key: string, hook: HookName, op: ResourceOperation, signal: AbortSignal): Promise<CallEnd> {
  // A task that got its slot after the run was cancelled fails without calling its hook (a hook called with an aborted signal may still start work).
  if (run.cancel.signal.aborted) return { ok: false, reason: messageOf(run.cancel.signal.reason) };
  if (row(run, key, hook).state === 'pending') {
    await startTask(run.deps.writer, taskKey(run, key, hook));
    setRow(run, key, hook, 'running');
  }
  for (let attempt = row(run, key, hook).attempt; ; attempt++) {
    const out = await callHook(run, key, hook, op, signal);
    if (out.kind === 'done') return { ok: true, result: out.result };
    if (out.kind === 'failed' || attempt >= run.deps.options.retries) return { ok: false, reason: out.reason };
    await retryTask(run.deps.writer, taskKey(run, key, hook), attempt + 1, out.reason);
    setRow(run, key, hook, 'running', { attempt: attempt + 1 });
    if (!(await pause(out.afterMs ?? backoffMs(run.deps.options.retryBackoff, attempt + 1), signal, run.cancel.signal))) return { ok: false, reason: messageOf(signal.reason ?? run.cancel.signal.reason) };
  }
}

async function pause(ms: number, signal: AbortSignal, cancel: AbortSignal): Promise<boolean> {
  if (cancel.aborted) return false;
  return withTimeout((s) => sleep(ms, s.signal), ms + 1000, signal, cancel).then(() => true, () => false);
}

function reattach(run: Run, key: string, hook: HookName, op: ResourceOperation, signal: AbortSignal): Promise<boolean> {
  const h = JSON.parse(row(run, key, hook).handle ?? 'null') as PolledHandle | null;
  if (!h) return fail(run, key, hook, 'its persisted poll handle is missing');
  return poll(run, key, hook, op, h, signal);
}

async function poll(run: Run, key: string, hook: HookName, op: ResourceOperation, h: PolledHandle, signal: AbortSignal): Promise<boolean> {
  if (!op.poll) return fail(run, key, hook, 'the plugin returned a handle to poll but has no poll function');
  const { options } = run.deps;
  const ctx = hookContext(run, key, hook, { signal }, { writes: [], lastProgressAt: 0 });
  const deadline = Date.parse(h.since) + options.pollTimeoutMs;
  try {
    const once = () => withTimeout(() => op.poll!.call(op, ctx, hook, h.value as Json), options.hookTimeoutMs, signal, run.cancel.signal);
    // Lease loss must stop the backoff sleeps too, not only the poll calls.
    const both = AbortSignal.any([signal, run.cancel.signal]);
    await pollUntilSettled(once, { backoff: options.pollBackoff, deadline, signal: both, onProgress: (p) => ctx.progress(p) });
  } catch (err) {
    return fail(run, key, hook, err instanceof Unrecoverable ? err.message : `polling failed: ${messageOf(err)}`);
  }
  return finish(run, key, hook);
}

async function finish(run: Run, key: string, hook: HookName): Promise<boolean> {
  await finishTask(run.deps.writer, taskKey(run, key, hook), run.progress.get(key));
  setRow(run, key, hook, 'done');
  return true;
}

async function fail(run: Run, key: string, hook: HookName, reason: string): Promise<boolean> {
  await failTask(run.deps.writer, taskKey(run, key, hook), reason);
  setRow(run, key, hook, 'failed', { reason });
  return false;
}
