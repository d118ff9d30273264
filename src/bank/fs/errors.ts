import { bankErrorKind } from '../backend.js';

// Retrying these cannot help: the path, the permissions or the disk itself is wrong.
const PERMANENT_CODES = new Set([
  'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'EINVAL', 'ELOOP', 'EXDEV', 'EFBIG',
]);

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

/** isFsNotFound classifies a missing file or a `not-found` BankError. */
export function isFsNotFound(err: unknown): boolean {
  return bankErrorKind(err) === 'not-found' || errno(err) === 'ENOENT';
}

/** isFsConflict classifies a lost exclusive create or a `conflict` BankError. */
export function isFsConflict(err: unknown): boolean {
  return bankErrorKind(err) === 'conflict' || errno(err) === 'EEXIST';
}

/** isFsPermanent classifies errors that no retry can fix: bad input, permissions, a full or read-only disk. */
export function isFsPermanent(err: unknown): boolean {
  const kind = bankErrorKind(err);
  if (kind === 'invalid' || kind === 'permanent') return true;
  const code = errno(err);
  return code !== undefined && PERMANENT_CODES.has(code);
}
