/**
 * openStore connects to the metadata database and brings its schema up to date. SQLite (the embedded
 * default) lives in one file with WAL; PostgreSQL is chosen by a postgres:// URL and may be confined to
 * one schema (tests use a schema each so that runs never see each other's rows).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.js';
import { init, type Dialect } from './migrations/0001_init.js';
import { engine } from './migrations/0002_engine.js';
import { retention } from './migrations/0003_retention.js';
import { verifications } from './migrations/0004_verifications.js';
import { scheduler } from './migrations/0005_scheduler.js';
import { cancel } from './migrations/0006_cancel.js';
import { restoreCredentials } from './migrations/0007_restore_credentials.js';
import { schedulerSettings } from './migrations/0008_scheduler_settings.js';

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
  // synchronous=NORMAL (scheduler work, docs/scheduler.md): with WAL a commit is appended to the WAL and
  // no longer waits for an fsync; the WAL is synced when it is checkpointed into the database. A
  // process crash (kill -9, OOM) loses nothing, since a committed transaction is already in the OS's
  // page cache; the database stays consistent whatever happens; only an OS crash or power cut can lose
  // the transactions committed since the last WAL sync, and those are rows the engine journals and the
  // bank holds anyway (the checkpoint index can be rebuilt from the bank). FULL's fsync per commit made
  // every checkpoint submission wait on the disk, which on a busy host was most of the fire delay.
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 5000');
  conn.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachedStatements(conn) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/**
 * cachedStatements hands Kysely prepared statements from a small LRU keyed by SQL text (scheduler work):
 * Kysely's SQLite driver prepares every statement on every call, and parsing the same SQL again was
 * an eighth of the CPU of the scheduler benchmark. Only Kysely sees this view (conn.pragma() still
 * prepares its own), and a statement still busy in an unfinished iterate() is never handed out twice.
 */
function cachedStatements(conn: SQLite.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => conn.close(),
    prepare(text: string) {
      const cached = cache.get(text);
      const stmt = cached && !cached.busy ? cached : conn.prepare(text);
      // Deleted and set again: a Map iterates in insertion order, so its first key is the least recently used.
      cache.delete(text);
      cache.set(text, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
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
  const provider: MigrationProvider = { getMigrations: async () => ({ '0001_init': init(store.dialect), '0002_engine': engine(), '0003_retention': retention(), '0004_verifications': verifications(), '0005_scheduler': scheduler(), '0006_cancel': cancel(), '0007_restore_credentials': restoreCredentials(), '0008_scheduler_settings': schedulerSettings() }) };
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
