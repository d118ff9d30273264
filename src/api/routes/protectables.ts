import type { FastifyPluginAsync } from 'fastify';
import { HoardError } from '../../model/errors.js';
import type { Resource } from '../../plugins/sdk/index.js';
import type { Services } from '../../services/index.js';
import type { ProtectableInstance } from '../../services/protectables/index.js';
import { listQuery, withLinks } from './common.js';

const resourceView = (r: Resource) => ({ id: r.id, type: r.type, name: r.name, extra_info: r.extraInfo ?? null });
const instanceView = (i: ProtectableInstance) => ({ ...resourceView(i), dependent_resources: i.dependents.map(resourceView) });

/**
 * parseParameters reads `?parameters=`, which the Karbor CLI sends as a Python dict literal
 * (`{'path': '/srv'}`) and other clients as JSON. Only flat string/number/boolean maps are accepted.
 */
export function parseParameters(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  if (typeof raw !== 'string') throw new HoardError('invalid_parameters', 'parameters must be given once.');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    const json = raw.replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null');
    try {
      value = JSON.parse(json);
    } catch {
      throw new HoardError('invalid_parameters', `parameters must be a JSON object or a Python dict literal, not ${JSON.stringify(raw.slice(0, 80))}.`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v === 'object' && v !== null)) {
    throw new HoardError('invalid_parameters', 'parameters must be a flat object of name: value.');
  }
  return value as Record<string, unknown>;
}

export function protectableRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/protectables', async (req) => {
      listQuery(req.query, services, []);
      return { protectable_type: services.protectables.types() };
    });
    app.get<{ Params: { type: string } }>('/protectables/:type', async (req) => {
      const t = services.protectables.type(req.params.type);
      return { protectable_type: { name: t.name, dependent_types: t.dependentTypes } };
    });
    app.get<{ Params: { type: string }; Querystring: Record<string, unknown> }>('/protectables/:type/instances', async (req) => {
      const { parameters, type: _ignoredType, ...rest } = req.query;
      const q = listQuery(rest, services, [], ['id', 'name']);
      let items = await services.protectables.instances(req.caller, req.params.type, parseParameters(parameters));
      if (q.marker !== undefined) {
        const i = items.findIndex((x) => x.id === q.marker);
        if (i < 0) throw new HoardError('invalid_paging', `Marker ${q.marker} could not be found in this collection.`);
        items = items.slice(i + 1);
      }
      items = items.slice(0, q.limit);
      return withLinks(req, services, 'instances', items, items.map(instanceView), q);
    });
    app.get<{ Params: { type: string; id: string }; Querystring: Record<string, unknown> }>('/protectables/:type/instances/:id', async (req) => {
      const i = await services.protectables.instance(req.caller, req.params.type, req.params.id, parseParameters(req.query.parameters));
      return { instance: instanceView(i) };
    });
  };
}
