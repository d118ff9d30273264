/**
 * SQL hooks run one statement on PostgreSQL or MariaDB/MySQL. A hook that names a `session` keeps its
 * connection in the scope's SqlSessions so that state bound to the connection (FLUSH TABLES WITH READ
 * LOCK, a pg_backup_start) lives until the post hook that runs on the same connection and closes it.
 * A session whose connection dies in between is reported as lost, not silently replaced: the lock it
 * held is gone, and the data protected meanwhile may not be consistent.
 */
import { HookError } from './errors.js';
import { TailBuffer, type HookRunResult } from './output.js';
import { resolveSecret, type Redactor } from './secrets.js';
import { onAbort } from './deadline.js';
import { openConn, type Driver, type SqlConn } from './sql-drivers.js';
import type { RunEnv } from './local.js';
import type { SqlHook } from './schema.js';

const MAX_CONNECT_MS = 30_000;
const KEEPALIVE_MS = 60_000;

interface Session { readonly conn: SqlConn; readonly driver: Driver; readonly keepalive: NodeJS.Timeout }

/** SqlSessions holds a scope's named connections; close and closeAll are idempotent and never throw. */
export class SqlSessions {
  private readonly open = new Map<string, Session>();

  get(name: string): Session | undefined { return this.open.get(name); }

  add(name: string, conn: SqlConn, driver: Driver): void {
    // A ping now and then keeps wait_timeout / idle timeouts from ending a lock during a long backup.
    const keepalive = setInterval(() => { if (!conn.lost) conn.ping().catch(() => undefined); }, KEEPALIVE_MS);
    keepalive.unref();
    this.open.set(name, { conn, driver, keepalive });
  }

  async close(name: string): Promise<void> {
    const s = this.open.get(name);
    if (!s) return;
    this.open.delete(name);
    clearInterval(s.keepalive);
    await s.conn.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((n) => this.close(n)));
  }

  get size(): number { return this.open.size; }
}

/** runSql runs the hook's statement on its session, or on a connection opened (and closed) for it. */
export async function runSql(hook: SqlHook, run: RunEnv, sessions: SqlSessions): Promise<HookRunResult> {
  const started = Date.now();
  const joined = hook.session ? sessions.get(hook.session) : undefined;
  if (hook.session && !joined && !hook.connection) {
    throw new HookError('hook_session_lost', `${run.label} should run on session '${hook.session}', which is not open: the pre hook that opens it did not succeed.`);
  }
  if (joined?.conn.lost) {
    throw new HookError('hook_session_lost', run.redactor.redact(`${run.label}: session '${hook.session}' was lost before this hook ran (${joined.conn.lost}); whatever it held (a lock, a backup mode) ended then, so data protected since may not be consistent.`));
  }
  const conn = joined?.conn ?? await connect(hook, run);
  const keep = joined !== undefined || hook.session !== undefined;
  let ok = false;
  try {
    const summary = await execute(conn, hook, run);
    const out = new TailBuffer(run.maxOutputBytes);
    out.push(summary);
    ok = true;
    if (hook.session && !joined) sessions.add(hook.session, conn, hook.driver!);
    return { exitCode: 0, stdout: run.redactor.redact(out.text()), stderr: '', durationMs: Date.now() - started, truncated: out.dropped > 0 };
  } finally {
    if (!keep || (!ok && !joined)) await conn.close().catch(() => undefined);
  }
}

async function connect(hook: SqlHook, run: RunEnv): Promise<SqlConn> {
  const c = hook.connection!;
  const password = await resolveSecret(c.password, 'database password', run.redactor);
  const tlsCa = await resolveSecret(c.tlsCa, 'database TLS CA', run.redactor);
  const pending = openConn(hook.driver!, { ...c, password, tlsCa }, MAX_CONNECT_MS);
  let unsubscribe = () => {};
  const aborted = new Promise<never>((_, reject) => { unsubscribe = onAbort(run.signal, () => reject(run.stopped())); });
  try {
    return await Promise.race([pending, aborted]);
  } catch (err) {
    pending.then((late) => late.kill(), () => undefined);
    throw run.signal.aborted ? run.stopped() : connectError(err, hook, run);
  } finally {
    unsubscribe();
  }
}

async function execute(conn: SqlConn, hook: SqlHook, run: RunEnv): Promise<string> {
  let unsubscribe = () => {};
  // A destroyed mysql2 connection never settles its pending query, so stopping settles it here.
  const stopped = new Promise<never>((_, reject) => {
    unsubscribe = onAbort(run.signal, () => { void conn.kill().finally(() => reject(run.stopped())); });
  });
  try {
    return await Promise.race([conn.query(hook.statement), stopped]);
  } catch (err) {
    if (run.signal.aborted) throw run.stopped();
    const e = err as { message?: string; code?: string; sqlState?: string };
    const state = e.sqlState ?? (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined);
    if (conn.lost && hook.session) {
      throw new HookError('hook_session_lost', run.redactor.redact(`${run.label}: the connection of session '${hook.session}' ended (${conn.lost}); whatever it held ended with it.`));
    }
    throw new HookError('hook_failed', run.redactor.redact(`${run.label} failed: ${e.message ?? String(err)}${state ? ` (SQLSTATE ${state})` : ''}.`));
  } finally {
    unsubscribe();
  }
}

function connectError(err: unknown, hook: SqlHook, run: RunEnv): HookError {
  const e = err as { message?: string; code?: string; errno?: number };
  const c = hook.connection!;
  const where = `${hook.driver} at ${c.host}:${c.port ?? (hook.driver === 'postgres' ? 5432 : 3306)} as ${c.user}`;
  const authFailed = e.code === '28P01' || e.code === '28000' || e.code === 'ER_ACCESS_DENIED_ERROR' || e.errno === 1045;
  if (authFailed) {
    return new HookError('hook_auth_failed', run.redactor.redact(`${run.label}: ${where} refused the login (${e.message}); check user and password in the hook spec and the server's access rules.`));
  }
  return new HookError('hook_connect_failed', run.redactor.redact(`${run.label}: cannot connect to ${where} (${e.code ?? e.message ?? String(err)}); check host, port and that the server is running and reachable from the Hoard host.`));
}
