/**
 * `hoard.io/noop`: protects every registered resource type by recording nothing. Karbor shipped the same
 * provider (same id) so that plans, schedules and the API can be exercised without touching data. Its
 * operations have no hooks at all: the engine journals each hook as skipped, so a no-op checkpoint
 * goes `protecting` → `available` (and a restore `in_progress` → `success`) without any work, and every
 * hook is trivially safe to resume after a crash.
 */
import { Type } from '@sinclair/typebox';
import { HOOKS, NO_CAPABILITIES, SDK_VERSION, type ProtectionPlugin, type ResourceOperation } from '../sdk/index.js';

const NOTHING: ResourceOperation = { resumable: HOOKS };

/** noopPlugin protects, restores and deletes any resource type by doing nothing; safe to resume anywhere. */
export const noopPlugin: ProtectionPlugin = {
  name: 'hoard.io/noop',
  sdkVersion: SDK_VERSION,
  resourceTypes: ['*'],
  capabilities: NO_CAPABILITIES,
  // It writes nothing, so it honours any restore_target equally (Karbor's noop restores accept one too).
  restoreTargets: ['*'],
  schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
  operation: () => NOTHING,
};
