/**
 * The protection role: one engine worker per process, claiming protect, restore and delete operations
 * from the shared metadata database and running them. Several processes may run it against one
 * PostgreSQL database; leases make sure each operation has one owner at a time.
 */
import { createWorker, providerBanks, type EngineOptions, type Worker } from '../engine/index.js';
import { bankSink } from '../engine/bank-sink.js';
import { bankSpecs, type Hoard } from './compose.js';
import { noopPlugin } from '../plugins/noop/index.js';

/** ProtectionRole is a running protection role; stop() drains it (running hooks finish, leases are released). */
export interface ProtectionRole {
  readonly worker: Worker;
  stop(): Promise<void>;
}

/** startProtection starts the worker loop for a composed Hoard (with its providers' banks); it sweeps expired leases at once. */
export function startProtection(hoard: Hoard, options: Partial<EngineOptions> = {}): ProtectionRole {
  const banks = providerBanks(bankSpecs(hoard.config));
  const keepsRecords = (id: string) => hoard.config.providers.some((p) => p.id === id && p.plugins.some((name) => name !== noopPlugin.name));
  // Checkpoint records go to the provider's bank as well as the database (decision 1).
  const worker = createWorker({ store: hoard.store, registry: hoard.registry, banks, sink: bankSink(hoard.store, banks, keepsRecords), options });
  worker.start();
  return { worker, stop: () => worker.stop() };
}
