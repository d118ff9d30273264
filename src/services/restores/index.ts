/** RestoreService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface RestoreService {}

export function restoreService(_deps: ServiceDeps): RestoreService {
  return {};
}
