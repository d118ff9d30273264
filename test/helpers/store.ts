/**
 * tempStore opens a fresh metadata store: SQLite in a temp dir, or a PostgreSQL schema of its own.
 * eachDialect runs a describe block once per engine, so every store test proves both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../../src/store/index.js';
import { dropSchema, PG_URL } from './hoard.js';

export const DIALECTS = ['sqlite', 'postgres'] as const;

export async function tempStore(dialect: 'sqlite' | 'postgres'): Promise<{ store: Store; cleanup(): Promise<void> }> {
  if (dialect === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const store = await openStore({ url: PG_URL, schema });
    return { store, cleanup: async () => { await store.close(); if (!process.env.HOARD_KEEP_TEST_DATA) await dropSchema(schema); } };
  }
  const dir = await mkdtemp(join(tmpdir(), 'hoard-store-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'hoard.db')}` });
  return { store, cleanup: async () => { await store.close(); if (!process.env.HOARD_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true }); } };
}
