/**
 * `hoard.io/noop`: protects every registered resource type by recording nothing. Karbor shipped the same
 * provider (same id) so that plans, schedules and the API can be exercised without touching data.
 */
import { Type } from '@sinclair/typebox';
import { NO_CAPABILITIES, SDK_VERSION, type ProtectionPluginDescriptor } from '../sdk/index.js';

export const noopPlugin: ProtectionPluginDescriptor = {
  name: 'hoard.io/noop',
  sdkVersion: SDK_VERSION,
  resourceTypes: ['*'],
  capabilities: NO_CAPABILITIES,
  schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
};
