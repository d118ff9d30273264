/**
 * Run is one worker's in-memory view of one operation while it runs: the loaded journal rows (kept in
 * step with every committed transition), the task DAG, per-resource progress, and the signals that
 * stop it. Only the journal is authoritative; a Run can always be rebuilt from it.
 *
 * Rows and plugin behaviours are held in arrays by task and node index (the DAG's numbering), because
 * the runner touches them several times per task and string-keyed lookups were a visible cost.
 */
import { parseHookSpec, withExecHooks } from '../../plugins/hooks/index.js';
import { HOOKS, type HookName, type Progress, type ResourceOperation } from '../../plugins/sdk/index.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { Store } from '../../store/index.js';
import type { TaskKey, TaskRow, TaskState } from '../../store/operations.js';
import type { TaskDag } from '../hooks/order.js';
import type { JournalWriter } from '../journal/index.js';
import type { EngineOptions } from '../options.js';
import type { Limits } from '../scheduler/index.js';
import type { ProviderBanks } from '../bank-data.js';
import type { CheckpointRecordSink } from '../sink.js';
import { operationOf, parametersFor, pendingTask, taskId, type LoadedOperation } from './model.js';

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
  /** rows holds each task's journal row by DAG task index. */
  readonly rows: readonly TaskRow[];
  /** ops holds each node's plugin behaviour by DAG node index. */
  readonly ops: readonly ResourceOperation[];
  /** progress holds each resource's latest reported progress. */
  readonly progress: Map<string, Progress>;
  /** statusSet holds the resources whose restore status is already recorded. */
  readonly statusSet: Set<string>;
  /** cancel aborts every hook of this run (lease lost). */
  readonly cancel: AbortController;
}

/** newRun builds a Run; it throws when a node's plugin is no longer registered. */
export function newRun(deps: RunDeps, op: LoadedOperation, dag: TaskDag, progress: Map<string, Progress>, cancel: AbortController): Run {
  const ops = dag.keys.map((key) => {
    const resource = op.graph.nodes.get(key)!.resource;
    const behaviour = operationOf(deps.registry, op.plugins.get(key)!, op.kind, resource.type);
    // A plan's exec hooks (parameter `hooks`) wrap the protection of the resources they are given for.
    const hooks = op.kind === 'protect' ? parametersFor(op.parameters, resource).hooks : undefined;
    return hooks === undefined ? behaviour : withExecHooks(behaviour, parseHookSpec(hooks));
  });
  const { started } = op;
  const rows = dag.keys.flatMap((key) => HOOKS.map((hook) => (started.size > 0 ? started.get(taskId(key, hook)) : undefined) ?? pendingTask(op.row, key, hook)));
  return { deps, op, dag, rows, ops, progress, statusSet: new Set(), cancel };
}

/** row is the in-memory journal row of a task. */
export function row(run: Run, key: string, hook: HookName): TaskRow {
  return run.rows[run.dag.index(key, hook)]!;
}

/** setRow records a committed transition in the in-memory copy. */
export function setRow(run: Run, key: string, hook: HookName, state: TaskState, extra: Partial<TaskRow> = {}): void {
  Object.assign(row(run, key, hook), extra).state = state;
}

/** pluginOp is the behaviour of the plugin the operation froze for a resource. */
export function pluginOp(run: Run, key: string): ResourceOperation {
  return run.ops[run.dag.node(key)]!;
}

/** taskKey names a task for the journal. */
export function taskKey(run: Run, key: string, hook: string): TaskKey {
  return { operationId: run.op.row.id, resourceKey: key, hook };
}
