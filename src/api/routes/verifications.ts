import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { VerificationRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { VERIFICATION_FILTERS } from '../../services/verifications/index.js';
import { progressView } from './progress.js';
import { listQuery, ParameterMap, withLinks } from './common.js';

const CreateBody = Type.Object({
  verification: Type.Object({
    provider_id: Type.String({ maxLength: 64 }),
    checkpoint_id: Type.String({ maxLength: 64 }),
    parameters: Type.Optional(ParameterMap),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** verificationView is Karbor's verification object. */
export function verificationView(v: VerificationRecord): Record<string, unknown> {
  return {
    id: v.id,
    project_id: v.projectId,
    provider_id: v.providerId,
    checkpoint_id: v.checkpointId,
    parameters: v.parameters,
    status: v.status,
    resources_status: v.resourcesStatus,
    resources_reason: v.resourcesReason,
    created_at: v.createdAt,
  };
}

export function verificationRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/verifications', async (req) => {
      const q = listQuery(req.query, services, VERIFICATION_FILTERS, ['id', 'status', 'created_at']);
      const items = await services.verifications.list(req.caller, q);
      return withLinks(req, services, 'verifications', items, items.map(verificationView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/verifications', { schema: { body: CreateBody } }, async (req) => ({
      verification: verificationView(await services.verifications.create(req.caller, req.body.verification)),
    }));
    app.get<{ Params: { verification_id: string } }>('/verifications/:verification_id', async (req) => {
      const verification = verificationView(await services.verifications.get(req.caller, req.params.verification_id));
      const progress = progressView(await services.verifications.progress(req.caller, req.params.verification_id));
      return { verification: progress ? { ...verification, progress } : verification };
    });
  };
}
