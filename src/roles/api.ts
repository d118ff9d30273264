/** The api role: the Karbor v1 REST API on the configured address. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { Authenticator } from '../api/auth/index.js';
import { keystoneAuthenticator } from '../api/auth/keystone.js';
import { localAuthenticator } from '../api/auth/local.js';
import { noauthAuthenticator } from '../api/auth/noauth.js';
import { systemClock } from '../util/clock.js';
import type { Hoard } from './compose.js';

export function authenticatorFor(hoard: Hoard): Authenticator {
  const { auth } = hoard.config;
  switch (auth.strategy) {
    case 'noauth':
      return noauthAuthenticator();
    case 'keystone':
      return keystoneAuthenticator(auth.keystone, systemClock);
    default:
      return localAuthenticator(hoard.store, systemClock);
  }
}

export async function startApi(hoard: Hoard, logger: boolean | object = true): Promise<FastifyInstance> {
  const auth = authenticatorFor(hoard);
  const app = await buildApp({ services: hoard.services, auth, logger });
  if (auth.strategy === 'noauth') {
    app.log.warn('AUTH IS OFF (auth.strategy=noauth): every caller is an admin of any project it names. Use only for development.');
  }
  await app.listen({ host: hoard.config.listen.host, port: hoard.config.listen.port });
  return app;
}
