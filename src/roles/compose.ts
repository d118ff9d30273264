/**
 * compose is the composition root: configuration → store → plugins → services. It is the only place
 * that knows concrete plugins and backends.
 */
import { resolve } from 'node:path';
import { bankKeyFile, bankLabel, type BankConfig, type Config } from '../config/index.js';
import { fsBackend, s3Backend, swiftBackend, retry, type BankBackend } from '../bank/index.js';
import type { BankSpec } from '../engine/index.js';
import { PluginRegistry } from '../plugins/registry.js';
import { directoryPlugin, directoryProtectable } from '../plugins/file-tree/index.js';
import { noopPlugin } from '../plugins/noop/index.js';
import { sftpAccess } from '../plugins/hooks/index.js';
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
  return config.providers.map((p) => ({
    providerId: p.id, label: bankLabel(p.bank), keyFile: bankKeyFile(p.bank), backend: () => bankBackend(p.bank),
    ...(p.bank.passphrase ? { passphrase: p.bank.passphrase } : {}),
  }));
}

/** bankBackend is the object layer a bank's configuration names, behind the retry decorator for remote stores. */
export async function bankBackend(b: BankConfig): Promise<BankBackend> {
  switch (b.type) {
    case 'fs':
      return fsBackend({ root: b.path });
    case 's3': {
      const s3 = s3Backend({
        bucket: b.bucket, prefix: b.prefix, ...(b.endpoint ? { endpoint: b.endpoint } : {}), ...(b.region ? { region: b.region } : {}),
        ...(b.accessKeyId && b.secretAccessKey ? { credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } } : {}),
        ...(b.forcePathStyle === undefined ? {} : { forcePathStyle: b.forcePathStyle }),
      });
      await s3.ensureBucket();
      return retry(s3);
    }
    case 'swift': {
      const swift = swiftBackend({
        authUrl: b.authUrl, username: b.username, password: b.password, projectName: b.projectName, container: b.container, prefix: b.prefix,
        ...(b.userDomainId ? { userDomainId: b.userDomainId } : {}), ...(b.projectDomainId ? { projectDomainId: b.projectDomainId } : {}),
        ...(b.region ? { region: b.region } : {}),
      });
      await swift.ensureContainer();
      return retry(swift);
    }
  }
}

export function buildRegistry(config: Config): PluginRegistry {
  const registry = new PluginRegistry();
  registry.registerProtectable(directoryProtectable(config.protectables.directory.roots));
  // Directory restores to sftp:// targets use the ssh hooks' connection (host keys checked) and stage under the data dir.
  registry.registerProtectionPlugin(directoryPlugin(config.protectables.directory.roots, { access: sftpAccess, stagingDir: resolve(config.dataDir, 'restore-staging') }));
  registry.registerProtectionPlugin(noopPlugin);
  return registry;
}

export async function compose(config: Config, opts: { clock?: Clock; pgSchema?: string } = {}): Promise<Hoard> {
  const store = await openStore({ url: databaseUrl(config), ...(opts.pgSchema ? { schema: opts.pgSchema } : {}) });
  const registry = buildRegistry(config);
  const services = buildServices({ store, registry, config, clock: opts.clock ?? systemClock });
  return { config, store, registry, services, close: () => store.close() };
}
