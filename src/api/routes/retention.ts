/**
 * Hoard's retention extension beside Karbor's routes: explain and apply a retention policy over one
 * plan's checkpoints, and pin or unpin a checkpoint so that retention never deletes it.
 *
 *   GET  /plans/{plan_id}/retention[?policy=<json>]            explain (writes nothing)
 *   POST /plans/{plan_id}/retention  {"policy": {...}, "dry_run": true|false}
 *   POST /providers/{provider_id}/checkpoints/{checkpoint_id}/pin | /unpin
 *
 * Without a policy the plan's retention_protect scheduled operation supplies it (docs/retention.md).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HoardError } from '../../model/errors.js';
import type { Services } from '../../services/index.js';
import { policyJson, type RetentionOutcome, type RetentionReport } from '../../services/retention/index.js';
import { checkpointView } from './checkpoints.js';

const ApplyBody = Type.Object({
  // The policy's keys are checked by the retention service, so its message names the wrong one.
  policy: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true, maxProperties: 32 }), Type.Null()])),
  dry_run: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

type PlanParams = { plan_id: string };
type CheckpointParams = { provider_id: string; checkpoint_id: string };

/** reportView is a decision on the wire: every checkpoint with its verdict and reasons, newest first. */
export function reportView(r: RetentionReport): Record<string, unknown> {
  const entries = r.decision.entries;
  return {
    plan_id: r.planId,
    policy: policyJson(r.policy),
    policy_source: r.source,
    decided_at: r.decidedAt,
    keep: r.decision.keep.length,
    delete: r.decision.delete.length,
    checkpoints: entries.map((e) => ({
      id: e.checkpoint.id,
      provider_id: e.checkpoint.providerId,
      created_at: e.checkpoint.createdAt,
      status: e.checkpoint.status,
      pinned: e.checkpoint.pinned,
      action: e.action,
      reasons: e.reasons,
    })),
  };
}

function outcomeView(o: RetentionOutcome): Record<string, unknown> {
  return { ...reportView(o), dry_run: o.dryRun, deleted: o.deleted, skipped: o.skipped };
}

/** policyQuery reads `?policy=<json>`, the only query key explain takes. */
function policyQuery(query: unknown): unknown {
  const q = (query ?? {}) as Record<string, unknown>;
  const extra = Object.keys(q).filter((k) => k !== 'policy');
  if (extra.length > 0) throw new HoardError('invalid_filter', `Unknown query parameter ${extra.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}; retention takes only policy=<json>.`);
  const text = q.policy;
  if (text === undefined) return undefined;
  if (typeof text !== 'string') throw new HoardError('invalid_field', 'Give the policy query parameter once.');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HoardError('invalid_field', `The policy query parameter is not valid JSON: ${(err as Error).message}`);
  }
}

/** retentionRoutes registers the retention and pin routes; the retention use case is built here from the plan and checkpoint ones. */
export function retentionRoutes(services: Services): FastifyPluginAsync {
  const retention = services.retention;
  const pin = (pinned: boolean) => async (req: FastifyRequest<{ Params: CheckpointParams }>) => {
    const cp = await retention.setPinned(req.caller, req.params.provider_id, req.params.checkpoint_id, pinned);
    return { checkpoint: { ...checkpointView(cp), pinned: cp.pinned === true } };
  };
  return async (app) => {
    app.get<{ Params: PlanParams }>('/plans/:plan_id/retention', async (req) => ({
      retention: reportView(await retention.explain(req.caller, req.params.plan_id, policyQuery(req.query))),
    }));
    app.post<{ Params: PlanParams; Body: Static<typeof ApplyBody> | undefined }>('/plans/:plan_id/retention', { schema: { body: ApplyBody } }, async (req) => {
      const body = req.body ?? {};
      const outcome = await retention.apply(req.caller, req.params.plan_id, body.policy ?? undefined, { dryRun: body.dry_run ?? false });
      return { retention: outcomeView(outcome) };
    });
    app.post<{ Params: CheckpointParams }>('/providers/:provider_id/checkpoints/:checkpoint_id/pin', pin(true));
    app.post<{ Params: CheckpointParams }>('/providers/:provider_id/checkpoints/:checkpoint_id/unpin', pin(false));
  };
}
