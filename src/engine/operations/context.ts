/**
 * The HookContext a plugin's hook receives: its resource, merged parameters, metadata slot, the shared
 * restore id map, its provider's data handle (whose progress is the hook's), progress and status reporting, and its abort signal. Status writes are journaled in
 * order and awaited before the hook's task is finished, so a finished task never has a status missing.
 */
import type { HookContext, Progress } from '../../plugins/sdk/index.js';
import { recordProgress, recordResourceStatus } from '../journal/index.js';
import { parametersFor } from './model.js';
import { taskKey, type Run } from './run-state.js';

/** HookCall tracks the journal writes one hook call made, to await before finishing its task. */
export interface HookCall {
  readonly writes: Promise<void>[];
  lastProgressAt: number;
}

/** hookContext builds the context of one hook call. */
export function hookContext(run: Run, key: string, hook: string, signal: AbortSignal, call: HookCall): HookContext {
  const { op, deps } = run;
  const r = op.graph.nodes.get(key)!.resource;
  return {
    operation: { id: op.row.id, kind: op.kind, checkpointId: op.row.checkpoint_id!, projectId: op.row.project_id },
    resource: r,
    parameters: parametersFor(op.parameters, r),
    signal,
    metadata: deps.sink.resource(op.row.checkpoint_id!, key),
    newResources: op.newResources,
    data: deps.banks.handle(op.row.provider_id, (p) => reportProgress(run, key, hook, p, call)),
    progress: (p) => reportProgress(run, key, hook, p, call),
    setStatus: (status, reason) => {
      if (op.kind !== 'restore') return;
      run.statusSet.add(key);
      const statusKey = `${r.type}#${op.newResources.get(r.id) ?? r.id}`;
      call.writes.push(recordResourceStatus(deps.writer, deps.store, op.row.id, op.row.restore_id!, { key: statusKey, status, ...(reason === undefined ? {} : { reason }) }));
    },
  };
}

/** reportProgress keeps a resource's latest progress and journals it at most every progressEveryMs. */
export function reportProgress(run: Run, key: string, hook: string, p: Progress, call: HookCall): void {
  const merged = { ...run.progress.get(key), ...p };
  run.progress.set(key, merged);
  const now = Date.now();
  if (now - call.lastProgressAt < run.deps.options.progressEveryMs) return;
  call.lastProgressAt = now;
  call.writes.push(recordProgress(run.deps.writer, taskKey(run, key, hook), merged));
}
