/**
 * The heartbeat of the roles a process runs: each registers its os-services row on start and touches it
 * every services.heartbeatSeconds, so `service-list` shows it `up` until the process stops beating.
 * The timer is unref'd: a heartbeat alone never keeps a process alive.
 */
import { hostname } from 'node:os';
import type { Role, OsServiceService } from '../services/os-services/index.js';

/** Heartbeat is a running heartbeat for one process's roles. */
export interface Heartbeat {
  /** ids are the os-services ids of the registered roles. */
  readonly ids: ReadonlyMap<Role, number>;
  /** beat touches every role now (the timer calls it; tests may too). */
  beat(): Promise<void>;
  stop(): void;
}

/** HeartbeatOptions says which roles to register, where, and how often to beat. */
export interface HeartbeatOptions {
  readonly osServices: OsServiceService;
  readonly roles: readonly Role[];
  readonly intervalSeconds: number;
  readonly host?: string;
  /** onError hears failed beats; the next beat tries again. Defaults to stderr. */
  readonly onError?: (err: unknown) => void;
}

/** startHeartbeat registers the roles and starts beating for them. */
export async function startHeartbeat(opts: HeartbeatOptions): Promise<Heartbeat> {
  const host = opts.host ?? hostname();
  const ids = new Map<Role, number>();
  const register = async (role: Role) => ids.set(role, (await opts.osServices.register(host, role)).id);
  for (const role of opts.roles) await register(role);

  const beatOne = async (role: Role) => {
    const id = ids.get(role);
    // A row that vanished (an operator cleaned the table) is recreated rather than beaten in vain.
    if (id === undefined || !(await opts.osServices.heartbeat(id))) await register(role);
  };
  const beat = async () => {
    for (const role of opts.roles) await beatOne(role);
  };
  const onError = opts.onError ?? ((err: unknown) => process.stderr.write(`hoard: heartbeat failed: ${(err as Error)?.message ?? String(err)}\n`));
  let running = false;
  const timer = setInterval(() => {
    // Beats never overlap: a slow database would otherwise pile them up.
    if (running) return;
    running = true;
    beat().catch(onError).finally(() => { running = false; });
  }, Math.max(0.1, opts.intervalSeconds) * 1000);
  timer.unref();

  return { ids, beat, stop: () => clearInterval(timer) };
}
