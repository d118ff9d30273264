/**
 * Run is one worker's in-memory view of one operation while it runs: the loaded journal rows (kept in
 * step with every committed transition), the task DAG, per-resource progress, and the signals that
 * stop it. Only the journal is authoritative; a Run can always be rebuilt from it.
 */
import type { Progress, ResourceOperation } from '../../plugins/sdk/index.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { Store } from '../../store/index.js';
import type { TaskRow, TaskState } from '../../store/operations.js';
import type { TaskDag } from '../hooks/order.js';
import type { JournalWriter } from '../journal/index.js';
import type { EngineOptions } from '../options.js';
import type { Limits } from '../scheduler/index.js';
import type { ProviderBanks } from '../bank-data.js';
import type { CheckpointRecordSink } from '../sink.js';
import { operationOf, taskId, type LoadedOperation } from './model.js';

/** RunDeps is what every run of a worker shares. */
export interface RunDeps {
  readonly store: Store;
  readonly registry: PluginRegistry;
  readonly sink: CheckpointRecordSink;
  /** banks gives hooks their provider's DataHandle. */
  readonly banks: ProviderBanks;
  readonly writer: JournalWriter;
  readonly limits: Limits;
  readonly options: EngineOptions;
}

/** Run is one operation being run; see the module comment. */
export interface Run {
  readonly deps: RunDeps;
  readonly op: LoadedOperation;
  readonly dag: TaskDag;
  /** progress holds each resource's latest reported progress. */
  readonly progress: Map<string, Progress>;
  /** statusSet holds the resources whose restore status is already recorded. */
  readonly statusSet: Set<string>;
  /** cancel aborts every hook of this run (lease lost). */
  readonly cancel: AbortController;
}

/** row is the in-memory journal row of a task. */
export function row(run: Run, key: string, hook: string): TaskRow {
  return run.op.tasks.get(taskId(key, hook))!;
}

/** setRow records a committed transition in the in-memory copy. */
export function setRow(run: Run, key: string, hook: string, state: TaskState, extra: Partial<TaskRow> = {}): void {
  const r = row(run, key, hook);
  run.op.tasks.set(taskId(key, hook), { ...r, ...extra, state });
}

/** pluginOp is the behaviour of the plugin the operation froze for a resource. */
export function pluginOp(run: Run, key: string): ResourceOperation {
  const node = run.op.graph.nodes.get(key)!;
  return operationOf(run.deps.registry, run.op.plugins.get(key)!, run.op.kind, node.resource.type);
}

/** taskKey names a task for the journal. */
export function taskKey(run: Run, key: string, hook: string): { operationId: string; resourceKey: string; hook: string } {
  return { operationId: run.op.row.id, resourceKey: key, hook };
}
