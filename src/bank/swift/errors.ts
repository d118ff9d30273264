import { BankError, bankErrorKind } from '../backend.js';

/** SwiftFailure is what a classified Swift error keeps as its cause: never the token. */
export interface SwiftFailure {
  readonly status: number;
  readonly transId: string | null;
}

// Statuses no retry can fix: the request, the credentials or the container is wrong.
const PERMANENT = new Set([400, 401, 403, 405, 411, 413, 414, 431]);

/**
 * statusError classifies a Swift answer that the operation did not expect. 412 is a lost `ifAbsent`;
 * 404 means a missing object only where the caller says so (`missingIs`), since for listings and writes it
 * means the container is missing, a configuration error. 408, 422 (checksum mismatch), 429, 498 and 5xx
 * are transient.
 */
export function statusError(res: Response, what: string, key: string, missingIs: 'not-found' | 'permanent' = 'permanent'): BankError {
  const cause: SwiftFailure = { status: res.status, transId: res.headers.get('x-trans-id') };
  const detail = `Swift ${what} of ${key} failed with HTTP ${res.status}`;
  if (res.status === 404) return new BankError(missingIs, missingIs === 'not-found' ? `${detail}: no such object.` : `${detail}: no such container.`, { cause });
  if (res.status === 412) return new BankError('conflict', `${detail}: it already exists.`, { cause });
  if (PERMANENT.has(res.status)) return new BankError('permanent', `${detail}.`, { cause });
  return new BankError('transient', `${detail}.`, { cause });
}

/** networkError wraps a fetch failure (refused, reset, DNS): always worth a retry. */
export function networkError(err: unknown, what: string, key: string): BankError {
  const why = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error)?.message ?? 'error';
  return new BankError('transient', `Swift ${what} of ${key} failed: ${why}.`, { cause: err });
}

/** isSwiftNotFound, isSwiftConflict and isSwiftPermanent read the kind the backend gave. */
export const isSwiftNotFound = (err: unknown): boolean => bankErrorKind(err) === 'not-found';
export const isSwiftConflict = (err: unknown): boolean => bankErrorKind(err) === 'conflict';
export const isSwiftPermanent = (err: unknown): boolean => {
  const kind = bankErrorKind(err);
  return kind === 'invalid' || kind === 'permanent';
};
