import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RestoreRecord } from '../../store/index.js';
import type { Services } from '../../services/index.js';
import { RESTORE_FILTERS } from '../../services/restores/index.js';
import { progressView } from './progress.js';
import { listQuery, Nullable, ParameterMap, withLinks } from './common.js';

/**
 * restore_auth: Karbor's password form, or the ssh form a `sftp://` target needs. One object schema with
 * every field (so a wrong field is named plainly); which fields each type needs is the service's check.
 */
const RestoreAuth = Type.Object({
  type: Type.Union([Type.Literal('password'), Type.Literal('ssh')]),
  username: Type.String({ minLength: 1, maxLength: 255 }),
  password: Type.Optional(Type.String({ maxLength: 4096, description: 'password form: required; ssh form: the login password, if no private_key' })),
  private_key: Type.Optional(Type.String({ minLength: 1, maxLength: 65_536, description: 'ssh form: an OpenSSH or PEM private key' })),
  passphrase: Type.Optional(Type.String({ maxLength: 4096, description: 'ssh form: unlocks private_key' })),
  host_key: Type.Optional(Type.String({
    minLength: 1, maxLength: 65_536,
    description: 'ssh form, required: the host key to trust, as an OpenSSH SHA256: fingerprint, a public key line or known_hosts lines (no trust on first use)',
  })),
}, { additionalProperties: false });

const CreateBody = Type.Object({
  restore: Type.Object({
    provider_id: Type.String({ maxLength: 64 }),
    checkpoint_id: Type.String({ maxLength: 64 }),
    restore_target: Type.Optional(Nullable(Type.String({ maxLength: 255, description: 'where to restore instead of in place, e.g. sftp://user@host:22; the resources\' plugins must support it' }))),
    // Passed to the service, which keeps it (with a target) only while the restore runs; never shown or logged.
    restore_auth: Type.Optional(Nullable(RestoreAuth)),
    parameters: ParameterMap,
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** restoreView is Karbor's restore; there is deliberately no restore_auth to show. */
export function restoreView(r: RestoreRecord): Record<string, unknown> {
  return {
    id: r.id,
    project_id: r.projectId,
    provider_id: r.providerId,
    checkpoint_id: r.checkpointId,
    restore_target: r.restoreTarget,
    parameters: r.parameters,
    status: r.status,
    resources_status: r.resourcesStatus,
    resources_reason: r.resourcesReason,
    created_at: r.createdAt,
  };
}

export function restoreRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/restores', async (req) => {
      const q = listQuery(req.query, services, RESTORE_FILTERS, ['id', 'status', 'created_at']);
      const items = await services.restores.list(req.caller, q);
      return withLinks(req, services, 'restores', items, items.map(restoreView), q);
    });
    app.post<{ Body: Static<typeof CreateBody> }>('/restores', { schema: { body: CreateBody } }, async (req) => {
      const { provider_id, checkpoint_id, restore_target, restore_auth, parameters } = req.body.restore;
      return { restore: restoreView(await services.restores.create(req.caller, { provider_id, checkpoint_id, restore_target, restore_auth, parameters })) };
    });
    app.get<{ Params: { restore_id: string } }>('/restores/:restore_id', async (req) => {
      const restore = restoreView(await services.restores.get(req.caller, req.params.restore_id));
      const progress = progressView(await services.restores.progress(req.caller, req.params.restore_id));
      return { restore: progress ? { ...restore, progress } : restore };
    });
  };
}
