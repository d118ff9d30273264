/** OperationLogService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface OperationLogService {}

export function operationLogService(_deps: ServiceDeps): OperationLogService {
  return {};
}
