/**
 * Keystone v3 token validation: `GET /v3/auth/tokens` with the token as both X-Auth-Token and
 * X-Subject-Token (Keystone lets a token validate itself, so Hoard needs no service password for this).
 * Results are cached by token hash until the token expires or `cacheSeconds` pass, whichever is first,
 * so a revoked token stops working within `cacheSeconds` (0 turns the cache off). Refusals are not cached.
 *
 * A token Keystone refuses is a 401; Keystone that cannot be reached, or that answers something that is
 * not Keystone's, is a 503, so an outage or a wrong `auth.keystone.url` never looks like a bad password.
 */
import { createHash } from 'node:crypto';
import type { Caller } from '../../model/caller.js';
import { HoardError } from '../../model/errors.js';
import type { Clock } from '../../util/clock.js';
import type { Authenticator } from './index.js';

/** KeystoneOptions is the `auth.keystone` section of the configuration. */
export interface KeystoneOptions {
  /** Keystone's root URL; a trailing `/v3` is accepted. */
  readonly url: string;
  /** Upper bound on how long a validation is reused; 0 asks Keystone on every request. */
  readonly cacheSeconds: number;
  /** Keystone role names that make a caller a Hoard admin (Karbor's `context_is_admin` is `role:admin`). */
  readonly adminRoles: readonly string[];
}

interface TokenBody {
  token?: { expires_at?: string; user?: { id?: string }; project?: { id?: string }; roles?: { name?: string }[] };
}

const MAX_CACHE = 10_000;
// Keystone's own tokens are a few hundred characters of URL-safe base64; anything far longer or with other
// characters cannot be one, and refusing it here keeps junk from reaching Keystone at all.
const MAX_TOKEN_LENGTH = 8192;
const TOKEN_RE = /^[\x21-\x7e]+$/;
const TIMEOUT_MS = 10_000;

/** keystoneAuthenticator validates `X-Auth-Token` against Keystone v3 and maps the token to a Caller. */
export function keystoneAuthenticator(opts: KeystoneOptions, clock: Clock): Authenticator {
  const cache = new Map<string, { caller: Caller; until: number }>();
  // Concurrent requests with one token (a CLI firing several calls) share one validation.
  const inflight = new Map<string, Promise<{ caller: Caller; expires: number }>>();
  const base = opts.url.replace(/\/+$/, '').replace(/\/v3$/, '');
  const unavailable = (why: string) => new HoardError('backend_unavailable', `Keystone at ${base} ${why}; the token could not be checked, try again later.`);

  const validate = async (token: string): Promise<{ caller: Caller; expires: number }> => {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${base}/v3/auth/tokens?nocatalog`, {
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token, Accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await res.text();
    } catch (err) {
      throw unavailable(`could not be reached (${networkReason(err)})`);
    }
    const body = parseJson(text);
    // Keystone refuses a bad token while authenticating the request (401). A 404 is its answer for a
    // subject token it cannot find; only trust it when the body is Keystone's error document, since a
    // wrong URL (a proxy, another service) answers 404 too and must not turn every caller away as 401.
    if (res.status === 401 || (res.status === 404 && isKeystoneError(body, 404))) {
      throw new HoardError('unauthorized', 'The token was refused by Keystone (invalid, expired or revoked).');
    }
    if (res.status === 403 && isKeystoneError(body, 403)) {
      throw new HoardError('unauthorized', 'Keystone does not let this token validate itself (policy identity:validate_token); ask for a regular project-scoped token.');
    }
    if (res.status !== 200) throw unavailable(`answered ${res.status} to a token validation`);
    const t = (body as TokenBody | undefined)?.token;
    if (!t || typeof t !== 'object') throw unavailable('answered something that is not a Keystone token document');
    const projectId = t.project?.id;
    const userId = t.user?.id;
    if (!userId) throw new HoardError('unauthorized', 'Keystone returned a token without a user.');
    if (!projectId) throw new HoardError('unauthorized', 'The token is not scoped to a project; Hoard needs a project-scoped token (request one with a project scope).');
    const roles = (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean);
    const now = clock.now().getTime();
    const parsed = t.expires_at ? Date.parse(t.expires_at) : Number.NaN;
    const expires = Number.isFinite(parsed) ? parsed : now + opts.cacheSeconds * 1000;
    if (expires <= now) throw new HoardError('unauthorized', 'The token has expired.');
    return { caller: { userId, projectId, roles, isAdmin: roles.some((r) => opts.adminRoles.includes(r)) }, expires };
  };

  return {
    strategy: 'keystone',
    async authenticate(token) {
      if (token.length > MAX_TOKEN_LENGTH || !TOKEN_RE.test(token)) {
        throw new HoardError('unauthorized', 'The token is not a Keystone token.');
      }
      // Only a hash is kept, so a heap dump or a debugger never shows a usable token.
      const key = createHash('sha256').update(token).digest('hex');
      const now = clock.now().getTime();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.caller;
      cache.delete(key);
      let pending = inflight.get(key);
      if (!pending) {
        pending = validate(token).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const { caller, expires } = await pending;
      if (opts.cacheSeconds > 0) {
        if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
        cache.set(key, { caller, until: Math.min(expires, now + opts.cacheSeconds * 1000) });
      }
      return caller;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function isKeystoneError(body: unknown, code: number): boolean {
  const e = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof e === 'object' && e !== null && e.code === code;
}

/** networkReason names why a fetch failed (ECONNREFUSED, a timeout…) without echoing request headers. */
function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
