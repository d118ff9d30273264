/**
 * Local projects and API tokens. Only a token's SHA-256 is stored: a leaked database does not leak
 * usable tokens. Tokens are 32 random bytes, so a fast hash is enough (no password stretching needed).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { newId } from '../util/ids.js';

type Db = Kysely<Database>;

export interface TokenRecord {
  readonly id: string;
  readonly projectId: string;
  readonly userId: string;
  readonly roles: readonly string[];
  readonly description: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function ensureProject(db: Db, id: string, now: string): Promise<void> {
  await db.insertInto('projects').values({ id, name: id, created_at: now }).onConflict((oc) => oc.column('id').doNothing()).execute();
}

/** createToken stores a new token and returns its only plaintext copy. */
export async function createToken(db: Db, t: Omit<TokenRecord, 'id'>): Promise<{ token: string; record: TokenRecord }> {
  const token = `hoard_${randomBytes(32).toString('base64url')}`;
  const record: TokenRecord = { id: newId(), ...t };
  await db.insertInto('tokens').values({
    id: record.id,
    token_hash: hashToken(token),
    project_id: t.projectId,
    user_id: t.userId,
    roles: JSON.stringify(t.roles),
    description: t.description,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
  }).execute();
  return { token, record };
}

export async function findToken(db: Db, token: string): Promise<TokenRecord | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, projectId: row.project_id, userId: row.user_id, roles: JSON.parse(row.roles), description: row.description, createdAt: row.created_at, expiresAt: row.expires_at };
}

export async function listTokens(db: Db, projectId?: string): Promise<TokenRecord[]> {
  let q = db.selectFrom('tokens').selectAll().orderBy('created_at');
  if (projectId) q = q.where('project_id', '=', projectId);
  const rows = await q.execute();
  return rows.map((row) => ({ id: row.id, projectId: row.project_id, userId: row.user_id, roles: JSON.parse(row.roles), description: row.description, createdAt: row.created_at, expiresAt: row.expires_at }));
}

export async function revokeToken(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom('tokens').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
