/** TriggerService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface TriggerService {}

export function triggerService(_deps: ServiceDeps): TriggerService {
  return {};
}
