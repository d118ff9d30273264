/**
 * The worker: claims operations (pending ones, and any whose lease expired — the sweep), runs each
 * with runOperation while renewing its lease every third of the lease time, and gives an operation up
 * at once when a renewal finds it taken (its hooks are aborted and its journal writes are fenced off).
 * stop() drains: no new hooks start, running ones finish and are journaled, then leases are released
 * so that another worker takes over without waiting for expiry.
 *
 * A user's cancel reaches the worker through the database (the API may run in another process): every
 * tick asks, by primary key, whether any operation it holds was asked to stop, and aborts that run with
 * a Cancelled reason; the run then ends in error and compensates (it is not drained or given up).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Store } from '../store/index.js';
import { cancelRequests, claimOperations, releaseLease, renewLeases } from '../store/operations.js';
import { journalWriter, LeaseLost } from './journal/index.js';
import { cancelReason, Cancelled } from './operations/cancel.js';
import { runOperation } from './operations/run.js';
import type { RunDeps } from './operations/run-state.js';
import { engineOptions, type EngineOptions } from './options.js';
import { limits } from './scheduler/index.js';
import { providerBanks, type ProviderBanks } from './bank-data.js';
import { databaseSink, type CheckpointRecordSink } from './sink.js';

/** WorkerDeps: the store, the plugins, where checkpoint records go, and options. */
export interface WorkerDeps {
  readonly store: Store;
  readonly registry: PluginRegistry;
  readonly sink?: CheckpointRecordSink;
  /** banks reach providers' data; without it a hook that uses ctx.data fails with a clear reason. Closed by stop(). */
  readonly banks?: ProviderBanks;
  readonly options?: Partial<EngineOptions>;
  /** onError hears failures of the loop itself (a database outage); the next tick tries again. */
  readonly onError?: (err: unknown) => void;
}

/** Worker runs operations until stopped. `tick` claims and starts work once (tests call it directly). */
export interface Worker {
  readonly owner: string;
  start(): void;
  tick(): Promise<void>;
  /** idle resolves when no operation is running in this worker. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Held is a running operation: `drain` leaves it for another owner, `cancel` aborts it (lease lost), `stop` ends it (user cancel). */
interface Held { readonly drain: AbortController; readonly cancel: AbortController; readonly stop: AbortController; readonly done: Promise<void> }

/** createWorker builds a worker; nothing runs until start() or tick(). */
export function createWorker(deps: WorkerDeps): Worker {
  const options = engineOptions(deps.options);
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const run: RunDeps = {
    store: deps.store, registry: deps.registry, sink: deps.sink ?? databaseSink(deps.store), banks: deps.banks ?? providerBanks([]),
    writer: journalWriter(deps.store, owner), limits: limits(options.concurrency.global, options.concurrency.perPlugin), options,
  };
  const held = new Map<string, Held>();
  const onError = deps.onError ?? ((err: unknown) => process.stderr.write(`hoard: protection worker: ${(err as Error)?.message ?? String(err)}\n`));
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;

  const launch = (id: string) => {
    const h = { drain: new AbortController(), cancel: new AbortController(), stop: new AbortController() };
    // Every in-flight hook links to the cancel signal (and unlinks when done); that is not a leak.
    setMaxListeners(0, h.cancel.signal);
    const done = runOperation(run, id, h.drain.signal, h.cancel, h.stop.signal)
      .then(async (end) => { if (end === 'drained') await releaseLease(deps.store.db, owner, id); })
      .catch((err: unknown) => { if (!(err instanceof LeaseLost)) onError(err); })
      .finally(() => held.delete(id));
    held.set(id, { ...h, done });
  };

  const noticeCancels = async () => {
    const ids = [...held].filter(([, h]) => !h.stop.signal.aborted).map(([id]) => id);
    for (const c of await cancelRequests(deps.store.db, ids)) held.get(c.id)?.stop.abort(new Cancelled(cancelReason(c)));
  };

  const tick = async () => {
    // Also while stopping: a run being drained that the user cancels must end, not be left for another owner.
    await noticeCancels();
    if (stopping) return;
    const room = options.maxOperations - held.size;
    if (room <= 0) return;
    const now = Date.now();
    const ids = await claimOperations(deps.store.db, deps.store.dialect, owner, iso(now), iso(now + options.leaseMs), room);
    for (const id of ids) if (!held.has(id)) launch(id);
  };

  const renew = async () => {
    const ids = [...held.keys()];
    const kept = new Set(await renewLeases(deps.store.db, owner, ids, iso(Date.now() + options.leaseMs)));
    for (const id of ids) if (!kept.has(id)) loseLease(id, held.get(id));
  };

  return {
    owner,
    tick,
    start() {
      const every = (ms: number, fn: () => Promise<void>) => timers.push(setInterval(() => void fn().catch(onError), ms));
      void tick().catch(onError);
      every(options.tickMs, tick);
      every(Math.max(50, Math.floor(options.leaseMs / 3)), renew);
    },
    idle: async () => { while (held.size > 0) await Promise.all([...held.values()].map((h) => h.done)); },
    async stop() {
      stopping = true;
      for (const h of held.values()) h.drain.abort();
      while (held.size > 0) {
        await Promise.race([Promise.all([...held.values()].map((h) => h.done)), new Promise((r) => setTimeout(r, options.leaseMs / 3))]);
        await renew().catch(onError);
      }
      timers.forEach(clearInterval);
      await run.banks.close();
    },
  };
}

function loseLease(id: string, h: Held | undefined): void {
  h?.drain.abort();
  h?.cancel.abort(new LeaseLost(id));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
