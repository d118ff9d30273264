/**
 * Submission: turn a validated request into journal rows, atomically. One transaction inserts (or moves)
 * the subject row (checkpoint `protecting`, restore `in_progress`, checkpoint `deleting`), the operation
 * (`pending`, unowned), one task per resource and hook, and the operation log. Either all of it exists
 * and a worker will carry it to an end state, or none of it does: nothing is ever left in a transient
 * state behind an error.
 */
import type { Kysely } from 'kysely';
import { HOOKS, type Resource, type RestoreAuth } from '../../plugins/sdk/index.js';
import { checkpoints, operationLogs, restores, verifications, type CheckpointRecord, type Database, type RestoreRecord, type Store, type VerificationRecord } from '../../store/index.js';
import { insertOperation, insertPendingTasks, type OperationRow } from '../../store/operations.js';
import { newId } from '../../util/ids.js';
import { postOrder, type ResourceGraph } from '../graph/index.js';
import { freeze, type EngineKind, type ParameterMap } from './model.js';

/** Subject links an operation to what it works on. */
export interface Subject {
  readonly projectId: string;
  readonly providerId: string;
  readonly planId?: string | null;
  readonly checkpointId: string;
  readonly restoreId?: string | null;
  readonly verificationId?: string | null;
}

/** Submission is everything one operation needs, already validated and resolved. */
export interface Submission {
  readonly kind: EngineKind;
  readonly subject: Subject;
  readonly graph: ResourceGraph;
  readonly plugins: ReadonlyMap<string, string>;
  readonly parameters: ParameterMap;
  /** log is the operation log's type and first status (Karbor logs `protecting`, `in_progress`, `deleting`). */
  readonly log: { readonly type: 'protect' | 'restore' | 'delete' | 'verify' | 'copy'; readonly status: string };
  /** scheduledOperationId links the operation log to the scheduled operation that asked for it. */
  readonly scheduledOperationId?: string | null;
}

/** insertOperationRows writes the operation, its tasks and its log inside `trx`; returns the operation id. */
export async function insertOperationRows(trx: Kysely<Database>, s: Submission, now: string): Promise<string> {
  const id = newId();
  const logId = newId();
  const keys = postOrder(s.graph);
  await operationLogs.insertLog(trx, logRow(s, logId, now));
  await insertOperation(trx, operationRow(s, id, logId, keys, now));
  await insertPendingTasks(trx, id, keys, HOOKS, now);
  return id;
}

function operationRow(s: Submission, id: string, logId: string, keys: readonly string[], now: string): OperationRow {
  const { subject: x } = s;
  return {
    id, project_id: x.projectId, kind: s.kind, provider_id: x.providerId, plan_id: x.planId ?? null, checkpoint_id: x.checkpointId,
    restore_id: x.restoreId ?? null, verification_id: x.verificationId ?? null, log_id: logId, status: 'pending', owner: null, lease_expires_at: null,
    graph: freeze(s.graph, keys, s.plugins), parameters: JSON.stringify(s.parameters), new_resources: '{}', error: null, created_at: now, updated_at: now,
  };
}

function logRow(s: Submission, id: string, now: string): operationLogs.OperationLogRecord {
  const { subject: x } = s;
  return {
    id, projectId: x.projectId, operationType: s.log.type, checkpointId: x.checkpointId, planId: x.planId ?? null, providerId: x.providerId,
    restoreId: x.restoreId ?? null, scheduledOperationId: s.scheduledOperationId ?? null, status: s.log.status, startedAt: now, endedAt: null, errorInfo: null, extraInfo: null, createdAt: now,
  };
}

/** submitProtect inserts the `protecting` checkpoint and its operation in one transaction. */
export async function submitProtect(store: Store, checkpoint: CheckpointRecord, s: Submission): Promise<string> {
  return store.db.transaction().execute(async (trx) => {
    await checkpoints.insertCheckpoint(trx, checkpoint);
    return insertOperationRows(trx, s, checkpoint.createdAt);
  });
}

/** submitCopy inserts every `wait_copying` destination checkpoint and its copy operation in one transaction. */
export async function submitCopy(store: Store, copies: readonly { readonly checkpoint: CheckpointRecord; readonly submission: Submission }[]): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    for (const c of copies) {
      await checkpoints.insertCheckpoint(trx, c.checkpoint);
      await insertOperationRows(trx, c.submission, c.checkpoint.createdAt);
    }
  });
}

/** submitVerify inserts the `in_progress` verification and its operation in one transaction. */
export async function submitVerify(store: Store, verification: VerificationRecord, s: Submission): Promise<string> {
  return store.db.transaction().execute(async (trx) => {
    await verifications.insertVerification(trx, verification);
    return insertOperationRows(trx, s, verification.createdAt);
  });
}

/**
 * submitRestore inserts the `in_progress` restore and its operation in one transaction, with the
 * restore's credentials (`auth`, when given) in their own table: finishSubject deletes them when the
 * restore ends, so they exist exactly while the restore can still use them.
 */
export async function submitRestore(store: Store, restore: RestoreRecord, s: Submission, auth: RestoreAuth | null = null): Promise<string> {
  return store.db.transaction().execute(async (trx) => {
    await restores.insertRestore(trx, restore);
    if (auth) await restores.insertRestoreCredentials(trx, restore.id, auth, restore.createdAt);
    return insertOperationRows(trx, s, restore.createdAt);
  });
}

/**
 * submitDelete moves the checkpoint from available|error to `deleting` and inserts its operation, in one
 * transaction; it answers undefined (and writes nothing) when the checkpoint was no longer deletable.
 */
export async function submitDelete(store: Store, s: Submission, now: string): Promise<string | undefined> {
  return store.db.transaction().execute(async (trx) => {
    if (!(await checkpoints.setCheckpointStatus(trx, s.subject.checkpointId, ['available', 'error'], 'deleting', now))) return undefined;
    return insertOperationRows(trx, s, now);
  });
}

/** planResource turns a plan's resource into a graph start resource. */
export function planResource(r: { id: string; type: string; name: string; extraInfo: Record<string, unknown> | null }): Resource {
  return { type: r.type, id: r.id, name: r.name, extraInfo: r.extraInfo };
}
