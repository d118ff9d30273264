import { HoardError } from '../../model/errors.js';
import { tokens, type Store } from '../../store/index.js';
import type { Clock } from '../../util/clock.js';
import type { Authenticator } from './index.js';

export function localAuthenticator(store: Store, clock: Clock): Authenticator {
  return {
    strategy: 'local',
    async authenticate(token) {
      const t = await tokens.findToken(store.db, token);
      if (!t) throw new HoardError('unauthorized', 'The token is not valid. Create one with `hoard token create --project P --role member`.');
      if (t.expiresAt !== null && Date.parse(t.expiresAt) <= clock.now().getTime()) {
        throw new HoardError('unauthorized', `The token expired at ${t.expiresAt}; create a new one.`);
      }
      return { userId: t.userId, projectId: t.projectId, roles: t.roles, isAdmin: t.roles.includes('admin') };
    },
  };
}
