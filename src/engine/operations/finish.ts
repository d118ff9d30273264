/**
 * How each kind of operation ends: the subject's final status and the operation log, written in the
 * same transaction as the operation's own last transition (journal.moveOperation), so the API can
 * never show a checkpoint `available` whose operation failed, or the reverse.
 */
import type { Kysely } from 'kysely';
import { checkpoints, operationLogs, restores, type Database } from '../../store/index.js';
import { setRestoreStatus, type OperationRow } from '../../store/operations.js';
import type { EngineKind } from './model.js';

/** Outcome is how an operation ended: done, or failed with the reason shown to users. */
export type Outcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** END_STATUS is each kind's final subject status, per outcome, as Karbor names them. */
export const END_STATUS: Readonly<Record<EngineKind, { readonly ok: string; readonly failed: string }>> = {
  protect: { ok: 'available', failed: 'error' },
  restore: { ok: 'success', failed: 'fail' },
  delete: { ok: 'deleted', failed: 'error-deleting' },
  verify: { ok: 'success', failed: 'fail' },
  copy: { ok: 'available', failed: 'error' },
};

/** finishSubject moves the subject to its end status and closes the operation log (inside `trx`). */
export async function finishSubject(trx: Kysely<Database>, op: OperationRow, kind: EngineKind, outcome: Outcome, now: string): Promise<void> {
  await endSubject(trx, op, kind, outcome.ok, now);
  if (op.log_id) {
    const status = outcome.ok ? END_STATUS[kind].ok : END_STATUS[kind].failed;
    await operationLogs.updateLog(trx, op.log_id, { status, endedAt: now, ...(outcome.ok ? {} : { errorInfo: outcome.reason }) });
  }
}

async function endSubject(trx: Kysely<Database>, op: OperationRow, kind: EngineKind, ok: boolean, now: string): Promise<void> {
  const checkpointId = op.checkpoint_id!;
  switch (kind) {
    case 'protect':
      await checkpoints.setCheckpointStatus(trx, checkpointId, ['protecting'], ok ? 'available' : 'error', now);
      return;
    case 'restore':
      await setRestoreStatus(trx, op.restore_id!, ok ? 'success' : 'fail', now);
      // Whatever ended the restore (its run, a cancel, an abandoned journal), its credentials end with it.
      await restores.deleteRestoreCredentials(trx, op.restore_id!);
      return;
    case 'delete':
      await checkpoints.setCheckpointStatus(trx, checkpointId, ['deleting'], ok ? 'deleted' : 'error-deleting', now);
      return;
    case 'verify':
      await setRestoreStatus(trx, op.verification_id!, ok ? 'success' : 'fail', now, 'verifications');
      return;
    case 'copy':
      // Karbor marks a finished copy in its extra info; a reset-state meanwhile wins (the row is left alone).
      if (await checkpoints.setCheckpointStatus(trx, checkpointId, ['wait_copying', 'copying'], ok ? 'available' : 'error', now)) {
        await checkpoints.mergeCheckpointExtraInfo(trx, checkpointId, { copy_status: ok ? 'finished' : 'error' });
      }
      return;
    default:
      assertNever(kind);
  }
}

/** beginSubject moves a copy's destination checkpoint from wait_copying to copying as its operation starts. */
export async function beginSubject(trx: Kysely<Database>, op: OperationRow, now: string): Promise<void> {
  if (op.kind !== 'copy') return;
  if (await checkpoints.setCheckpointStatus(trx, op.checkpoint_id!, ['wait_copying'], 'copying', now)) {
    await checkpoints.mergeCheckpointExtraInfo(trx, op.checkpoint_id!, { copy_status: 'copying' });
  }
  if (op.log_id) await operationLogs.updateLog(trx, op.log_id, { status: 'copying' });
}

/** assertNever makes a missing case of a discriminated union a compile error. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
