import { HoardError } from '../../model/errors.js';
import { isProjectId } from '../../util/ids.js';
import type { Authenticator } from './index.js';

/** Karbor's noauth: `user:project` (project defaults to user), always admin. Development only. */
export function noauthAuthenticator(): Authenticator {
  return {
    strategy: 'noauth',
    async authenticate(token) {
      const [user, project = user] = token.split(':');
      if (!user || !project || !isProjectId(project) || !isProjectId(user)) {
        throw new HoardError('unauthorized', 'In noauth mode the token must be user:project.');
      }
      return { userId: user, projectId: project, roles: ['admin'], isAdmin: true };
    },
  };
}
