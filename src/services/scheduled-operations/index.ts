/** ScheduledOperationService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface ScheduledOperationService {}

export function scheduledOperationService(_deps: ServiceDeps): ScheduledOperationService {
  return {};
}
