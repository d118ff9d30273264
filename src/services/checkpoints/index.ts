/** CheckpointService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface CheckpointService {}

export function checkpointService(_deps: ServiceDeps): CheckpointService {
  return {};
}
