/**
 * buildApp assembles the Karbor v1 HTTP API: request ids, JSON-only bodies, authentication and the
 * project check on every `/v1/{project_id}/…` route, Karbor fault bodies for every error, and one
 * encapsulated plugin per collection. It listens nowhere; the api role does.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import sjson from 'secure-json-parse';
import { randomUUID } from 'node:crypto';
import { HoardError } from '../model/errors.js';
import type { Caller } from '../model/caller.js';
import { isProjectId } from '../util/ids.js';
import type { Services } from '../services/index.js';
import type { Authenticator } from './auth/index.js';
import { sendFault } from './faults.js';
import { versionDocument } from './version.js';
import { baseUrl } from './urls.js';
import { v1Routes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export interface AppOptions {
  readonly services: Services;
  readonly auth: Authenticator;
  readonly logger?: boolean | object;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services, auth } = opts;
  const config = services.deps.config;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: config.api.bodyLimitBytes,
    genReqId: () => `req-${randomUUID()}`,
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    // Errors the router raises before any route runs (bad URL encoding, over-long segments) get the same fault body.
    frameworkErrors: (err, req, reply) => sendFault(req, reply, err),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });

  app.decorateRequest('caller', null as unknown as Caller);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      done(new HoardError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(new HoardError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json).'), undefined);
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
    reply.header('x-compute-request-id', req.id);
  });
  app.setErrorHandler((err, req, reply) => sendFault(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendFault(req, reply, new HoardError('not_found', `No route for ${req.method} ${req.url.split('?')[0]?.slice(0, 200)}.`)));

  await app.register(swagger, {
    openapi: { info: { title: 'Hoard (Karbor v1 compatible) API', version: '1.0' }, components: { securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } } } },
  });

  app.get('/', { schema: { hide: true } }, async (req, reply) => reply.code(300).send(versionDocument(baseUrl(req, config.api.publicUrl))));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req, reply) => {
      const project = (req.params as { project_id?: string }).project_id ?? '';
      if (!isProjectId(project)) throw new HoardError('invalid_id', `Malformed request url: ${JSON.stringify(project.slice(0, 64))} is not a project id.`);
      const token = header(req, 'x-auth-token');
      if (!token) {
        if (auth.strategy === 'noauth') {
          const user = header(req, 'x-auth-user') ?? 'admin';
          const proj = header(req, 'x-auth-project-id') ?? 'admin';
          reply.header('X-Auth-Token', `${user}:${proj}`).header('X-Server-Management-Url', `${baseUrl(req, config.api.publicUrl)}/v1/${proj}`);
          return reply.code(204).send();
        }
        throw new HoardError('unauthorized', 'Authentication required: send a token in X-Auth-Token.');
      }
      req.caller = await auth.authenticate(token);
      if (req.caller.projectId !== project) {
        throw new HoardError('project_mismatch', `The token is scoped to project ${req.caller.projectId} and cannot act on project ${project}; use /v1/${req.caller.projectId}/… (admins list other projects with all_tenants).`);
      }
    });
    await v1.register(v1Routes(services));
  }, { prefix: '/v1/:project_id' });

  return app;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.length > 0 ? s : undefined;
}
