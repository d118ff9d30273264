/**
 * Hoard's cancel extension (Karbor has none): `POST …/checkpoints/{id}/cancel` stops the checkpoint's
 * protect (or copy), `POST /restores/{id}/cancel` and `POST /verifications/{id}/cancel` stop those.
 * The body is optional: `{"cancel": {"reason": "…"}}` records why. The answer is 202 with the object as
 * it is now (usually still protecting/in_progress: the worker ends it on its next tick) plus `cancel`,
 * the request in force; the operation's end reason appears in `progress.error`, the operation log's
 * error_info and, for restores and verifications, resources_reason.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CancelAnswer } from '../../engine/index.js';
import type { Services } from '../../services/index.js';
import { cancelService } from '../../services/cancel/index.js';
import { checkpointView } from './checkpoints.js';
import { progressView } from './progress.js';
import { restoreView } from './restores.js';
import { verificationView } from './verifications.js';

const CancelBody = Type.Union([
  Type.Null(),
  Type.Object({
    cancel: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false })),
  }, { additionalProperties: false }),
]);

type Body = Static<typeof CancelBody> | undefined;

/** cancelView is the `cancel` field of an answer: what the cancel did and the request in force. */
export function cancelView(a: CancelAnswer): Record<string, unknown> {
  return { status: a.state, operation_id: a.operationId, requested_at: a.request.at, requested_by: a.request.by, reason: a.request.reason };
}

const noteOf = (body: Body): string | undefined => body?.cancel?.reason;

/** withProgress adds the operation's progress (with its reason once it ended) as GET shows it. */
function withProgress(view: Record<string, unknown>, progress: Parameters<typeof progressView>[0]): Record<string, unknown> {
  const p = progressView(progress);
  return p ? { ...view, progress: p } : view;
}

export function cancelRoutes(services: Services): FastifyPluginAsync {
  const cancel = cancelService(services.deps, services);
  const accepted = (reply: FastifyReply, body: Record<string, unknown>) => reply.code(202).send(body);
  // A POST without a body is the usual call; validation then sees undefined, which the schema does not describe.
  const schema = { body: CancelBody };
  return async (app) => {
    app.addHook('preValidation', async (req) => { if (req.body === undefined) req.body = null; });

    app.post<{ Params: { provider_id: string; checkpoint_id: string }; Body: Body }>('/providers/:provider_id/checkpoints/:checkpoint_id/cancel', { schema }, async (req, reply) => {
      const { provider_id: providerId, checkpoint_id: id } = req.params;
      const r = await cancel.checkpoint(req.caller, providerId, id, noteOf(req.body));
      const progress = await services.checkpoints.progress(req.caller, providerId, id);
      return accepted(reply, { checkpoint: { ...withProgress(checkpointView(r.subject), progress), cancel: cancelView(r.cancel) } });
    });

    app.post<{ Params: { restore_id: string }; Body: Body }>('/restores/:restore_id/cancel', { schema }, async (req, reply) => {
      const r = await cancel.restore(req.caller, req.params.restore_id, noteOf(req.body));
      const progress = await services.restores.progress(req.caller, req.params.restore_id);
      return accepted(reply, { restore: { ...withProgress(restoreView(r.subject), progress), cancel: cancelView(r.cancel) } });
    });

    app.post<{ Params: { verification_id: string }; Body: Body }>('/verifications/:verification_id/cancel', { schema }, async (req, reply) => {
      const r = await cancel.verification(req.caller, req.params.verification_id, noteOf(req.body));
      const progress = await services.verifications.progress(req.caller, req.params.verification_id);
      return accepted(reply, { verification: { ...withProgress(verificationView(r.subject), progress), cancel: cancelView(r.cancel) } });
    });
  };
}
