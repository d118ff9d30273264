import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HoardError } from '../../model/errors.js';
import type { ScheduledOperationRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { SCHEDULED_OPERATION_FILTERS, SCHEDULED_OPERATION_SORT_KEYS } from '../../services/scheduled-operations/index.js';
import { listQuery, Nullable, withLinks } from './common.js';

const CreateBody = Type.Object({
  scheduled_operation: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
    operation_type: Type.String({ maxLength: 64 }),
    trigger_id: Type.String({ maxLength: 64 }),
    // Extra keys are Karbor's: they are kept and handed to the operation as they were sent.
    operation_definition: Type.Record(
      Type.String({ minLength: 1, maxLength: 255 }),
      Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]),
      { maxProperties: 64 },
    ),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

const Empty = Type.Object({}, { additionalProperties: false });
/** ActionBody is Hoard's enable/disable action, in the OpenStack action style: `{"enable": {}}` or `{"disable": {}}`. */
const ActionBody = Type.Object({ enable: Type.Optional(Empty), disable: Type.Optional(Empty) }, { additionalProperties: false });

/** scheduledOperationView is Karbor's shape; `enabled` is a real boolean and definition values keep their types. */
export function scheduledOperationView(op: ScheduledOperationRecord): Record<string, unknown> {
  return {
    id: op.id,
    name: op.name,
    description: op.description,
    operation_type: op.operationType,
    trigger_id: op.triggerId,
    operation_definition: op.operationDefinition,
    enabled: op.enabled,
  };
}

export function scheduledOperationRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/scheduled_operations', async (req) => {
      const q = listQuery(req.query, services, [...SCHEDULED_OPERATION_FILTERS, 'project_id'], SCHEDULED_OPERATION_SORT_KEYS);
      const items = await services.scheduledOperations.list(req.caller, q);
      return withLinks(req, services, 'operations', items, items.map(scheduledOperationView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/scheduled_operations', { schema: { body: CreateBody } }, async (req) => ({
      scheduled_operation: scheduledOperationView(await services.scheduledOperations.create(req.caller, req.body.scheduled_operation)),
    }));
    app.get<{ Params: { id: string } }>('/scheduled_operations/:id', async (req) => ({
      scheduled_operation: scheduledOperationView(await services.scheduledOperations.get(req.caller, req.params.id)),
    }));
    // Hoard extension: Karbor has no way to pause a scheduled operation short of deleting it.
    app.post<{ Params: { id: string }; Body: Static<typeof ActionBody> }>('/scheduled_operations/:id/action', { schema: { body: ActionBody } }, async (req) => {
      const actions = Object.keys(req.body);
      if (actions.length !== 1) {
        throw new HoardError('invalid_field', `Give exactly one action: {"enable": {}} or {"disable": {}} (got ${actions.length === 0 ? 'none' : actions.join(' and ')}).`);
      }
      const op = await services.scheduledOperations.setEnabled(req.caller, req.params.id, actions[0] === 'enable');
      return { scheduled_operation: scheduledOperationView(op) };
    });
    app.delete<{ Params: { id: string } }>('/scheduled_operations/:id', async (req, reply) => {
      await services.scheduledOperations.remove(req.caller, req.params.id);
      return reply.code(200).type('application/json').send('');
    });
  };
}
