/**
 * Services are Hoard's use cases, one folder each, wired here from their dependencies. Interfaces
 * (API, CLI, scheduler) call services and nothing below them.
 */
import type { ServiceDeps } from './context.js';
import { planService, type PlanService } from './plans/index.js';
import { protectableService, type ProtectableService } from './protectables/index.js';
import { providerService, type ProviderService } from './providers/index.js';

export type { ServiceDeps } from './context.js';

export interface Services {
  readonly deps: ServiceDeps;
  readonly providers: ProviderService;
  readonly protectables: ProtectableService;
  readonly plans: PlanService;
}

export function buildServices(deps: ServiceDeps): Services {
  const providers = providerService(deps);
  return {
    deps,
    providers,
    protectables: protectableService(deps),
    plans: planService(deps, providers),
  };
}
