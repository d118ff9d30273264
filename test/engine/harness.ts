/**
 * Engine test harness: a real store (SQLite file or PostgreSQL schema), a lab registry with the test's
 * plugin, the engine, and a worker with short timings. `settle` ticks the worker until the operation
 * about a checkpoint or restore has ended.
 */
import { randomUUID } from 'node:crypto';
import { createEngine, createWorker, type Engine, type EngineOptions, type Worker } from '../../src/engine/index.js';
import { getOperation, latestOperation } from '../../src/store/operations.js';
import type { PluginRegistry } from '../../src/plugins/registry.js';
import type { ProtectionPlugin, Resource } from '../../src/plugins/sdk/index.js';
import { checkpoints, restores, type Store } from '../../src/store/index.js';
import { systemClock } from '../../src/util/clock.js';
import { tempStore } from '../helpers/store.js';

export const FAST: Partial<EngineOptions> = {
  tickMs: 20, leaseMs: 1500, hookTimeoutMs: 5000, retries: 3,
  retryBackoff: { initialMs: 5, maxMs: 20 }, pollBackoff: { initialMs: 5, maxMs: 20 }, progressEveryMs: 0,
};

export interface EngineHarness {
  readonly store: Store;
  readonly engine: Engine;
  readonly worker: Worker;
  readonly provider: { id: string; plugins: string[] };
  protect(resources: readonly Resource[], parameters?: Record<string, Record<string, unknown>>): Promise<string>;
  /** settle runs the worker until the newest operation about the subject has ended. */
  settle(by: { checkpointId: string } | { restoreId: string }): Promise<void>;
  close(): Promise<void>;
}

/** harness opens a store and wires the engine around `plugin` and the lab protectables in `registry`. */
export async function harness(dialect: 'sqlite' | 'postgres', registry: PluginRegistry, plugin: ProtectionPlugin, options: Partial<EngineOptions> = {}): Promise<EngineHarness> {
  const { store, cleanup } = await tempStore(dialect);
  registry.registerProtectionPlugin(plugin);
  const engine = createEngine({ store, registry, clock: systemClock });
  const worker = createWorker({ store, registry, options: { ...FAST, ...options } });
  const provider = { id: randomUUID(), plugins: [plugin.name] };
  return {
    store, engine, worker, provider,
    async protect(resources, parameters = {}) {
      const plan = { id: randomUUID(), name: 'lab plan', providerId: provider.id, parameters, resources: resources.map((r) => ({ ...r, extraInfo: (r.extraInfo ?? null) as Record<string, unknown> | null })) };
      return (await engine.protect({ projectId: 'demo', provider, plan, extraInfo: { created_by: 'manual' } })).id;
    },
    async settle(by) {
      for (let i = 0; i < 500; i++) {
        await worker.tick();
        await worker.idle();
        const op = await latestOperation(store.db, by);
        if (op && (op.status === 'done' || op.status === 'error')) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`operation about ${JSON.stringify(by)} did not end`);
    },
    async close() {
      await worker.stop();
      await cleanup();
    },
  };
}

/** checkpointStatus reads a checkpoint's status. */
export async function checkpointStatus(store: Store, id: string): Promise<string | undefined> {
  return (await checkpoints.getCheckpoint(store.db, id))?.status;
}

/** restoreOf reads a restore row. */
export async function restoreOf(store: Store, id: string) {
  return restores.getRestore(store.db, id);
}

/** operationError reads the error of the newest operation about a subject. */
export async function operationError(store: Store, by: { checkpointId: string } | { restoreId: string }): Promise<string | null | undefined> {
  const op = await latestOperation(store.db, by);
  return op ? (await getOperation(store.db, op.id))?.error : undefined;
}
