/**
 * Compensation: when an operation fails, every resource whose prepareBegin finished and whose complete
 * did not gets its plugin's `compensate` (unquiesce, resume), children before parents. Owed-ness is read
 * from the journal, and the prepareBegin task moves done → compensated right after the undo, so the
 * undo runs once per operation even across crashes (a crash during the undo itself repeats it, which
 * the SDK requires compensate to tolerate).
 */
import { getTasks } from '../../store/operations.js';
import { compensateTask } from '../journal/index.js';
import { hookContext } from './context.js';
import { messageOf, withTimeout } from './invoke.js';
import { describe, taskId } from './model.js';
import { pluginOp, taskKey, type Run } from './run-state.js';

/** compensateOwed runs every owed compensate and returns the reasons of those that failed. */
export async function compensateOwed(run: Run): Promise<string[]> {
  const tasks = new Map((await getTasks(run.deps.store.db, run.op.row.id)).map((t) => [taskId(t.resource_key, t.hook), t]));
  const failures: string[] = [];
  for (const key of run.dag.keys) {
    const owed = tasks.get(taskId(key, 'prepareBegin'))?.state === 'done' && tasks.get(taskId(key, 'complete'))?.state !== 'done';
    if (!owed) continue;
    const failure = await compensateOne(run, key);
    if (failure) failures.push(failure);
  }
  return failures;
}

async function compensateOne(run: Run, key: string): Promise<string | undefined> {
  const op = pluginOp(run, key);
  let failure: string | undefined;
  if (op.compensate) {
    const ctx = hookContext(run, key, 'compensate', run.cancel, { writes: [], lastProgressAt: 0 });
    try {
      await withTimeout(() => op.compensate!.call(op, ctx), run.deps.options.hookTimeoutMs, run.cancel.signal);
    } catch (err) {
      failure = `${describe(ctx.resource)}: compensate failed: ${messageOf(err)}`;
    }
  }
  await compensateTask(run.deps.writer, taskKey(run, key, 'prepareBegin'), failure);
  return failure;
}
