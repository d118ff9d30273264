/** v1Routes registers one encapsulated plugin per Karbor collection under `/v1/{project_id}`. */
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import { cancelRoutes } from './cancel.js';
import { checkpointRoutes } from './checkpoints.js';
import { operationLogRoutes } from './operation-logs.js';
import { osServiceRoutes } from './os-services.js';
import { planRoutes } from './plans.js';
import { protectableRoutes } from './protectables.js';
import { providerRoutes } from './providers.js';
import { quotaRoutes } from './quotas.js';
import { restoreRoutes } from './restores.js';
import { retentionRoutes } from './retention.js';
import { scheduledOperationRoutes } from './scheduled-operations.js';
import { triggerRoutes } from './triggers.js';
import { verificationRoutes } from './verifications.js';

export function v1Routes(services: Services): FastifyPluginAsync {
  return async (app) => {
    await app.register(providerRoutes(services));
    await app.register(protectableRoutes(services));
    await app.register(planRoutes(services));
    await app.register(checkpointRoutes(services));
    await app.register(restoreRoutes(services));
    await app.register(verificationRoutes(services));
    await app.register(triggerRoutes(services));
    await app.register(scheduledOperationRoutes(services));
    await app.register(operationLogRoutes(services));
    await app.register(quotaRoutes(services));
    await app.register(osServiceRoutes(services));
    await app.register(retentionRoutes(services));
    await app.register(cancelRoutes(services));
  };
}
