import { HoardError, type ReasonCode } from '../../model/errors.js';

/** RepoErrorCode says what went wrong in the repository layer, in words a caller can branch on. */
export type RepoErrorCode = 'wrong_key' | 'corrupt' | 'format' | 'missing' | 'locked';

const REASON_OF: Record<RepoErrorCode, ReasonCode> = {
  wrong_key: 'bank_wrong_key',
  corrupt: 'bank_corrupt',
  format: 'bad_request',
  missing: 'not_found',
  locked: 'bank_locked',
};

/**
 * RepoError is the one error the repository throws on its own account (backend errors pass through
 * unchanged). `object` names the damaged or missing thing (a bank key, a blob id, a path) so that a
 * person can act on it; the message never contains key material or passphrases.
 */
export class RepoError extends HoardError {
  readonly code: RepoErrorCode;
  readonly object: string | undefined;

  constructor(code: RepoErrorCode, message: string, options?: { object?: string; cause?: unknown }) {
    super(REASON_OF[code], message, { cause: options?.cause });
    this.name = 'RepoError';
    this.code = code;
    this.object = options?.object;
  }
}

/** corrupt builds the error for data that fails authentication or parsing, naming where it lives. */
export function corrupt(what: string, why: string, cause?: unknown): RepoError {
  return new RepoError('corrupt', `Bank data is damaged: ${what}: ${why}.`, { object: what, cause });
}

/** isRepoError narrows to RepoError, optionally of one code. */
export function isRepoError(err: unknown, code?: RepoErrorCode): err is RepoError {
  return err instanceof RepoError && (code === undefined || err.code === code);
}
