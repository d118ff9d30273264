/**
 * One small connection interface over pg and mysql2, so the hook runner and sessions do not care which
 * database they talk to. `kill` ends the server-side work from a second connection (pg_terminate_backend,
 * KILL) before dropping the socket: dropping the socket alone leaves a running statement, or a pending
 * FLUSH TABLES WITH READ LOCK, going on the server until it next writes to the client.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { SqlConnection } from './schema.js';

export type Driver = 'postgres' | 'mysql';

/** ResolvedConnection is a SqlConnection with its secrets already resolved. */
export interface ResolvedConnection extends Omit<SqlConnection, 'password' | 'tlsCa'> {
  readonly password: string | undefined;
  readonly tlsCa: string | undefined;
}

export interface SqlConn {
  /** query runs one statement and returns a short text summary of its result. */
  query(statement: string): Promise<string>;
  /** lost is why the server or network ended the connection, once that has happened. */
  readonly lost: string | undefined;
  close(): Promise<void>;
  /** kill stops the server-side work and drops the connection; it never throws. */
  kill(): Promise<void>;
  /** ping keeps an idle session from its server's idle timeout. */
  ping(): Promise<void>;
}

const KILL_WAIT_MS = 3_000;

export async function openConn(driver: Driver, c: ResolvedConnection, connectMs: number): Promise<SqlConn> {
  return driver === 'postgres' ? openPg(c, connectMs) : openMysql(c, connectMs);
}

async function openPg(c: ResolvedConnection, connectMs: number): Promise<SqlConn> {
  const config: pg.ClientConfig = {
    host: c.host, port: c.port ?? 5432, user: c.user, password: c.password, database: c.database,
    ssl: c.tls ? { rejectUnauthorized: true, ca: c.tlsCa } : false,
    connectionTimeoutMillis: connectMs, application_name: 'hoard-hook',
  };
  const client = new pg.Client(config);
  const state: { lost: string | undefined } = { lost: undefined };
  // Without a listener, an idle session killed by the server would crash the whole process.
  client.on('error', (e) => { state.lost ??= e.message; });
  client.on('end', () => { state.lost ??= 'the connection was closed'; });
  await client.connect();
  const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const destroy = () => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  return {
    get lost() { return state.lost; },
    query: async (statement) => summarizePg(await client.query(statement)),
    close: async () => { state.lost ??= 'closed by Hoard'; await settleWithin(client.end(), KILL_WAIT_MS); destroy(); },
    kill: async () => {
      state.lost ??= 'killed by Hoard';
      await withSide(() => openPg(c, connectMs), (side) => side.query(`SELECT pg_terminate_backend(${pid})`));
      destroy();
    },
    ping: async () => { await client.query('SELECT 1'); },
  };
}

async function openMysql(c: ResolvedConnection, connectMs: number): Promise<SqlConn> {
  const conn = await mysql.createConnection({
    host: c.host, port: c.port ?? 3306, user: c.user, password: c.password ?? '', database: c.database,
    ssl: c.tls ? { rejectUnauthorized: true, ca: c.tlsCa } : undefined,
    connectTimeout: connectMs, multipleStatements: false,
  });
  const state: { lost: string | undefined } = { lost: undefined };
  conn.on('error', (e: Error) => { state.lost ??= e.message; });
  conn.on('end', () => { state.lost ??= 'the connection was closed'; });
  const id = conn.threadId;
  return {
    get lost() { return state.lost; },
    query: async (statement) => summarizeMysql((await conn.query(statement))[0]),
    close: async () => { state.lost ??= 'closed by Hoard'; await settleWithin(conn.end(), KILL_WAIT_MS); conn.destroy(); },
    kill: async () => {
      state.lost ??= 'killed by Hoard';
      await withSide(() => openMysql(c, connectMs), (side) => side.query(`KILL ${Number(id)}`));
      conn.destroy();
    },
    ping: async () => { await conn.ping(); },
  };
}

/** settleWithin waits for `p` to settle, at most `ms`: a dead peer must not hang a close. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

/** withSide runs `fn` on a short-lived second connection, giving up silently after KILL_WAIT_MS. */
async function withSide(open: () => Promise<SqlConn>, fn: (c: SqlConn) => Promise<unknown>): Promise<void> {
  await settleWithin((async () => {
    const side = await open();
    try { await fn(side); } finally { await side.close(); }
  })(), KILL_WAIT_MS);
}

function summarizePg(res: pg.QueryResult | pg.QueryResult[]): string {
  const all = Array.isArray(res) ? res : [res];
  return all.map((r) => [`${r.command ?? ''} ${r.rowCount ?? ''}`.trim(), ...r.rows.map((row) => JSON.stringify(row))].join('\n')).join('\n');
}

function summarizeMysql(res: unknown): string {
  if (Array.isArray(res)) return [`SELECT ${res.length}`, ...res.map((row) => JSON.stringify(row))].join('\n');
  const h = res as { affectedRows?: number; info?: string };
  return `OK ${h.affectedRows ?? 0}${h.info ? ` ${h.info}` : ''}`;
}
