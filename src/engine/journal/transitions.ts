/**
 * The journal's state machines as data. Every task change the engine makes is one named transition
 * below; the store applies it only if the task is in one of its `from` states, so a stale or repeated
 * transition is refused instead of overwriting newer state (BullMQ's move_to_* scripts, as a table).
 */
import type { OperationStatus, TaskState } from '../../store/operations.js';

/** TASK_TRANSITIONS lists every allowed task transition: its name, the states it leaves, the state it enters. */
export const TASK_TRANSITIONS = {
  /** The hook is about to run; after a crash a `running` task tells the next owner the hook may be half done. */
  start: { from: ['pending'], to: 'running' },
  /** The plugin has no such hook: nothing runs, nothing can be half done. */
  skip: { from: ['pending'], to: 'done' },
  /** The hook handed back a handle to long work; from now on the engine polls instead of re-running. */
  awaitPoll: { from: ['running'], to: 'polling' },
  finish: { from: ['running', 'polling'], to: 'done' },
  fail: { from: ['pending', 'running', 'polling'], to: 'failed' },
  /** A RetryLater error: the same hook runs again, attempt + 1. */
  retry: { from: ['running'], to: 'running' },
  /** A new owner re-runs a hook the plugin declared resumable, attempt + 1. */
  resume: { from: ['running'], to: 'running' },
  /** A prepareBegin whose compensate ran: marks the undo as done so it never runs twice. */
  compensate: { from: ['done'], to: 'compensated' },
  /** Not a state change: progress and statuses are written only while the task is live. */
  progress: { from: ['running', 'polling'], to: null },
} as const satisfies Record<string, { from: readonly TaskState[]; to: TaskState | null }>;

/** TaskTransition names one entry of TASK_TRANSITIONS. */
export type TaskTransition = keyof typeof TASK_TRANSITIONS;

/** OPERATION_TRANSITIONS lists every allowed operation status change. */
export const OPERATION_TRANSITIONS = {
  /** The first owner starts work. */
  begin: { from: ['pending'], to: 'running' },
  succeed: { from: ['running'], to: 'done' },
  /** A resource failed: undo owed prepareBegins, then end. */
  failed: { from: ['running'], to: 'compensating' },
  end: { from: ['compensating'], to: 'error' },
  /** The user cancelled before any hook ran (the worker found the request as it took the operation): error, nothing to undo. */
  cancel: { from: ['pending'], to: 'error' },
  /** The operation cannot run at all (its plugin is gone, its graph unreadable): error without compensation. */
  abandon: { from: ['pending', 'running', 'compensating'], to: 'error' },
} as const satisfies Record<string, { from: readonly OperationStatus[]; to: OperationStatus }>;

/** OperationTransition names one entry of OPERATION_TRANSITIONS. */
export type OperationTransition = keyof typeof OPERATION_TRANSITIONS;
