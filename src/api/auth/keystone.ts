/**
 * Keystone v3 token validation: `GET /v3/auth/tokens` with the token as both X-Auth-Token and
 * X-Subject-Token (Keystone lets a token validate itself, so Hoard needs no service password for this).
 * Results are cached by token hash until the token expires or `cacheSeconds` pass, whichever is first,
 * so a revoked token stops working within `cacheSeconds`. Refusals are not cached.
 */
import { createHash } from 'node:crypto';
import type { Caller } from '../../model/caller.js';
import { HoardError } from '../../model/errors.js';
import type { Clock } from '../../util/clock.js';
import type { Authenticator } from './index.js';

export interface KeystoneOptions {
  readonly url: string;
  readonly cacheSeconds: number;
  readonly adminRoles: readonly string[];
}

interface TokenBody {
  token?: { expires_at?: string; user?: { id?: string }; project?: { id?: string }; roles?: { name?: string }[] };
}

const MAX_CACHE = 10_000;

export function keystoneAuthenticator(opts: KeystoneOptions, clock: Clock): Authenticator {
  const cache = new Map<string, { caller: Caller; until: number }>();
  const base = opts.url.replace(/\/+$/, '').replace(/\/v3$/, '');

  const validate = async (token: string): Promise<{ caller: Caller; expires: number }> => {
    let res: Response;
    try {
      res = await fetch(`${base}/v3/auth/tokens`, {
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token, Accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new HoardError('backend_unavailable', `Keystone at ${base} could not be reached to validate the token: ${(err as Error).message}`);
    }
    if (res.status === 401 || res.status === 404 || res.status === 403) {
      throw new HoardError('unauthorized', 'The token was refused by Keystone (invalid, expired or revoked).');
    }
    if (!res.ok) throw new HoardError('backend_unavailable', `Keystone answered ${res.status} while validating the token.`);
    const body = (await res.json()) as TokenBody;
    const t = body.token;
    const projectId = t?.project?.id;
    const userId = t?.user?.id;
    if (!t || !userId) throw new HoardError('unauthorized', 'Keystone returned a token without a user.');
    if (!projectId) throw new HoardError('unauthorized', 'The token is not scoped to a project; request a project-scoped token.');
    const roles = (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean);
    const expires = t.expires_at ? Date.parse(t.expires_at) : clock.now().getTime() + opts.cacheSeconds * 1000;
    if (expires <= clock.now().getTime()) throw new HoardError('unauthorized', 'The token has expired.');
    return { caller: { userId, projectId, roles, isAdmin: roles.some((r) => opts.adminRoles.includes(r)) }, expires };
  };

  return {
    strategy: 'keystone',
    async authenticate(token) {
      const key = createHash('sha256').update(token).digest('hex');
      const now = clock.now().getTime();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.caller;
      cache.delete(key);
      const { caller, expires } = await validate(token);
      if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
      cache.set(key, { caller, until: Math.min(expires, now + opts.cacheSeconds * 1000) });
      return caller;
    },
  };
}
