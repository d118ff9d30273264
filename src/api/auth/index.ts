/**
 * Authentication strategies. Each turns request headers into a Caller or refuses with 401:
 * - local (default): tokens made by `hoard token create`, checked against their stored hash;
 * - keystone: `X-Auth-Token` validated by a real Keystone v3, cached until it expires;
 * - noauth: Karbor's development mode, `user:project` tokens, every caller an admin.
 */
import type { Caller } from '../../model/caller.js';

export interface Authenticator {
  readonly strategy: 'local' | 'noauth' | 'keystone';
  /** authenticate resolves the caller for a token; it throws HoardError('unauthorized') on a bad token. */
  authenticate(token: string): Promise<Caller>;
}
