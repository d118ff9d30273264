/**
 * openStore connects to the metadata database and brings its schema up to date. SQLite (the embedded
 * default) lives in one file with WAL; PostgreSQL is chosen by a postgres:// URL and may be confined to
 * one schema (tests use a schema each so that runs never see each other's rows).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { init, type Dialect } from './migrations/0001_init.js';
import { engine } from './migrations/0002_engine.js';
import { retention } from './migrations/0003_retention.js';
import { verifications } from './migrations/0004_verifications.js';
import { scheduler } from './migrations/0005_scheduler.js';
import { cancel } from './migrations/0006_cancel.js';
import { restoreCredentials } from './migrations/0007_restore_credentials.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://…` or `sqlite:<path>`; a bare path means SQLite. */
  readonly url: string;
  /** PostgreSQL only: the schema to create and use. */
  readonly schema?: string;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const isPg = /^postgres(ql)?:\/\//.test(opts.url);
  const store = isPg ? await openPostgres(opts.url, opts.schema) : openSqlite(opts.url.replace(/^sqlite:/, ''));
  await migrate(store, isPg ? opts.schema : undefined);
  return store;
}

function openSqlite(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const conn = new SQLite(path);
  conn.pragma('journal_mode = WAL');
  conn.pragma('busy_timeout = 5000');
  conn.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Store> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

async function migrate(store: Store, schema: string | undefined): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => ({ '0001_init': init(store.dialect), '0002_engine': engine(), '0003_retention': retention(), '0004_verifications': verifications(), '0005_scheduler': scheduler(), '0006_cancel': cancel(), '0007_restore_credentials': restoreCredentials() }) };
  // Named schema (tests give each store one): Kysely otherwise finds its migration tables in ANY schema
  // of the database, skips creating them in this one, and fails whenever another store's schema exists.
  const migrator = new Migrator({ db: store.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`metadata migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`);
  }
}

/** lockProject serialises quota-checked inserts for one project inside a transaction (PostgreSQL only;
 * SQLite transactions already serialise writers). */
export async function lockProject(trx: Kysely<Database>, dialect: Dialect, projectId: string, scope: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`${scope}:${projectId}`}))`.execute(trx);
}
