/** QuotaService: placeholder until implemented; limits.ts already enforces plan quotas. */
import type { ServiceDeps } from '../context.js';

export interface QuotaService {}

export function quotaService(_deps: ServiceDeps): QuotaService {
  return {};
}
