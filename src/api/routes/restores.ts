import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RestoreRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { RESTORE_FILTERS } from '../../services/restores/index.js';
import { progressView } from './progress.js';
import { listQuery, Nullable, ParameterMap, withLinks } from './common.js';

const RestoreAuth = Type.Object({
  type: Type.Literal('password'),
  username: Type.String({ minLength: 1, maxLength: 255 }),
  password: Type.String({ maxLength: 255 }),
}, { additionalProperties: false });

const CreateBody = Type.Object({
  restore: Type.Object({
    provider_id: Type.String({ maxLength: 64 }),
    checkpoint_id: Type.String({ maxLength: 64 }),
    restore_target: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    // Accepted for Karbor compatibility and dropped here: credentials never reach a service, row or log.
    restore_auth: Type.Optional(Nullable(RestoreAuth)),
    parameters: ParameterMap,
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** restoreView is Karbor's restore; there is deliberately no restore_auth to show. */
export function restoreView(r: RestoreRecord): Record<string, unknown> {
  return {
    id: r.id,
    project_id: r.projectId,
    provider_id: r.providerId,
    checkpoint_id: r.checkpointId,
    restore_target: r.restoreTarget,
    parameters: r.parameters,
    status: r.status,
    resources_status: r.resourcesStatus,
    resources_reason: r.resourcesReason,
    created_at: r.createdAt,
  };
}

export function restoreRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/restores', async (req) => {
      const q = listQuery(req.query, services, RESTORE_FILTERS, ['id', 'status', 'created_at']);
      const items = await services.restores.list(req.caller, q);
      return withLinks(req, services, 'restores', items, items.map(restoreView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/restores', { schema: { body: CreateBody } }, async (req) => {
      const { provider_id, checkpoint_id, restore_target, parameters } = req.body.restore;
      return { restore: restoreView(await services.restores.create(req.caller, { provider_id, checkpoint_id, restore_target, parameters })) };
    });
    app.get<{ Params: { restore_id: string } }>('/restores/:restore_id', async (req) => {
      const restore = restoreView(await services.restores.get(req.caller, req.params.restore_id));
      const progress = progressView(await services.restores.progress(req.caller, req.params.restore_id));
      return { restore: progress ? { ...restore, progress } : restore };
    });
  };
}
