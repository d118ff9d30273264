import { BankError, bankErrorKind } from '../backend.js';

interface SdkError {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

// Names and statuses that no retry can fix: the request or the credentials are wrong.
const PERMANENT_NAMES = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket', 'InvalidBucketName', 'InvalidArgument',
  'InvalidRange', 'NotImplemented', 'MethodNotAllowed', 'EntityTooLarge', 'InvalidRequest', 'AuthorizationHeaderMalformed',
]);
const PERMANENT_STATUS = new Set([400, 401, 403, 405, 411, 413, 501]);

/** statusOf returns the HTTP status of an AWS SDK error, if it got that far. */
export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as SdkError).$metadata?.httpStatusCode : undefined;
}

/** nameOf returns the S3 error code (NoSuchKey, PreconditionFailed, …) of an AWS SDK error. */
export function nameOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as SdkError).name : undefined;
}

/**
 * classify turns an AWS SDK or network error into a BankError. A 404 is `not-found` only for a missing
 * key: a missing bucket is a configuration error, hence permanent. RequestTimeout (400) and
 * ConditionalRequestConflict (409, a concurrent conditional write in flight) are worth a retry.
 */
export function classify(raw: unknown, key: string, what: string): BankError {
  if (raw instanceof BankError) return raw;
  const name = nameOf(raw);
  const status = statusOf(raw);
  const detail = `S3 ${what} of ${key} failed: ${name ?? 'error'}${status ? ` (HTTP ${status})` : ''}`;
  const err = sanitize(raw, name, status);
  if (name === 'NoSuchKey' || (status === 404 && name !== 'NoSuchBucket')) return new BankError('not-found', detail, { cause: err });
  if (status === 412 || name === 'PreconditionFailed') return new BankError('conflict', detail, { cause: err });
  if (name === 'RequestTimeout' || name === 'ConditionalRequestConflict') return new BankError('transient', detail, { cause: err });
  if ((name && PERMANENT_NAMES.has(name)) || (status && PERMANENT_STATUS.has(status))) {
    return new BankError('permanent', detail, { cause: err });
  }
  return new BankError('transient', detail, { cause: err });
}

/** S3Failure is the part of an SDK error worth keeping: the SDK's own carries the signed request. */
export interface S3Failure {
  readonly name: string | undefined;
  readonly status: number | undefined;
  readonly message: string;
  readonly requestId: string | undefined;
}

function sanitize(raw: unknown, name: string | undefined, status: number | undefined): S3Failure {
  const meta = (raw as { $metadata?: { requestId?: string } } | null)?.$metadata;
  return { name, status, message: raw instanceof Error ? raw.message : String(raw), requestId: meta?.requestId };
}

/** isS3NotFound, isS3Conflict and isS3Permanent read the kind classify() gave. */
export const isS3NotFound = (err: unknown): boolean => bankErrorKind(err) === 'not-found';
export const isS3Conflict = (err: unknown): boolean => bankErrorKind(err) === 'conflict';
export const isS3Permanent = (err: unknown): boolean => {
  const kind = bankErrorKind(err);
  return kind === 'invalid' || kind === 'permanent';
};
