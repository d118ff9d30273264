/** v1Routes registers one encapsulated plugin per Karbor collection under `/v1/{project_id}`. */
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import { planRoutes } from './plans.js';
import { protectableRoutes } from './protectables.js';
import { providerRoutes } from './providers.js';

export function v1Routes(services: Services): FastifyPluginAsync {
  return async (app) => {
    await app.register(providerRoutes(services));
    await app.register(protectableRoutes(services));
    await app.register(planRoutes(services));
  };
}
