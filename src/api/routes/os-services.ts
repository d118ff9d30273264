/** Karbor's os-services routes, admin only; the PUT body is unwrapped, as Karbor's client sends it. */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HoardError } from '../../model/errors.js';
import type { Services } from '../../services/index.js';
import type { ServiceStatus } from '../../services/os-services/index.js';
import { karborTimestamp } from '../../util/clock.js';
import { Nullable } from './common.js';

const UpdateBody = Type.Object({
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
}, { additionalProperties: false });

const FILTERS = ['host', 'binary'];

/** serviceView is Karbor's Service S shape. */
export function serviceView(s: ServiceStatus): Record<string, unknown> {
  return {
    id: s.id,
    binary: s.binary,
    host: s.host,
    status: s.disabled ? 'disabled' : 'enabled',
    state: s.up ? 'up' : 'down',
    updated_at: karborTimestamp(new Date(s.updatedAt)),
    disabled_reason: s.disabledReason,
  };
}

/** serviceFilters reads `?host=&binary=`, refusing anything else as every Hoard list does. */
function serviceFilters(query: Record<string, unknown>): { host?: string; binary?: string } {
  const out: { host?: string; binary?: string } = {};
  for (const [k, v] of Object.entries(query)) {
    if (!FILTERS.includes(k)) throw new HoardError('invalid_filter', `Unknown filter '${k}'. Services can be filtered by ${FILTERS.join(', ')}.`);
    if (typeof v !== 'string') throw new HoardError('invalid_filter', `Query parameter ${k} was given more than once.`);
    out[k as 'host' | 'binary'] = v;
  }
  return out;
}

/** osServiceRoutes registers list and enable/disable. */
export function osServiceRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/os-services', async (req) => {
      const list = await services.osServices.list(req.caller, serviceFilters(req.query as Record<string, unknown>));
      return { services: list.map(serviceView) };
    });
    app.put<{ Params: { service_id: string }; Body: Static<typeof UpdateBody> }>('/os-services/:service_id', { schema: { body: UpdateBody } }, async (req) => ({
      service: serviceView(await services.osServices.update(req.caller, req.params.service_id, req.body)),
    }));
  };
}
