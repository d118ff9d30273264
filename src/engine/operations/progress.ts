/**
 * Progress as the journal knows it, per resource and overall: hooks done of hooks total (the engine's
 * own count, known before any work starts, so totals never move), and items and bytes as plugins
 * reported them (a total appears once its plugin has counted). Read-only; any process can compute it.
 */
import { HOOKS, type Progress } from '../../plugins/sdk/index.js';
import type { Store } from '../../store/index.js';
import { getTasks, latestOperation, type OperationStatus, type TaskRow } from '../../store/operations.js';

/** ResourceProgress is one resource's progress; `state` is its furthest-behind hook's journal state. */
export interface ResourceProgress extends Progress {
  readonly resource: string;
  readonly state: 'pending' | 'running' | 'done' | 'failed';
  readonly hooksDone: number;
  readonly hooksTotal: number;
  readonly reason?: string;
}

/** OperationProgress is an operation's status, reason and progress, overall and per resource. */
export interface OperationProgress {
  readonly operationId: string;
  readonly status: OperationStatus;
  readonly error: string | null;
  readonly overall: Required<Progress> & { readonly resourcesDone: number; readonly resourcesTotal: number; readonly hooksDone: number; readonly hooksTotal: number };
  readonly resources: readonly ResourceProgress[];
}

/** operationProgress reads the newest operation about a checkpoint or restore; undefined when none ran. */
export async function operationProgress(store: Store, by: { checkpointId: string } | { restoreId: string } | { verificationId: string }): Promise<OperationProgress | undefined> {
  const op = await latestOperation(store.db, by);
  if (!op) return undefined;
  const byResource = new Map<string, TaskRow[]>();
  for (const t of await getTasks(store.db, op.id)) byResource.set(t.resource_key, [...(byResource.get(t.resource_key) ?? []), t]);
  const resources = [...byResource].map(([key, tasks]) => resourceProgress(key, tasks));
  return { operationId: op.id, status: op.status, error: op.error, overall: sum(resources), resources };
}

function resourceProgress(key: string, tasks: readonly TaskRow[]): ResourceProgress {
  const done = tasks.filter((t) => t.state === 'done' || t.state === 'compensated').length;
  const failed = tasks.find((t) => t.state === 'failed');
  const started = tasks.some((t) => t.state !== 'pending');
  const reported: Progress = Object.assign({}, ...tasks.map((t) => (t.progress ? JSON.parse(t.progress) : {})));
  const state = failed ? 'failed' : done === HOOKS.length ? 'done' : started ? 'running' : 'pending';
  return { resource: key, state, hooksDone: done, hooksTotal: HOOKS.length, ...reported, ...(failed?.reason ? { reason: failed.reason } : {}) };
}

function sum(rs: readonly ResourceProgress[]): OperationProgress['overall'] {
  const add = (f: (r: ResourceProgress) => number | undefined) => rs.reduce((n, r) => n + (f(r) ?? 0), 0);
  return {
    resourcesDone: rs.filter((r) => r.state === 'done').length,
    resourcesTotal: rs.length,
    hooksDone: add((r) => r.hooksDone),
    hooksTotal: add((r) => r.hooksTotal),
    itemsDone: add((r) => r.itemsDone),
    itemsTotal: add((r) => r.itemsTotal),
    bytesDone: add((r) => r.bytesDone),
    bytesTotal: add((r) => r.bytesTotal),
  };
}
