/**
 * The operation journal (ARCHITECTURE decision 4): every task and operation state change, persisted as
 * it happens, one named function per transition, each applied atomically by the group-commit writer
 * behind the lease fence. Invariants: a task never leaves `done` except to `compensated`; a transition
 * the table does not allow is refused (IllegalTransition) and changes nothing; writes commit in call order.
 */
import type { Kysely } from 'kysely';
import type { Json, Progress } from '../../plugins/sdk/index.js';
import type { Database, Store } from '../../store/index.js';
import { mergeNewResources, setOperationStatus, setRestoreResource, type OperationRow, type TaskKey, type TaskRow } from '../../store/operations.js';
import { OPERATION_TRANSITIONS, TASK_TRANSITIONS, type OperationTransition, type TaskTransition } from './transitions.js';
import type { JournalWriter, TaskEntry } from './writer.js';

export { IllegalTransition, journalWriter, LeaseLost, type ApplyEntry, type JournalEntry, type JournalWriter, type TaskEntry } from './writer.js';
export { OPERATION_TRANSITIONS, TASK_TRANSITIONS, type OperationTransition, type TaskTransition } from './transitions.js';
export type { TaskKey } from '../../store/operations.js';

/** PolledHandle is what a polling task persists: the plugin's handle and when polling began (for the timeout). */
export interface PolledHandle { readonly value: Json; readonly since: string }

const iso = () => new Date().toISOString();

type Stamp = TaskEntry['stamp'];

// A transition that sets only the state shares one frozen `set`, which lets the writer group such entries by identity.
const STATE_ONLY = Object.fromEntries(Object.entries(TASK_TRANSITIONS).map(([name, t]) => [name, Object.freeze(t.to === null ? {} : { state: t.to })])) as Record<TaskTransition, Partial<TaskRow>>;

function taskEntry(name: TaskTransition, k: TaskKey, stamp: Stamp, extra?: Partial<TaskRow>): TaskEntry {
  const t = TASK_TRANSITIONS[name];
  const set = extra === undefined ? STATE_ONLY[name] : t.to === null ? extra : { ...extra, state: t.to };
  return { kind: 'task', operationId: k.operationId, name, task: k, from: t.from, set, stamp };
}

const STARTED: Stamp = ['started_at'];
const ENDED: Stamp = ['ended_at'];
const NONE: Stamp = [];

/** startTask: pending → running, before the hook is called. */
export const startTask = (w: JournalWriter, k: TaskKey) => w.write(taskEntry('start', k, STARTED));
/** skipTask: pending → done for a hook the plugin does not have. */
export const skipTask = (w: JournalWriter, k: TaskKey) => w.write(taskEntry('skip', k, ENDED));
/** awaitPoll: running → polling, persisting the handle before the first poll. */
export const awaitPoll = (w: JournalWriter, k: TaskKey, h: PolledHandle) => w.write(taskEntry('awaitPoll', k, NONE, { handle: JSON.stringify(h) }));
/** finishTask: running|polling → done, with the last progress seen. */
export const finishTask = (w: JournalWriter, k: TaskKey, p?: Progress) => w.write(taskEntry('finish', k, ENDED, p ? { progress: JSON.stringify(p) } : undefined));
/** failTask: pending|running|polling → failed with a reason a person can act on. */
export const failTask = (w: JournalWriter, k: TaskKey, reason: string) => w.write(taskEntry('fail', k, ENDED, { reason }));
/** retryTask: running → running with the next attempt number and the reason of the last one. */
export const retryTask = (w: JournalWriter, k: TaskKey, attempt: number, reason: string) => w.write(taskEntry('retry', k, NONE, { attempt, reason }));
/** resumeTask: running → running when a new owner re-runs a resumable hook. */
export const resumeTask = (w: JournalWriter, k: TaskKey, attempt: number) => w.write(taskEntry('resume', k, STARTED, { attempt }));
/** compensateTask: done → compensated once a prepareBegin's undo has run; `reason` notes a failed undo. */
export const compensateTask = (w: JournalWriter, k: TaskKey, reason?: string) => w.write(taskEntry('compensate', k, NONE, reason ? { reason } : undefined));
/** recordProgress writes a live task's progress (no state change). */
export const recordProgress = (w: JournalWriter, k: TaskKey, p: Progress) => w.write(taskEntry('progress', k, NONE, { progress: JSON.stringify(p) }));

/** recordNewResources merges a restore's original→new ids into the operation, for a resumed run. */
export function recordNewResources(w: JournalWriter, store: Store, operationId: string, entries: Record<string, string>): Promise<void> {
  return w.write({ kind: 'apply', operationId, name: 'newResources', apply: async (trx) => (await mergeNewResources(trx, store.dialect, operationId, entries), true) });
}

/** recordResourceStatus sets a restore's or verification's per-resource status (Karbor's resources_status / resources_reason). */
export function recordResourceStatus(w: JournalWriter, store: Store, operationId: string, subject: { table: 'restores' | 'verifications'; id: string }, s: { key: string; status: string; reason?: string }): Promise<void> {
  return w.write({ kind: 'apply', operationId, name: 'resourceStatus', apply: async (trx) => (await setRestoreResource(trx, store.dialect, subject.id, s.key, s.status, s.reason, iso(), subject.table), true) });
}

/**
 * moveOperation applies an operation transition and, in the same transaction, `also` (the checkpoint,
 * restore and operation-log changes that must never disagree with the operation's own status).
 */
export function moveOperation(w: JournalWriter, id: string, name: OperationTransition, set: Partial<OperationRow>, also?: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
  const t = OPERATION_TRANSITIONS[name];
  return w.write({
    kind: 'apply',
    operationId: id,
    name,
    async apply(trx) {
      if (!(await setOperationStatus(trx, id, t.from, t.to, { ...set, updated_at: iso() }))) return false;
      await also?.(trx);
      return true;
    },
  });
}
