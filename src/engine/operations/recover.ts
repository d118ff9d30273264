/**
 * Recovery when an owner takes an operation over: a task found `running` was interrupted mid-hook. It
 * is run again only when that is safe — the plugin has no such hook, or lists it in `resumable`.
 * Otherwise the task fails with a reason naming the resource and hook, and the operation fails (and
 * compensates) instead of guessing. `polling` tasks need nothing here: runTask re-attaches to their handle.
 */
import { HOOKS, type HookName } from '../../plugins/sdk/index.js';
import { failTask, resumeTask } from '../journal/index.js';
import { pluginOp, row, setRow, taskKey, type Run } from './run-state.js';

/** recover prepares interrupted tasks; it answers the key and hook of the first one that cannot resume. */
export async function recover(run: Run): Promise<{ key: string; hook: HookName } | undefined> {
  let stuck: { key: string; hook: HookName } | undefined;
  for (const key of run.dag.keys) {
    const op = pluginOp(run, key);
    for (const hook of HOOKS) {
      const r = row(run, key, hook);
      if (r.state !== 'running') continue;
      if (!op[hook] || op.resumable?.includes(hook)) {
        await resumeTask(run.deps.writer, taskKey(run, key, hook), r.attempt + 1);
        setRow(run, key, hook, 'running', { attempt: r.attempt + 1 });
        continue;
      }
      const reason = `interrupted: the worker running it stopped mid-hook, and ${run.op.plugins.get(key)} does not declare ${hook} resumable, so it is not run again`;
      await failTask(run.deps.writer, taskKey(run, key, hook), reason);
      setRow(run, key, hook, 'failed', { reason });
      stuck ??= { key, hook };
    }
  }
  return stuck;
}
