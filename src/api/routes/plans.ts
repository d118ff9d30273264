import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { PlanRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { PLAN_FILTERS } from '../../services/plans/index.js';
import { listQuery, Nullable, PlanParameterMap, withLinks } from './common.js';

const ResourceBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  type: Type.String({ minLength: 1, maxLength: 255 }),
  name: Type.String({ minLength: 1, maxLength: 255 }),
  // Karbor's CLI sends `extra_info` as an object; accept Karbor's own key spelling too.
  extra_info: Type.Optional(Nullable(Type.Record(Type.String({ maxLength: 255 }), Type.Unknown()))),
}, { additionalProperties: false });

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Description = Nullable(Type.String({ maxLength: 4096 }));

const CreateBody = Type.Object({
  plan: Type.Object({
    name: Name,
    description: Type.Optional(Description),
    provider_id: Type.String({ maxLength: 64 }),
    resources: Type.Array(ResourceBody, { minItems: 1, maxItems: 1000 }),
    parameters: Type.Optional(PlanParameterMap),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

const UpdateBody = Type.Object({
  plan: Type.Object({
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    resources: Type.Optional(Type.Array(ResourceBody, { minItems: 1, maxItems: 1000 })),
    parameters: Type.Optional(PlanParameterMap),
    status: Type.Optional(Type.Union([Type.Literal('suspended'), Type.Literal('started')])),
  }, { additionalProperties: false, minProperties: 1 }),
}, { additionalProperties: false });

const SECRET_KEYS = new Set(['password', 'privateKey', 'passphrase', 'secretAccessKey']);

/**
 * redactSecrets hides secrets written inline in parameters (exec hooks' passwords and keys) from every
 * reader of the plan; `env:` and `file:` references name no secret and are shown as written.
 */
function redactSecrets(v: unknown, key = ''): any {
  if (typeof v === 'string') return SECRET_KEYS.has(key) && !/^(env|file):/.test(v) ? '***' : v;
  if (Array.isArray(v)) return v.map((x) => redactSecrets(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSecrets(x, k)]));
  return v;
}

export function planView(p: PlanRecord): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    resources: p.resources.map((r) => ({ id: r.id, type: r.type, name: r.name, ...(r.extraInfo && Object.keys(r.extraInfo).length > 0 ? { extra_info: r.extraInfo } : {}) })),
    provider_id: p.providerId,
    status: p.status,
    parameters: redactSecrets(p.parameters),
    project_id: p.projectId,
    created_at: p.createdAt,
  };
}

export function planRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/plans', async (req) => {
      const q = listQuery(req.query, services, [...PLAN_FILTERS, 'project_id']);
      const items = await services.plans.list(req.caller, q);
      return withLinks(req, services, 'plans', items, items.map(planView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/plans', { schema: { body: CreateBody } }, async (req) => ({
      plan: planView(await services.plans.create(req.caller, req.body.plan)),
    }));
    app.get<{ Params: { plan_id: string } }>('/plans/:plan_id', async (req) => ({ plan: planView(await services.plans.get(req.caller, req.params.plan_id)) }));
    app.put<{ Params: { plan_id: string }; Body: Static<typeof UpdateBody> }>('/plans/:plan_id', { schema: { body: UpdateBody } }, async (req) => ({
      plan: planView(await services.plans.update(req.caller, req.params.plan_id, req.body.plan)),
    }));
    app.delete<{ Params: { plan_id: string } }>('/plans/:plan_id', async (req, reply) => {
      await services.plans.remove(req.caller, req.params.plan_id);
      return reply.code(200).type('application/json').send('');
    });
  };
}
