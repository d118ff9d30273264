/**
 * os-services: the roles each Hoard process runs, their heartbeat and whether an admin disabled them.
 * A role is `up` while its last heartbeat is within services.downAfterSeconds. Only the protection and
 * scheduler roles can be disabled (they honour it by taking no new work); disabling the API role would
 * mean nothing, because a disabled API could still answer the request to enable it again.
 */
import type { Caller } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { services } from '../../store/index.js';
import type { ServiceRecord } from '../../store/services.js';
import { storedTime } from '../../util/clock.js';
import type { ServiceDeps } from '../context.js';

export type { ServiceRecord } from '../../store/services.js';

/** ROLE_BINARIES names the binary each role registers as, Karbor style. */
export const ROLE_BINARIES = { api: 'hoard-api', protection: 'hoard-protection', scheduler: 'hoard-scheduler' } as const;
/** Role is a role a Hoard process can run. */
export type Role = keyof typeof ROLE_BINARIES;

/** DISABLEABLE_BINARIES are the binaries an admin may enable or disable. */
export const DISABLEABLE_BINARIES: readonly string[] = [ROLE_BINARIES.protection, ROLE_BINARIES.scheduler];

/** ServiceStatus is a service as the API shows it, with its liveness computed now. */
export interface ServiceStatus extends ServiceRecord {
  readonly up: boolean;
}

/** ServiceChange is the unwrapped PUT body of `/os-services/{id}`. */
export interface ServiceChange {
  readonly status: 'enabled' | 'disabled';
  readonly disabled_reason?: string | null;
}

/** OsServiceService registers and heartbeats roles, and lets admins list and disable them. */
export interface OsServiceService {
  register(host: string, role: Role): Promise<ServiceRecord>;
  /** heartbeat records that a service is alive; false when its row is gone and it must register again. */
  heartbeat(id: number): Promise<boolean>;
  list(caller: Caller, filters: { host?: string | undefined; binary?: string | undefined }): Promise<ServiceStatus[]>;
  update(caller: Caller, id: string, change: ServiceChange): Promise<ServiceStatus>;
}

/** osServiceService builds the OsServiceService. */
export function osServiceService(deps: ServiceDeps): OsServiceService {
  const { store, config, clock } = deps;
  const db = store.db;

  const withState = (s: ServiceRecord): ServiceStatus => ({
    ...s,
    up: clock.now().getTime() - Date.parse(s.updatedAt) <= config.services.downAfterSeconds * 1000,
  });

  return {
    register(host, role) {
      return services.registerService(db, { host, binary: ROLE_BINARIES[role], topic: role, now: storedTime(clock.now()) });
    },

    heartbeat(id) {
      return services.touchService(db, id, storedTime(clock.now()));
    },

    async list(caller, filters) {
      requireAdmin(caller, 'list services');
      return (await services.listServices(db, filters)).map(withState);
    },

    async update(caller, id, change) {
      requireAdmin(caller, 'enable or disable services');
      const n = parseId(id);
      const found = await services.getService(db, n);
      if (!found) throw notFound('service', id);
      checkChange(found, change);
      const disabled = change.status === 'disabled';
      await services.setServiceStatus(db, n, disabled, disabled ? change.disabled_reason ?? null : null);
      return withState((await services.getService(db, n)) ?? found);
    },
  };
}

function requireAdmin(caller: Caller, what: string): void {
  if (!caller.isAdmin) throw new HoardError('forbidden', `Only an admin may ${what}.`);
}

function parseId(id: string): number {
  if (!/^\d{1,9}$/.test(id)) throw new HoardError('invalid_id', `Invalid service id ${JSON.stringify(id.slice(0, 64))}: a service id is an integer.`);
  return Number(id);
}

function checkChange(s: ServiceRecord, change: ServiceChange): void {
  if (!DISABLEABLE_BINARIES.includes(s.binary)) {
    throw new HoardError('invalid_field', `Service ${s.id} is ${s.binary}, which cannot be enabled or disabled; only ${DISABLEABLE_BINARIES.join(' and ')} can.`);
  }
  if (change.status === 'enabled' && change.disabled_reason != null) {
    throw new HoardError('invalid_field', 'disabled_reason may only be given with status "disabled".');
  }
}
