import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import type { Provider } from '../../services/providers/index.js';
import { listQuery, withLinks } from './common.js';

export function providerView(p: Provider): Record<string, unknown> {
  return { id: p.id, name: p.name, description: p.description, extended_info_schema: p.extendedInfoSchema };
}

export function providerRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/providers', async (req) => {
      const q = listQuery(req.query, services, ['name', 'description'], ['id']);
      const items = services.providers.list(q);
      return withLinks(req, services, 'providers', items, items.map(providerView), q);
    });
    app.get<{ Params: { provider_id: string } }>('/providers/:provider_id', async (req) => ({ provider: providerView(services.providers.get(req.params.provider_id)) }));
  };
}
