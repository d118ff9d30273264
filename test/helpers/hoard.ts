/**
 * startHoard runs a real Hoard API on a random loopback port, on a fresh SQLite file (or a fresh
 * PostgreSQL schema) and a fresh directory root, for tests that drive it over HTTP or with the real
 * Karbor client. Evidence (data dir, PG schema) is kept when HOARD_KEEP_TEST_DATA is set.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PROVIDER_ID, defaultConfig, type AuthStrategy, type Config } from '../../src/config/index.js';
import { buildApp } from '../../src/api/app.js';
import { compose, type Hoard } from '../../src/roles/compose.js';
import { authenticatorFor } from '../../src/roles/api.js';
import { tokens } from '../../src/store/index.js';
import { storedTime } from '../../src/util/clock.js';

export const PG_URL = process.env.HOARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestHoard {
  readonly hoard: Hoard;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly dataDir: string;
  readonly root: string;
  /** token creates a local-auth token for a project. */
  token(project: string, role?: 'admin' | 'member', opts?: { expiresAt?: string }): Promise<string>;
  /** api calls the API and parses JSON. */
  api(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly db?: 'sqlite' | 'postgres';
  readonly strategy?: AuthStrategy;
  readonly keystoneUrl?: string;
  readonly config?: (c: Config) => Config;
}

export async function startHoard(opts: StartOptions = {}): Promise<TestHoard> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hoard-test-'));
  const root = join(dataDir, 'root');
  await mkdir(root);
  const base = defaultConfig(dataDir);
  const schema = opts.db === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  let config: Config = {
    ...base,
    listen: { host: '127.0.0.1', port: 0 },
    database: { url: schema ? PG_URL : '' },
    auth: { ...base.auth, strategy: opts.strategy ?? 'local', keystone: { ...base.auth.keystone, url: opts.keystoneUrl ?? '' } },
    protectables: { directory: { roots: [root] } },
  };
  if (opts.config) config = opts.config(config);
  const hoard = await compose(config, schema ? { pgSchema: schema } : {});
  const app = await buildApp({ services: hoard.services, auth: authenticatorFor(hoard) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  return {
    hoard, app, url, dataDir, root,
    async token(project, role = 'member', t = {}) {
      const now = storedTime(new Date());
      await tokens.ensureProject(hoard.store.db, project, now);
      const { token } = await tokens.createToken(hoard.store.db, {
        projectId: project, userId: `u-${project}`, roles: role === 'admin' ? ['admin', 'member'] : ['member'],
        description: 'test', createdAt: now, expiresAt: t.expiresAt ?? null,
      });
      return token;
    },
    async api(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers['X-Auth-Token'] = o.token;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
      const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    async close() {
      await app.close();
      await hoard.close();
      if (!process.env.HOARD_KEEP_TEST_DATA) {
        await rm(dataDir, { recursive: true, force: true });
        if (schema) await dropSchema(schema);
      } else {
        console.error(`kept test data in ${dataDir}${schema ? ` and PostgreSQL schema ${schema}` : ''}`);
      }
    },
  };
}

/** fsBankPath is the directory of the default provider's file-system bank. */
export function fsBankPath(config: Config): string {
  const bank = config.providers.find((p) => p.id === DEFAULT_PROVIDER_ID)!.bank;
  if (bank.type !== 'fs') throw new Error('the default provider has no file-system bank');
  return bank.path;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}
