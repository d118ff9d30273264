/**
 * The HookContext a plugin's hook receives: its resource, merged parameters, metadata slot, the shared
 * restore id map, its provider's data handle (whose progress is the hook's), progress and status
 * reporting, and its abort signal. Status writes are journaled in order and awaited before the hook's
 * task is finished, so a finished task never has a status missing.
 *
 * The signal, parameters, metadata slot and data handle are made when a hook first reads them: most
 * hooks read few of them, and making all four for each of a large plan's hook calls cost more than the
 * engine's own bookkeeping. They are own enumerable getters, so spreading a context still copies them.
 */
import type { DataHandle, HookContext, Progress, RestoreTarget } from '../../plugins/sdk/index.js';
import { getCheckpoint } from '../../store/checkpoints.js';
import { restoreDestination } from '../../store/restores.js';
import { recordProgress, recordResourceStatus } from '../journal/index.js';
import { parametersFor, reportsResources, statusSubject } from './model.js';
import { taskKey, type Run } from './run-state.js';

/** HookCall tracks the journal writes one hook call made, to await before finishing its task. */
export interface HookCall {
  readonly writes: Promise<void>[];
  lastProgressAt: number;
}

/** hookContext builds the context of one hook call; `scope.signal` is read only if the hook reads ctx.signal. */
export function hookContext(run: Run, key: string, hook: string, scope: { readonly signal: AbortSignal }, call: HookCall): HookContext {
  const { op, deps } = run;
  const r = op.graph.nodes.get(key)!.resource;
  let parameters: Record<string, unknown> | undefined;
  let metadata: HookContext['metadata'] | undefined;
  let data: DataHandle | undefined;
  const progress = (p: Progress) => reportProgress(run, key, hook, p, call);
  return {
    operation: { id: op.row.id, kind: op.kind, checkpointId: op.row.checkpoint_id!, projectId: op.row.project_id },
    resource: r,
    get parameters() { return (parameters ??= parametersFor(op.parameters, r)); },
    get signal() { return scope.signal; },
    get metadata() {
      return (metadata ??= { ...deps.sink.resource(op.row.checkpoint_id!, key), source: async () => {
        const from = await copySource(run);
        return from ? deps.sink.resource(from.checkpointId, key).get() : undefined;
      } });
    },
    newResources: op.newResources,
    get data() { return (data ??= deps.banks.handle(op.row.provider_id, progress, async () => (await copySource(run))?.providerId)); },
    progress,
    setStatus: (status, reason) => {
      if (!reportsResources(op.kind)) return;
      run.statusSet.add(key);
      const statusKey = `${r.type}#${op.newResources.get(r.id) ?? r.id}`;
      call.writes.push(recordResourceStatus(deps.writer, deps.store, op.row.id, statusSubject(op.row), { key: statusKey, status, ...(reason === undefined ? {} : { reason }) }));
    },
    restoreTarget: () => restoreTargetOf(run),
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

/** CopySource is the checkpoint a copy operation copies, from its destination checkpoint's copy_from. */
interface CopySource { readonly providerId: string; readonly checkpointId: string }

const copySources = new WeakMap<Run, Promise<CopySource | undefined>>();

/** copySource reads (once per run) where a copy operation copies from; undefined for every other kind. */
function copySource(run: Run): Promise<CopySource | undefined> {
  if (run.op.kind !== 'copy') return Promise.resolve(undefined);
  let p = copySources.get(run);
  if (!p) {
    p = getCheckpoint(run.deps.store.db, run.op.row.checkpoint_id!).then((cp) => {
      const from = cp?.extraInfo?.copy_from as { provider_id?: unknown; checkpoint_id?: unknown } | undefined;
      return typeof from?.provider_id === 'string' && typeof from.checkpoint_id === 'string' ? { providerId: from.provider_id, checkpointId: from.checkpoint_id } : undefined;
    });
    copySources.set(run, p);
  }
  return p;
}

const restoreTargets = new WeakMap<Run, Promise<RestoreTarget | undefined>>();

/**
 * restoreTargetOf reads (once per run, when a hook first asks) a restore's target and credentials from
 * the database, where submitRestore put them; undefined for an in-place restore and every other kind.
 * They are held only by this run's memory, never journaled or logged.
 */
function restoreTargetOf(run: Run): Promise<RestoreTarget | undefined> {
  if (run.op.kind !== 'restore' || !run.op.row.restore_id) return Promise.resolve(undefined);
  let p = restoreTargets.get(run);
  if (!p) {
    p = restoreDestination(run.deps.store.db, run.op.row.restore_id).then((d) => (d?.target ? { target: d.target, auth: d.auth } : undefined));
    restoreTargets.set(run, p);
    // A failed read is not cached: the next hook reads again.
    p.catch(() => restoreTargets.delete(run));
  }
  return p;
}
