/**
 * HoardError is the only error type that crosses layers: a stable reason code, an HTTP status that the
 * API maps to Karbor's fault body, and a message written for the person who has to act on it.
 * Every code is listed once in REASONS so that docs/errors.md and the wire stay in step.
 */
export const REASONS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_field: 400,
  unknown_field: 400,
  missing_field: 400,
  invalid_id: 400,
  invalid_filter: 400,
  invalid_paging: 400,
  invalid_parameters: 400,
  invalid_trigger: 400,
  invalid_operation_definition: 400,
  invalid_state: 400,
  provider_not_found_in_request: 400,
  protectable_type_unknown: 400,
  unauthorized: 401,
  forbidden: 403,
  project_mismatch: 403,
  not_found: 404,
  plan_not_found: 404,
  provider_not_found: 404,
  checkpoint_not_found: 404,
  restore_not_found: 404,
  verification_not_found: 404,
  trigger_not_found: 404,
  scheduled_operation_not_found: 404,
  operation_log_not_found: 404,
  protectable_instance_not_found: 404,
  service_not_found: 404,
  quota_class_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  quota_exceeded: 413,
  body_too_large: 413,
  unsupported_media_type: 415,
  trigger_in_use: 424,
  not_implemented: 501,
  backend_unavailable: 503,
  engine_unavailable: 503,
  internal: 500,
  bank_wrong_key: 503,
  bank_corrupt: 500,
  bank_locked: 409,
} as const satisfies Record<string, number>;

export type ReasonCode = keyof typeof REASONS;

export class HoardError extends Error {
  readonly reason: ReasonCode;
  readonly status: number;

  constructor(reason: ReasonCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HoardError';
    this.reason = reason;
    this.status = REASONS[reason];
  }
}

export function isHoardError(err: unknown): err is HoardError {
  return err instanceof HoardError;
}

/** notFound builds the 404 for one kind of object, naming the id the caller sent. */
export function notFound(kind: string, id: string): HoardError {
  const reason = `${kind.replace(/ /g, '_')}_not_found` as ReasonCode;
  const code: ReasonCode = reason in REASONS ? reason : 'not_found';
  return new HoardError(code, `${capitalize(kind)} ${id} could not be found.`);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
