import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TriggerRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { TRIGGER_FILTERS, TRIGGER_SORT_KEYS } from '../../services/triggers/index.js';
import { listQuery, withLinks } from './common.js';

const Name = Type.String({ minLength: 1, maxLength: 255 });
// Property keys and values are checked by the trigger service, so every mistake there is reported as an
// invalid trigger with a message about the schedule rather than a generic schema error.
const Properties = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown());

const CreateBody = Type.Object({
  trigger_info: Type.Object({
    name: Name,
    type: Type.String({ maxLength: 64 }),
    properties: Properties,
  }, { additionalProperties: false }),
}, { additionalProperties: false });

const UpdateBody = Type.Object({
  trigger_info: Type.Object({
    name: Type.Optional(Name),
    properties: Type.Optional(Properties),
  }, { additionalProperties: false, minProperties: 1 }),
}, { additionalProperties: false });

/** triggerView is Karbor's trigger shape `{id,name,type,properties}` with the effective properties. */
export function triggerView(t: TriggerRecord): Record<string, unknown> {
  return { id: t.id, name: t.name, type: t.type, properties: t.properties };
}

export function triggerRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/triggers', async (req) => {
      const q = listQuery(req.query, services, [...TRIGGER_FILTERS, 'project_id'], TRIGGER_SORT_KEYS);
      const items = await services.triggers.list(req.caller, q);
      return withLinks(req, services, 'triggers', items, items.map(triggerView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/triggers', { schema: { body: CreateBody } }, async (req) => ({
      trigger_info: triggerView(await services.triggers.create(req.caller, req.body.trigger_info)),
    }));
    app.get<{ Params: { trigger_id: string } }>('/triggers/:trigger_id', async (req) => ({
      trigger_info: triggerView(await services.triggers.get(req.caller, req.params.trigger_id)),
    }));
    app.put<{ Params: { trigger_id: string }; Body: Static<typeof UpdateBody> }>('/triggers/:trigger_id', { schema: { body: UpdateBody } }, async (req) => ({
      trigger_info: triggerView(await services.triggers.update(req.caller, req.params.trigger_id, req.body.trigger_info)),
    }));
    app.delete<{ Params: { trigger_id: string } }>('/triggers/:trigger_id', async (req, reply) => {
      await services.triggers.remove(req.caller, req.params.trigger_id);
      return reply.code(200).type('application/json').send('');
    });
  };
}
