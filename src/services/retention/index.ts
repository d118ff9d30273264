/**
 * Retention: which checkpoints of a plan to keep, which to delete, and why. The decision is the pure
 * policy module's (policy.ts); this use case reads a plan's checkpoints, finds the policy when none is
 * given (the plan's `retention_protect` scheduled operation, mapped from Karbor's limits), and deletes
 * through the checkpoint delete use case, so the protection engine does every real delete and every
 * state rule (only available or error checkpoints, quota, logs) holds as for a user's own DELETE.
 *
 * Invariants: explain and a dry run write nothing; apply deletes exactly what explain would have said at
 * the same moment, minus checkpoints that changed meanwhile (pinned, deleted or no longer deletable),
 * which are reported as skipped, never deleted. Pinning is checked again right before each delete; the
 * window left between that read and the engine's own state change is the checkpoint delete use case's.
 */
import type { Caller } from '../../model/caller.js';
import { HoardError, isHoardError, type ReasonCode } from '../../model/errors.js';
import { checkpoints, scheduledOperations, type CheckpointRecord, type Filter } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import type { CheckpointService } from '../checkpoints/index.js';
import type { ServiceDeps } from '../context.js';
import type { PlanService } from '../plans/index.js';
import { decide, karborPolicy, parsePolicy, policyJson, type RetentionCheckpoint, type RetentionDecision, type RetentionPolicy } from './policy.js';

export { decide, karborPolicy, parsePolicy, policyJson } from './policy.js';
export type { PolicyJson, RetentionDecision, RetentionEntry, RetentionPolicy } from './policy.js';

/** RetainedCheckpoint is a stored checkpoint as the decision sees it (pinned always spelled out). */
export type RetainedCheckpoint = CheckpointRecord & RetentionCheckpoint;

/** PolicySource says where the policy came from: the request, or a plan's retention_protect operation. */
export type PolicySource = { readonly kind: 'request' } | { readonly kind: 'scheduled_operation'; readonly id: string };

/** RetentionReport is an explained decision over one plan's checkpoints at one moment. */
export interface RetentionReport {
  readonly planId: string;
  readonly policy: RetentionPolicy;
  readonly source: PolicySource;
  readonly decidedAt: string;
  readonly decision: RetentionDecision<RetainedCheckpoint>;
}

/** RetentionOutcome is an applied (or dry-run) decision: what was asked for deletion and what was skipped. */
export interface RetentionOutcome extends RetentionReport {
  readonly dryRun: boolean;
  readonly deleted: readonly string[];
  readonly skipped: readonly { readonly id: string; readonly reason: ReasonCode; readonly message: string }[];
}

/** RetentionService explains and applies retention over one plan's checkpoints, and pins checkpoints. */
export interface RetentionService {
  /** explain decides without changing anything; policy is the wire form, or undefined for the plan's own. */
  explain(caller: Caller, planId: string, policy?: unknown): Promise<RetentionReport>;
  /** apply decides and, unless dryRun, asks the checkpoint delete use case to delete, oldest first. */
  apply(caller: Caller, planId: string, policy: unknown, opts: { readonly dryRun: boolean }): Promise<RetentionOutcome>;
  /** setPinned pins or unpins a visible checkpoint; a checkpoint being or already deleted cannot be pinned. */
  setPinned(caller: Caller, providerId: string, checkpointId: string, pinned: boolean): Promise<CheckpointRecord>;
}

/** RetentionParts are the use cases retention goes through instead of touching their rows itself. */
export interface RetentionParts {
  readonly plans: Pick<PlanService, 'get'>;
  readonly checkpoints: Pick<CheckpointService, 'get' | 'remove'>;
}

const PAGE = 500;
const UNPINNABLE = ['deleting', 'deleted', 'error-deleting'];

/**
 * retentionService builds the use case over the store and the plan and checkpoint use cases. It holds no
 * state; concurrent applies are safe (the engine refuses a second delete of the same checkpoint, which is
 * then reported as skipped), though two different policies applied at once are each decided alone.
 */
export function retentionService(deps: ServiceDeps, parts: RetentionParts): RetentionService {
  const { store, clock } = deps;

  const explain = async (caller: Caller, planId: string, policy?: unknown): Promise<RetentionReport> => {
    const plan = await parts.plans.get(caller, planId);
    const { policy: p, source } = policy === undefined || policy === null
      ? await planPolicy(deps, plan.projectId, plan.id)
      : { policy: parsePolicy(policy), source: { kind: 'request' } as const };
    const now = clock.now();
    const history = await planCheckpoints(deps, plan.projectId, plan.id);
    return { planId: plan.id, policy: p, source, decidedAt: storedTime(now), decision: decide(p, history, now) };
  };

  return {
    explain,

    async apply(caller, planId, policy, opts) {
      const report = await explain(caller, planId, policy);
      if (opts.dryRun) return { ...report, dryRun: true, deleted: [], skipped: [] };
      const deleted: string[] = [];
      const skipped: RetentionOutcome['skipped'][number][] = [];
      // Oldest first: if this is interrupted, what is left is the newer history.
      for (const cp of [...report.decision.delete].reverse()) {
        const why = await deleteOne(deps, parts, caller, cp);
        if (why) skipped.push({ id: cp.id, ...why });
        else deleted.push(cp.id);
      }
      return { ...report, dryRun: false, deleted, skipped };
    },

    async setPinned(caller, providerId, checkpointId, pinned) {
      const cp = await parts.checkpoints.get(caller, providerId, checkpointId);
      if (pinned && UNPINNABLE.includes(cp.status)) {
        throw new HoardError('invalid_state', `Checkpoint ${cp.id} is ${cp.status}; only a checkpoint that is not being or already deleted can be pinned.`);
      }
      await checkpoints.setCheckpointPinned(store.db, cp.id, pinned, storedTime(clock.now()));
      const { pinned: _old, ...rest } = cp;
      return pinned ? { ...rest, pinned: true } : rest;
    },
  };
}

/** deleteOne re-reads the checkpoint (a pin may have arrived) and deletes it, or says why it did not. */
async function deleteOne(deps: ServiceDeps, parts: RetentionParts, caller: Caller, cp: RetainedCheckpoint): Promise<{ reason: ReasonCode; message: string } | undefined> {
  const now = await checkpoints.getCheckpoint(deps.store.db, cp.id);
  if (now?.pinned) return { reason: 'invalid_state', message: `Checkpoint ${cp.id} was pinned after the decision; it is kept.` };
  try {
    await parts.checkpoints.remove(caller, cp.providerId, cp.id);
    return undefined;
  } catch (err) {
    // One checkpoint that changed state meanwhile must not stop the rest of the plan's retention.
    if (isHoardError(err) && err.status < 500) return { reason: err.reason, message: err.message };
    throw err;
  }
}

/** planCheckpoints reads every not-deleted checkpoint of a plan in its project, page by page. */
async function planCheckpoints(deps: ServiceDeps, projectId: string, planId: string): Promise<RetainedCheckpoint[]> {
  const filters: Filter[] = [{ op: 'eq', column: 'project_id', value: projectId }, { op: 'eq', column: 'plan_id', value: planId }];
  const out: RetainedCheckpoint[] = [];
  for (let marker: string | undefined; ;) {
    const page = await checkpoints.listCheckpoints(deps.store.db, { filters, sort: [{ key: 'created_at', dir: 'desc' }], marker, limit: PAGE });
    out.push(...page.map((c) => ({ ...c, pinned: c.pinned === true })));
    if (page.length < PAGE) return out;
    marker = page[page.length - 1]!.id;
  }
}

/**
 * planPolicy is the policy of the plan's retention_protect scheduled operation. Several operations
 * with different limits are refused rather than merged: Karbor would run each one's deletes in turn,
 * and guessing which a user meant is how backups get lost.
 */
async function planPolicy(deps: ServiceDeps, projectId: string, planId: string): Promise<{ policy: RetentionPolicy; source: PolicySource }> {
  const filters: Filter[] = [
    { op: 'eq', column: 'project_id', value: projectId }, { op: 'eq', column: 'plan_id', value: planId }, { op: 'eq', column: 'operation_type', value: 'retention_protect' },
  ];
  const ops = await scheduledOperations.listOperations(deps.store.db, { filters, sort: [{ key: 'created_at', dir: 'asc' }], limit: 100 });
  const found = ops.map((op) => ({ op, policy: karborPolicy(op.operationDefinition) })).filter((x) => x.policy !== undefined);
  const distinct = new Set(found.map((x) => JSON.stringify(policyJson(x.policy!))));
  if (found.length === 0) {
    throw new HoardError('missing_field', `Plan ${planId} has no retention policy: no retention_protect scheduled operation of it sets max_backups or retention_duration. Give a policy, for example {"keep_last": 7, "keep_daily": 14}.`);
  }
  if (distinct.size > 1) {
    throw new HoardError('missing_field', `Plan ${planId} has ${found.length} retention_protect scheduled operations with different limits (${found.map((x) => x.op.id).join(', ')}); give the policy to use explicitly.`);
  }
  return { policy: found[0]!.policy!, source: { kind: 'scheduled_operation', id: found[0]!.op.id } };
}
