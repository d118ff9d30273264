/**
 * compose is the composition root: configuration → store → plugins → services. It is the only place
 * that knows concrete plugins and backends.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { BankSpec } from '../engine/index.js';
import { PluginRegistry } from '../plugins/registry.js';
import { directoryPlugin, directoryProtectable } from '../plugins/file-tree/index.js';
import { noopPlugin } from '../plugins/noop/index.js';
import { buildServices, type Services } from '../services/index.js';
import { openStore, type Store } from '../store/index.js';
import { systemClock, type Clock } from '../util/clock.js';

export interface Hoard {
  readonly config: Config;
  readonly store: Store;
  readonly registry: PluginRegistry;
  readonly services: Services;
  close(): Promise<void>;
}

export function databaseUrl(config: Config): string {
  return config.database.url || `sqlite:${resolve(config.dataDir, 'hoard.db')}`;
}

/** bankSpecs are the providers' banks as the protection engine opens them. */
export function bankSpecs(config: Config): BankSpec[] {
  return config.providers.map((p) => ({ providerId: p.id, path: p.bank.path, ...(p.bank.passphrase ? { passphrase: p.bank.passphrase } : {}) }));
}

export function buildRegistry(config: Config): PluginRegistry {
  const registry = new PluginRegistry();
  registry.registerProtectable(directoryProtectable(config.protectables.directory.roots));
  registry.registerProtectionPlugin(directoryPlugin(config.protectables.directory.roots));
  registry.registerProtectionPlugin(noopPlugin);
  return registry;
}

export async function compose(config: Config, opts: { clock?: Clock; pgSchema?: string } = {}): Promise<Hoard> {
  const store = await openStore({ url: databaseUrl(config), ...(opts.pgSchema ? { schema: opts.pgSchema } : {}) });
  const registry = buildRegistry(config);
  const services = buildServices({ store, registry, config, clock: opts.clock ?? systemClock });
  return { config, store, registry, services, close: () => store.close() };
}
