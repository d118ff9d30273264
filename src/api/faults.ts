/**
 * Karbor's fault body: `{"<faultName>": {"code": N, "message": "…"}}`, plus Hoard's stable `reason`
 * code inside (the Karbor client reads only `message`). Every error leaves through here; a 500 never
 * carries internals, only a request id to find them in the log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HoardError, type ReasonCode } from '../model/errors.js';

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 424: 'failedDependency',
  501: 'notImplemented', 503: 'serviceUnavailable',
};

export function faultBody(status: number, message: string, reason: ReasonCode): Record<string, unknown> {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message, reason } };
}

/** toHoardError classifies anything thrown while serving a request. */
export function toHoardError(err: unknown): HoardError {
  if (err instanceof HoardError) return err;
  const fe = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe?.validation) return new HoardError(fe.validation.some((v) => v.keyword === 'additionalProperties') ? 'unknown_field' : 'invalid_field', validationMessage(fe.validation, fe.validationContext));
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HoardError('body_too_large', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HoardError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HoardError('invalid_id', 'A path segment is longer than any id this API uses.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new HoardError('bad_request', fe.message);
    default:
      break;
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new HoardError(fe.statusCode === 404 ? 'not_found' : fe.statusCode === 413 ? 'body_too_large' : fe.statusCode === 415 ? 'unsupported_media_type' : 'bad_request', fe.message);
  }
  return new HoardError('internal', 'The server failed to process the request; the error was logged with this request id.', { cause: err });
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationMessage(issues: ValidationIssue[], context = 'body'): string {
  const first = issues[0];
  if (!first) return `Invalid request ${context}.`;
  const where = `${context}${first.instancePath.replace(/\//g, '.')}`;
  if (first.keyword === 'additionalProperties') return `Unknown field '${String(first.params.additionalProperty)}' in ${where}.`;
  if (first.keyword === 'required') return `Missing field '${String(first.params.missingProperty)}' in ${where}.`;
  return `Invalid ${where}: ${first.message ?? 'is not valid'}.`;
}

export function sendFault(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toHoardError(err);
  if (e.status >= 500) req.log.error({ err: (e.cause as Error) ?? e, reason: e.reason }, 'request failed');
  else req.log.info({ reason: e.reason, status: e.status }, e.message);
  return reply.code(e.status).type('application/json').send(faultBody(e.status, e.message, e.reason));
}
