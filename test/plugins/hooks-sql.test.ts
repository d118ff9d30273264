/**
 * SQL hooks against the real PostgreSQL (127.0.0.1:5432, trust) and MariaDB (127.0.0.1:3306, root, no
 * password) of the test machine. The MariaDB tests prove that a FLUSH TABLES WITH READ LOCK session
 * really holds the lock between pre and post (another connection's write waits and times out) and that
 * the post hook releases it, also when the main work fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { HookError, SqlSessions, beginHooks, parseHookSpec, runHook, withHooks, type HookReport, type SqlHook } from '../../src/plugins/hooks/index.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const TABLE = `hooks_t_${process.pid}`;

async function runOne(hook: SqlHook) {
  return runHook(parseHookSpec({ pre: [hook] }).pre![0]!, { sessions: new SqlSessions() });
}

async function failure(p: Promise<unknown>): Promise<HookError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HookError);
  return err as HookError;
}

describe('PostgreSQL hooks', () => {
  it('runs a statement and reports its result', async () => {
    const res = await runOne({ kind: 'sql', driver: 'postgres', connection: PG, statement: 'CHECKPOINT' });
    expect(res).toMatchObject({ exitCode: 0, stdout: 'CHECKPOINT' });
    const sel = await runOne({ kind: 'sql', driver: 'postgres', connection: PG, statement: "SELECT 'ok' AS state" });
    expect(sel.stdout).toBe('SELECT 1\n{"state":"ok"}');
  });

  it('explains a failing statement and a refused login', async () => {
    const bad = await failure(runOne({ kind: 'sql', driver: 'postgres', connection: PG, statement: 'SELEC 1' }));
    expect(bad.reason).toBe('hook_failed');
    expect(bad.message).toMatch(/syntax error.*SQLSTATE 42601/);
    const login = await failure(runOne({ kind: 'sql', driver: 'postgres', connection: { ...PG, user: 'no_such_role_hoard', password: 'pw-not-shown-42' }, statement: 'SELECT 1' }));
    expect(login.reason).toBe('hook_auth_failed');
    expect(login.message).not.toContain('pw-not-shown-42');
    const down = await failure(runOne({ kind: 'sql', driver: 'postgres', connection: { ...PG, port: 1 }, statement: 'SELECT 1' }));
    expect(down.reason).toBe('hook_connect_failed');
  });

  it('terminates the backend when a statement times out', async () => {
    const err = await failure(runOne({ kind: 'sql', driver: 'postgres', connection: PG, statement: 'SELECT pg_sleep(120) /* hoard-timeout-probe */', timeoutSeconds: 1 }));
    expect(err.reason).toBe('hook_timeout');
    const c = new pg.Client(PG);
    await c.connect();
    try {
      const count = async () => Number((await c.query("SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%hoard-timeout-probe%' AND pid <> pg_backend_pid()")).rows[0].n);
      await expect.poll(count, { timeout: 10_000 }).toBe(0);
    } finally {
      await c.end();
    }
  });
});

describe('MariaDB hooks', () => {
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysql.createConnection(MY);
    await admin.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id INT)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin?.end();
  });

  const lockSpec = (extraPost: unknown[] = []) => parseHookSpec({
    pre: [{ kind: 'sql', driver: 'mysql', connection: MY, statement: 'FLUSH TABLES WITH READ LOCK', session: 'lock', name: 'ftwrl' }],
    post: [{ kind: 'sql', session: 'lock', statement: 'UNLOCK TABLES', name: 'unlock' }, ...extraPost],
  });

  /** tryWrite inserts from another connection, giving up on the lock after one second. */
  async function tryWrite(): Promise<'written' | 'blocked'> {
    const c = await mysql.createConnection(MY);
    try {
      await c.query('SET SESSION lock_wait_timeout = 1');
      await c.query(`INSERT INTO ${TABLE} VALUES (1)`);
      return 'written';
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_LOCK_WAIT_TIMEOUT') return 'blocked';
      throw err;
    } finally {
      await c.end();
    }
  }

  it('holds FLUSH TABLES WITH READ LOCK from pre to post on one session', async () => {
    expect(await tryWrite()).toBe('written');
    const scope = await beginHooks(lockSpec());
    try {
      expect(scope.pre.reports.map((r) => r.status)).toEqual(['ok']);
      expect(await tryWrite()).toBe('blocked');
    } finally {
      const post = await scope.end('success');
      expect(post.reports.map((r) => r.status)).toEqual(['ok']);
      expect(post.failure).toBeUndefined();
    }
    expect(await tryWrite()).toBe('written');
  });

  it('releases the lock and runs the post hook exactly once when the main work fails', async () => {
    const reports: HookReport[] = [];
    let during: string | undefined;
    const main = withHooks(lockSpec(), { onReport: (r) => reports.push(r) }, async () => {
      during = await tryWrite();
      throw new Error('main failed');
    });
    await expect(main).rejects.toThrow('main failed');
    expect(during).toBe('blocked');
    expect(reports.map((r) => `${r.phase}:${r.label}:${r.status}`)).toEqual(['pre:pre hook \'ftwrl\':ok', 'post:post hook \'unlock\':ok']);
    expect(await tryWrite()).toBe('written');
  });

  it('kills a FLUSH TABLES WITH READ LOCK that waits past its timeout, and skips its post hook', async () => {
    const blocker = await mysql.createConnection(MY);
    await blocker.query(`LOCK TABLES ${TABLE} WRITE`);
    try {
      const reports: HookReport[] = [];
      const spec = parseHookSpec({
        pre: [{ kind: 'sql', driver: 'mysql', connection: MY, statement: 'FLUSH TABLES WITH READ LOCK', session: 'lock', timeoutSeconds: 1 }],
        post: [{ kind: 'sql', session: 'lock', statement: 'UNLOCK TABLES' }],
      });
      const err = await failure(beginHooks(spec, { onReport: (r) => reports.push(r) }));
      expect(err.reason).toBe('hook_timeout');
      expect(reports.map((r) => r.status)).toEqual(['failed', 'skipped']);
      const waiting = async () => {
        const [rows] = await admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = 'FLUSH TABLES WITH READ LOCK'");
        return Number((rows as { n: number }[])[0]!.n);
      };
      await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
    } finally {
      await blocker.query('UNLOCK TABLES');
      await blocker.end();
    }
    expect(await tryWrite()).toBe('written');
  });

  it('reports a session lost between pre and post', async () => {
    const scope = await beginHooks(parseHookSpec({
      pre: [{ kind: 'sql', driver: 'mysql', connection: MY, statement: 'SELECT CONNECTION_ID() AS id', session: 's' }],
      post: [{ kind: 'sql', session: 's', statement: 'SELECT 1' }],
    }));
    const id = JSON.parse(scope.pre.reports[0]!.result!.stdout.split('\n')[1]!).id as number;
    await admin.query(`KILL ${Number(id)}`);
    await new Promise((r) => setTimeout(r, 200));
    const post = await scope.end('success');
    expect(post.failure?.reason).toBe('hook_session_lost');
    expect(post.failure?.message).toMatch(/may not be consistent|ended/);
  });
});
