/**
 * Time triggers. Properties are kept as one JSON text column, already validated and normalised by the
 * trigger service, so a `properties` filter can match any part of them.
 */
import type { Kysely } from 'kysely';
import type { Database, TriggerTable } from './schema.js';
import { pageOf, type PageQuery } from './paging.js';

/** TriggerPropertiesRecord is a time trigger's effective schedule, times in Karbor's `YYYY-MM-DD HH:MM:SS` UTC. */
export interface TriggerPropertiesRecord {
  readonly format: 'crontab' | 'calendar';
  readonly pattern: string;
  readonly start_time: string;
  readonly end_time?: string;
  readonly window: number;
  readonly timezone: string;
}

export interface TriggerRecord {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly type: 'time';
  readonly properties: TriggerPropertiesRecord;
  readonly createdAt: string;
  readonly updatedAt: string;
}

type Db = Kysely<Database>;

export async function insertTrigger(db: Db, t: TriggerRecord): Promise<void> {
  await db.insertInto('triggers').values(toRow(t)).execute();
}

export async function updateTriggerRow(db: Db, t: TriggerRecord): Promise<void> {
  const { id: _id, ...row } = toRow(t);
  await db.updateTable('triggers').set(row).where('id', '=', t.id).execute();
}

export async function deleteTriggerRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('triggers').where('id', '=', id).execute();
}

export async function getTrigger(db: Db, id: string): Promise<TriggerRecord | undefined> {
  const row = await db.selectFrom('triggers').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listTriggers(db: Db, q: PageQuery): Promise<TriggerRecord[]> {
  return (await pageOf<TriggerTable>(db, 'triggers', q)).map(fromRow);
}

function toRow(t: TriggerRecord): TriggerTable {
  return {
    id: t.id,
    project_id: t.projectId,
    name: t.name,
    type: t.type,
    properties: JSON.stringify(t.properties),
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

function fromRow(r: TriggerTable): TriggerRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    type: r.type as TriggerRecord['type'],
    properties: JSON.parse(r.properties),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
