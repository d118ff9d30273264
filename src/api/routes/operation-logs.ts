import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';

/** Placeholder until implemented. */
export function operationLogRoutes(_services: Services): FastifyPluginAsync {
  return async () => {};
}
