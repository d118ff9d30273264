/** OsServiceService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface OsServiceService {}

export function osServiceService(_deps: ServiceDeps): OsServiceService {
  return {};
}
