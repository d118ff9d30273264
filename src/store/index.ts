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
export * as operationLogs from './operation-logs.js';
export * as services from './services.js';
export * as checkpoints from './checkpoints.js';
export type { CheckpointRecord, CheckpointPlanRecord, CheckpointStatus } from './checkpoints.js';
export * as restores from './restores.js';
export type { RestoreRecord } from './restores.js';
export * as verifications from './verifications.js';
export type { VerificationRecord } from './verifications.js';
export * as triggers from './triggers.js';
export type { TriggerRecord, TriggerPropertiesRecord } from './triggers.js';
export * as scheduledOperations from './scheduled-operations.js';
export type { ScheduledOperationRecord } from './scheduled-operations.js';
