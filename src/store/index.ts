/**
 * The metadata store: Kysely over SQLite (embedded default) or PostgreSQL. Each collection has its own
 * module of small functions taking a Kysely handle, so a service can run several of them in one
 * transaction. Nothing here knows about HTTP or plugins.
 */
export { openStore, lockProject, type Store, type StoreOptions } from './db.js';
export type { Database } from './schema.js';
export { MarkerNotFound, type Filter, type PageQuery, type SortKey } from './paging.js';
export * as plans from './plans.js';
export type { PlanRecord, PlanResourceRecord } from './plans.js';
export * as tokens from './tokens.js';
export * as quotas from './quotas.js';
