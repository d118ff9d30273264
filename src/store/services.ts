/**
 * Service rows: one per (host, binary) a Hoard process runs. `updated_at` is the last heartbeat and
 * nothing else, so changing a service's status never makes a dead process look alive.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, ServiceTable } from './schema.js';

/** ServiceRecord is one registered role of one process. */
export interface ServiceRecord {
  readonly id: number;
  readonly host: string;
  readonly binary: string;
  readonly topic: string;
  readonly disabled: boolean;
  readonly disabledReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

/**
 * registerService creates the row for host+binary, or refreshes its topic and heartbeat when the
 * process restarts; an admin's enable/disable choice survives the restart.
 */
export async function registerService(db: Db, s: { host: string; binary: string; topic: string; now: string }): Promise<ServiceRecord> {
  await db.insertInto('services')
    .values({ host: s.host, binary: s.binary, topic: s.topic, disabled: 0, disabled_reason: null, created_at: s.now, updated_at: s.now })
    .onConflict((oc) => oc.columns(['host', 'binary']).doUpdateSet({ topic: s.topic, updated_at: s.now }))
    .execute();
  const row = await db.selectFrom('services').selectAll().where('host', '=', s.host).where('binary', '=', s.binary).executeTakeFirstOrThrow();
  return fromRow(row);
}

/** touchService records a heartbeat; false when the row no longer exists. */
export async function touchService(db: Db, id: number, at: string): Promise<boolean> {
  const res = await db.updateTable('services').set({ updated_at: at }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** getService reads one service by id. */
export async function getService(db: Db, id: number): Promise<ServiceRecord | undefined> {
  const row = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** listServices returns every service, optionally only those on a host or of a binary, by id. */
export async function listServices(db: Db, f: { host?: string | undefined; binary?: string | undefined } = {}): Promise<ServiceRecord[]> {
  let qb = db.selectFrom('services').selectAll();
  if (f.host !== undefined) qb = qb.where('host', '=', f.host);
  if (f.binary !== undefined) qb = qb.where('binary', '=', f.binary);
  return (await qb.orderBy('id', 'asc').execute()).map(fromRow);
}

/** setServiceStatus enables or disables a service; false when the row does not exist. */
export async function setServiceStatus(db: Db, id: number, disabled: boolean, reason: string | null): Promise<boolean> {
  const res = await db.updateTable('services').set({ disabled: disabled ? 1 : 0, disabled_reason: reason }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

function fromRow(r: Selectable<ServiceTable>): ServiceRecord {
  return {
    id: Number(r.id),
    host: r.host,
    binary: r.binary,
    topic: r.topic,
    disabled: Number(r.disabled) !== 0,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
