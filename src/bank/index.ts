/**
 * bank is where checkpoints live: a flat space of immutable-by-convention objects (BankBackend) on a
 * local file system, Swift or S3, plus the decorators that add behaviour around any backend (retry)
 * and leases that guard single writers.
 *
 * Invariants every backend keeps (checked by runBankSuite in ./testing.ts, on every backend):
 * - keys match KEY_RE and metadata METADATA_LIMITS, anything else is refused before any I/O;
 * - put is atomic (old or new object, never a mix), and `ifAbsent` lets exactly one racer win;
 * - list is in ascending byte order of keys and resumes strictly after `after`;
 * - failures are classified: not-found, conflict, permanent, or else transient (retry() retries those).
 */
export {
  BankError, KEY_RE, METADATA_LIMITS, PREFIX_RE, bankErrorKind, checkKey, checkMetadata, checkPrefix, checkRange,
  type BankBackend, type BankErrorKind, type ObjectInfo,
} from './backend.js';
export { fsBackend, type FsBackendOptions } from './fs/index.js';
export { memBackend, MemBackend } from './mem/index.js';
export { retry, isRetryable, type RetryOptions } from './retry/index.js';
export {
  acquireLease, expiredLeases, listLeases, LeaseError, type Lease, type LeaseErrorCode, type LeaseInfo, type LeaseOptions,
} from './lease.js';
export { LEASES_PREFIX } from './layout.js';
export { s3Backend, type S3Backend, type S3BackendOptions } from './s3/index.js';
export {
  KeystoneAuth, swiftBackend, type SwiftAuthOptions, type SwiftBackend, type SwiftBackendOptions, type SwiftSession, type SwiftTokenSource,
} from './swift/index.js';
