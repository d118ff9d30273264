/**
 * The operation journal (ARCHITECTURE decision 4): every task and operation state change, persisted as
 * it happens, one named function per transition, each applied atomically by the group-commit writer
 * behind the lease fence. Invariants: a task never leaves `done` except to `compensated`; a transition
 * the table does not allow is refused (IllegalTransition) and changes nothing; writes commit in call order.
 */
import type { Kysely } from 'kysely';
import type { Json, Progress } from '../../plugins/sdk/index.js';
import type { Database, Store } from '../../store/index.js';
import { mergeNewResources, setOperationStatus, setRestoreResource, updateTask, type OperationRow, type TaskKey, type TaskRow } from '../../store/operations.js';
import { OPERATION_TRANSITIONS, TASK_TRANSITIONS, type OperationTransition, type TaskTransition } from './transitions.js';
import type { JournalEntry, JournalWriter } from './writer.js';

export { IllegalTransition, journalWriter, LeaseLost, type JournalEntry, type JournalWriter } from './writer.js';
export { OPERATION_TRANSITIONS, TASK_TRANSITIONS, type OperationTransition, type TaskTransition } from './transitions.js';
export type { TaskKey } from '../../store/operations.js';

/** PolledHandle is what a polling task persists: the plugin's handle and when polling began (for the timeout). */
export interface PolledHandle { readonly value: Json; readonly since: string }

const iso = () => new Date().toISOString();

function taskEntry(name: TaskTransition, k: TaskKey, set: Partial<TaskRow>): JournalEntry {
  const t = TASK_TRANSITIONS[name];
  const state = t.to === null ? {} : { state: t.to };
  return { operationId: k.operationId, name, apply: (trx) => updateTask(trx, k, t.from, { ...set, ...state, updated_at: iso() }) };
}

/** startTask: pending → running, before the hook is called. */
export const startTask = (w: JournalWriter, k: TaskKey) => w.write(taskEntry('start', k, { started_at: iso() }));
/** skipTask: pending → done for a hook the plugin does not have. */
export const skipTask = (w: JournalWriter, k: TaskKey) => w.write(taskEntry('skip', k, { ended_at: iso() }));
/** awaitPoll: running → polling, persisting the handle before the first poll. */
export const awaitPoll = (w: JournalWriter, k: TaskKey, h: PolledHandle) => w.write(taskEntry('awaitPoll', k, { handle: JSON.stringify(h) }));
/** finishTask: running|polling → done, with the last progress seen. */
export const finishTask = (w: JournalWriter, k: TaskKey, p?: Progress) => w.write(taskEntry('finish', k, { ended_at: iso(), ...(p ? { progress: JSON.stringify(p) } : {}) }));
/** failTask: pending|running|polling → failed with a reason a person can act on. */
export const failTask = (w: JournalWriter, k: TaskKey, reason: string) => w.write(taskEntry('fail', k, { ended_at: iso(), reason }));
/** retryTask: running → running with the next attempt number and the reason of the last one. */
export const retryTask = (w: JournalWriter, k: TaskKey, attempt: number, reason: string) => w.write(taskEntry('retry', k, { attempt, reason }));
/** resumeTask: running → running when a new owner re-runs a resumable hook. */
export const resumeTask = (w: JournalWriter, k: TaskKey, attempt: number) => w.write(taskEntry('resume', k, { attempt, started_at: iso() }));
/** compensateTask: done → compensated once a prepareBegin's undo has run; `reason` notes a failed undo. */
export const compensateTask = (w: JournalWriter, k: TaskKey, reason?: string) => w.write(taskEntry('compensate', k, reason ? { reason } : {}));
/** recordProgress writes a live task's progress (no state change). */
export const recordProgress = (w: JournalWriter, k: TaskKey, p: Progress) => w.write(taskEntry('progress', k, { progress: JSON.stringify(p) }));

/** recordNewResources merges a restore's original→new ids into the operation, for a resumed run. */
export function recordNewResources(w: JournalWriter, store: Store, operationId: string, entries: Record<string, string>): Promise<void> {
  return w.write({ operationId, name: 'newResources', apply: async (trx) => (await mergeNewResources(trx, store.dialect, operationId, entries), true) });
}

/** recordResourceStatus sets a restore's per-resource status (Karbor's resources_status / resources_reason). */
export function recordResourceStatus(w: JournalWriter, store: Store, operationId: string, restoreId: string, s: { key: string; status: string; reason?: string }): Promise<void> {
  return w.write({ operationId, name: 'resourceStatus', apply: async (trx) => (await setRestoreResource(trx, store.dialect, restoreId, s.key, s.status, s.reason, iso()), true) });
}

/**
 * moveOperation applies an operation transition and, in the same transaction, `also` (the checkpoint,
 * restore and operation-log changes that must never disagree with the operation's own status).
 */
export function moveOperation(w: JournalWriter, id: string, name: OperationTransition, set: Partial<OperationRow>, also?: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
  const t = OPERATION_TRANSITIONS[name];
  return w.write({
    operationId: id,
    name,
    async apply(trx) {
      if (!(await setOperationStatus(trx, id, t.from, t.to, { ...set, updated_at: iso() }))) return false;
      await also?.(trx);
      return true;
    },
  });
}
