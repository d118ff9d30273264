/**
 * User cancellation of a protect, restore, verify or copy, durable across processes: the API process
 * records the request on the operation row, and whichever worker holds the operation notices it on its
 * next tick (or finds it when it takes the operation over) and ends the run like a failure, with the
 * reason `cancelled by the user at <time>`: running hooks are aborted with a Cancelled reason, nothing
 * new starts, owed compensations still run (they undo pre hooks, so they are never cancelled), and the
 * subject ends `error` (checkpoint) or `fail` (restore, verification) with a status for every resource.
 *
 * An operation nobody holds yet is ended right here, in the request's own transaction, without running
 * any hook. A cancel is idempotent while the operation lives (a second request changes nothing and
 * answers the first); an operation that already ended is refused with invalid_state, except one that
 * ended because of a cancel, whose repeated request answers as the first did. Deletes are not
 * cancellable: a half-deleted checkpoint helps nobody.
 */
import type { Kysely } from 'kysely';
import { HoardError } from '../../model/errors.js';
import type { Database, Store } from '../../store/index.js';
import {
  cancelRequestOf, endUnclaimed, lockForWrite, markCancel, operationToCancel, setRestoreResources,
  type CancelRequest, type CancelTarget as StoreTarget, type OperationRow,
} from '../../store/operations.js';
import { finishSubject } from './finish.js';
import { reportsResources, statusSubject, thaw, type EngineKind } from './model.js';

export type { CancelRequest } from '../../store/operations.js';

/** Cancelled is the abort reason a cancelled run's hooks see; its message is the operation's reason. */
export class Cancelled extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Cancelled';
  }
}

/** CancelTarget names what to cancel: a checkpoint's protect (or copy), a restore, a verification. */
export type CancelTarget = { readonly checkpointId: string } | { readonly restoreId: string } | { readonly verificationId: string };

/** CancelAnswer says what a cancel did: `ended` the operation (now or earlier), or `requested` it of its worker. */
export interface CancelAnswer {
  readonly state: 'ended' | 'requested';
  readonly operationId: string;
  /** request is the request in force: this one, or the first one when the operation was already asked. */
  readonly request: CancelRequest;
}

/** CHECKPOINT_KINDS are the operations a checkpoint's cancel stops: the protect that writes it, or the copy that fills it. */
const CHECKPOINT_KINDS = ['protect', 'copy'] as const;

/** cancelReason is the reason a cancelled operation ends with, shown in the API and the operation log. */
export function cancelReason(r: CancelRequest): string {
  return `cancelled by the user at ${r.at}${r.by ? ` (requested by ${r.by})` : ''}${r.reason ? `: ${r.reason}` : ''}`;
}

/**
 * cancelOperation cancels the newest operation about `target`, in one transaction: it ends a pending
 * one that no worker holds, records the request on one a worker holds, and refuses (invalid_state)
 * when there is none or it already ended; see the module comment.
 */
export async function cancelOperation(store: Store, target: CancelTarget, req: CancelRequest): Promise<CancelAnswer> {
  return store.db.transaction().execute(async (trx) => {
    await lockForWrite(trx, store.dialect);
    const op = await operationToCancel(trx, store.dialect, storeTarget(target));
    if (!op) throw new HoardError('invalid_state', `${subjectOf(target)} has no operation to cancel.`);
    const asked = cancelRequestOf(op);
    const answer = (state: CancelAnswer['state'], request: CancelRequest): CancelAnswer => ({ state, operationId: op.id, request });
    if (op.status === 'done' || op.status === 'error') {
      if (asked && op.status === 'error') return answer('ended', asked);
      throw ended(target, op);
    }
    if (asked) return answer('requested', asked);
    if (op.kind === 'delete') throw new HoardError('invalid_state', `${subjectOf(target)} is being deleted; a delete cannot be cancelled.`);
    if (op.status === 'compensating') {
      throw new HoardError('invalid_state', `${subjectOf(target)} already failed (${op.error ?? 'unknown reason'}) and is undoing its pre hooks; it ends in error without a cancel.`);
    }
    const reason = cancelReason(req);
    if (op.status === 'pending' && (await endUnclaimed(trx, op.id, req, reason))) {
      await endCancelled(trx, store.dialect, op, reason, req.at);
      return answer('ended', req);
    }
    if (!(await markCancel(trx, op.id, req))) throw new Error(`operation ${op.id} changed while it was locked for a cancel`);
    return answer('requested', req);
  });
}

/**
 * endCancelled ends the subject of an operation that was cancelled before any hook ran (inside `trx`):
 * its end status and operation log, and for a restore or verification a `not restored: <reason>`
 * status for every resource.
 */
export async function endCancelled(trx: Kysely<Database>, dialect: Store['dialect'], op: OperationRow, reason: string, now: string): Promise<void> {
  const kind = op.kind as EngineKind;
  await finishSubject(trx, op, kind, { ok: false, reason }, now);
  if (!reportsResources(kind)) return;
  const why = `${kind === 'verify' ? 'not verified' : 'not restored'}: ${reason}`;
  const entries = [...thaw(op.graph).graph.nodes.values()].map((n) => ({ key: `${n.resource.type}#${n.resource.id}`, status: 'error', reason: why }));
  const subject = statusSubject(op);
  await setRestoreResources(trx, dialect, subject.id, entries, now, subject.table);
}

function storeTarget(t: CancelTarget): StoreTarget {
  return 'checkpointId' in t ? { checkpointId: t.checkpointId, kinds: [...CHECKPOINT_KINDS, 'delete'] } : t;
}

function subjectOf(t: CancelTarget): string {
  if ('checkpointId' in t) return `Checkpoint ${t.checkpointId}`;
  return 'restoreId' in t ? `Restore ${t.restoreId}` : `Verification ${t.verificationId}`;
}

function ended(t: CancelTarget, op: OperationRow): HoardError {
  const how = op.status === 'done' ? 'succeeded' : `failed (${op.error ?? 'unknown reason'})`;
  const late = cancelRequestOf(op) ? ' before the cancel took effect' : '';
  return new HoardError('invalid_state', `${subjectOf(t)} cannot be cancelled: its ${op.kind} already ended; it ${how} at ${op.updated_at}${late}.`);
}
