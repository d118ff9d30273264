/**
 * Services are Hoard's use cases, one folder each, wired here from their dependencies. Interfaces
 * (API, CLI, scheduler) call services and nothing below them.
 */
import type { ServiceDeps } from './context.js';
import { createEngine } from '../engine/index.js';
import { checkpointService, type CheckpointService } from './checkpoints/index.js';
import { operationLogService, type OperationLogService } from './operation-logs/index.js';
import { osServiceService, type OsServiceService } from './os-services/index.js';
import { planService, type PlanService } from './plans/index.js';
import { protectableService, type ProtectableService } from './protectables/index.js';
import { providerService, type ProviderService } from './providers/index.js';
import { quotaService, type QuotaService } from './quotas/index.js';
import { restoreService, type RestoreService } from './restores/index.js';
import { retentionService, type RetentionService } from './retention/index.js';
import { scheduledOperationService, type ScheduledOperationService } from './scheduled-operations/index.js';
import { triggerService, type TriggerService } from './triggers/index.js';
import { verificationService, type VerificationService } from './verifications/index.js';

export type { ServiceDeps } from './context.js';

export interface Services {
  readonly deps: ServiceDeps;
  readonly providers: ProviderService;
  readonly protectables: ProtectableService;
  readonly plans: PlanService;
  readonly triggers: TriggerService;
  readonly scheduledOperations: ScheduledOperationService;
  readonly operationLogs: OperationLogService;
  readonly quotas: QuotaService;
  readonly osServices: OsServiceService;
  readonly checkpoints: CheckpointService;
  readonly restores: RestoreService;
  readonly verifications: VerificationService;
  readonly retention: RetentionService;
}

export function buildServices(deps: ServiceDeps): Services {
  const providers = providerService(deps);
  const plans = planService(deps, providers);
  const engine = createEngine(deps);
  const checkpoints = checkpointService(deps, providers, plans, engine);
  return {
    deps,
    providers,
    protectables: protectableService(deps),
    plans,
    triggers: triggerService(deps),
    scheduledOperations: scheduledOperationService(deps),
    operationLogs: operationLogService(deps),
    quotas: quotaService(deps),
    osServices: osServiceService(deps),
    checkpoints,
    restores: restoreService(deps, providers, engine),
    verifications: verificationService(deps, providers, engine),
    retention: retentionService(deps, { plans, checkpoints }),
  };
}
