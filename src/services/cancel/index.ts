/**
 * Cancel is Hoard's extension (Karbor has none): a user stops a pending or running protect (or copy)
 * of a checkpoint, a restore, or a verification. The subject is looked up exactly as showing it would
 * (another project's id is reported missing), then the engine records the request or, for an operation
 * no worker has taken yet, ends it at once. The operation ends `error`/`fail` with the reason
 * `cancelled by the user at <time>`; the answer is the subject as it is now, with the request in force.
 * Idempotent while the operation lives; an operation that already ended is refused (invalid_state).
 */
import type { Caller } from '../../model/caller.js';
import type { CheckpointRecord, RestoreRecord, VerificationRecord } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import { cancelOperation, type CancelAnswer, type CancelTarget } from '../../engine/index.js';
import type { ServiceDeps } from '../context.js';

/** Cancelled is a subject after a cancel, with what the cancel did. */
export interface Cancelled<T> { readonly subject: T; readonly cancel: CancelAnswer }

/** CancelService cancels the operation behind a checkpoint, a restore or a verification; `note` says why (optional). */
export interface CancelService {
  checkpoint(caller: Caller, providerId: string, id: string, note?: string): Promise<Cancelled<CheckpointRecord>>;
  restore(caller: Caller, id: string, note?: string): Promise<Cancelled<RestoreRecord>>;
  verification(caller: Caller, id: string, note?: string): Promise<Cancelled<VerificationRecord>>;
}

/** Subjects is how the cancel service finds what it cancels: the other services' visibility-checked reads. */
export interface Subjects {
  readonly checkpoints: { get(caller: Caller, providerId: string, id: string): Promise<CheckpointRecord> };
  readonly restores: { get(caller: Caller, id: string): Promise<RestoreRecord> };
  readonly verifications: { get(caller: Caller, id: string): Promise<VerificationRecord> };
}

export function cancelService(deps: ServiceDeps, subjects: Subjects): CancelService {
  /** cancel checks the subject is visible, cancels its operation, and reads the subject again. */
  const cancel = async <T>(caller: Caller, read: () => Promise<T>, target: CancelTarget, note: string | undefined): Promise<Cancelled<T>> => {
    await read();
    const reason = note?.trim() ? note.trim() : null;
    const answer = await cancelOperation(deps.store, target, { at: storedTime(deps.clock.now()), by: caller.userId || null, reason });
    return { subject: await read(), cancel: answer };
  };
  return {
    checkpoint: (caller, providerId, id, note) => cancel(caller, () => subjects.checkpoints.get(caller, providerId, id), { checkpointId: id }, note),
    restore: (caller, id, note) => cancel(caller, () => subjects.restores.get(caller, id), { restoreId: id }, note),
    verification: (caller, id, note) => cancel(caller, () => subjects.verifications.get(caller, id), { verificationId: id }, note),
  };
}
