import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HoardError } from '../../model/errors.js';
import type { CheckpointRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { CHECKPOINT_FILTERS } from '../../services/checkpoints/index.js';
import { progressView } from './progress.js';
import { listQuery, Nullable, withLinks } from './common.js';

const ExtraInfo = Nullable(Type.Record(
  Type.String({ minLength: 1, maxLength: 255 }),
  Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null()]),
  { maxProperties: 100 },
));

const CreateBody = Type.Object({
  checkpoint: Type.Object({
    plan_id: Type.String({ maxLength: 64 }),
    // The Karbor client sends `extra-info`; Karbor's own code read `extra_info`. Both are accepted and kept.
    'extra-info': Type.Optional(ExtraInfo),
    extra_info: Type.Optional(ExtraInfo),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

const ResetBody = Type.Object({
  'os-resetState': Type.Object({
    state: Type.Union([Type.Literal('available'), Type.Literal('error')]),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

// Karbor's copy action (K:karbor/api/v1/copies.py); the python client 2.1.0 has no verb for it.
const CopyBody = Type.Object({
  copy: Type.Object({
    plan_id: Type.String({ maxLength: 64 }),
    parameters: Type.Optional(Type.Record(Type.String({ maxLength: 255 }), Type.Unknown(), { maxProperties: 20 })),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

type Params = { provider_id: string };
type ItemParams = Params & { checkpoint_id: string };

/** checkpointView is Karbor's checkpoint: graph and extra info as JSON text, the creation date without time. */
export function checkpointView(c: CheckpointRecord): Record<string, unknown> {
  const plan = c.protectionPlan;
  return {
    id: c.id,
    project_id: c.projectId,
    status: c.status,
    protection_plan: {
      id: plan.id,
      name: plan.name,
      provider_id: plan.providerId,
      resources: plan.resources.map((r) => ({ id: r.id, type: r.type, name: r.name, extra_info: r.extraInfo })),
    },
    resource_graph: c.resourceGraph,
    created_at: c.createdAt.slice(0, 10),
    extra_info: c.extraInfo ? JSON.stringify(c.extraInfo) : null,
    // Hoard's addition (the Karbor client ignores it): retention never deletes a pinned checkpoint.
    pinned: c.pinned === true,
  };
}

function extraInfoOf(body: Static<typeof CreateBody>['checkpoint']): Record<string, unknown> | null {
  const hyphen = body['extra-info'];
  if (hyphen !== undefined && body.extra_info !== undefined) {
    throw new HoardError('invalid_field', 'Give the checkpoint\'s extra info once, as "extra-info" or "extra_info", not both.');
  }
  return hyphen ?? body.extra_info ?? null;
}

export function checkpointRoutes(services: Services): FastifyPluginAsync {
  const base = '/providers/:provider_id/checkpoints';
  return async (app) => {
    app.get<{ Params: Params }>(base, async (req) => {
      const q = listQuery(req.query, services, CHECKPOINT_FILTERS, ['id', 'status', 'created_at']);
      const items = await services.checkpoints.list(req.caller, req.params.provider_id, q);
      return withLinks(req, services, 'checkpoints', items, items.map(checkpointView), q);
    });
    app.post<{ Params: Params; Body: Static<typeof CreateBody> }>(base, { schema: { body: CreateBody } }, async (req) => {
      const input = { plan_id: req.body.checkpoint.plan_id, extraInfo: extraInfoOf(req.body.checkpoint) };
      return { checkpoint: checkpointView(await services.checkpoints.create(req.caller, req.params.provider_id, input)) };
    });
    app.post<{ Params: Params; Body: Static<typeof CopyBody> }>(`${base}/action`, { schema: { body: CopyBody } }, async (req) => {
      const { plan_id: planId, parameters = {} } = req.body.copy;
      const out = await services.checkpoints.copy(req.caller, req.params.provider_id, { plan_id: planId, parameters });
      return {
        copy: {
          project_id: req.caller.projectId, provider_id: req.params.provider_id, plan_id: planId,
          checkpoint_id: out.pairs.map((p) => ({ checkpoint_protect_id: p.source, checkpoint_copy_id: p.copy })),
          parameters, destination_provider_id: out.destinationProviderId,
        },
      };
    });
    app.get<{ Params: ItemParams }>(`${base}/:checkpoint_id`, async (req) => {
      const { provider_id: providerId, checkpoint_id: id } = req.params;
      const checkpoint = checkpointView(await services.checkpoints.get(req.caller, providerId, id));
      const progress = progressView(await services.checkpoints.progress(req.caller, providerId, id));
      return { checkpoint: progress ? { ...checkpoint, progress } : checkpoint };
    });
    app.put<{ Params: ItemParams; Body: Static<typeof ResetBody> }>(`${base}/:checkpoint_id`, { schema: { body: ResetBody } }, async (req) => {
      await services.checkpoints.resetState(req.caller, req.params.provider_id, req.params.checkpoint_id, req.body['os-resetState'].state);
      return {};
    });
    app.delete<{ Params: ItemParams }>(`${base}/:checkpoint_id`, async (req) => {
      await services.checkpoints.remove(req.caller, req.params.provider_id, req.params.checkpoint_id);
      return {};
    });
  };
}
