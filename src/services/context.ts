/**
 * ServiceDeps is what every use case needs, handed down from the composition root. Services see the
 * store, the plugin registry, configuration and the clock; never HTTP.
 */
import type { Config } from '../config/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';

export interface ServiceDeps {
  readonly store: Store;
  readonly registry: PluginRegistry;
  readonly config: Config;
  readonly clock: Clock;
}
