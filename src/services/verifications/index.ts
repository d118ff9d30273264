/** VerificationService: placeholder until implemented; see the issue notes. */
import type { ServiceDeps } from '../context.js';

export interface VerificationService {}

export function verificationService(_deps: ServiceDeps): VerificationService {
  return {};
}
