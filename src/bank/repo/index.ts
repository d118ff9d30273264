/**
 * bank/repo is Hoard's data repository: content-defined chunks (FastCDC), deduplicated by a keyed id
 * (HMAC-SHA256), compressed (zstd), encrypted (AES-256-GCM) and packed into ~16 MiB pack files on any
 * BankBackend, with encrypted index files and immutable, encrypted snapshots. docs/bank-format.md is
 * the format; this module is its only implementation.
 *
 * Invariants: nothing is ever overwritten (objects are named by content hash or written ifAbsent);
 * an index file is written only after the packs it lists are stored, and a snapshot only after a
 * flush, so a reader never finds a reference to a blob that is not durable; every byte read is
 * authenticated before use, and damage surfaces as a `corrupt` RepoError naming the object.
 */
export { Repository, type RepoOptions, type InitOptions, type SaveResult, type RepoStats } from './repository.js';
export { RepoError, isRepoError, type RepoErrorCode } from './errors.js';
export type { Credential } from './keys.js';
export { addKey } from './keys.js';
export { Chunker, gearTable } from './chunker.js';
export { DEFAULT_CHUNKER, FORMAT_VERSION, PACK_TARGET, layout, type BlobType, type ChunkerParams } from './format.js';
export { readPackHeader, type PackedBlob } from './pack.js';
export { backupTree, type BackupOptions, type BackupResult, type BackupStats } from './archiver.js';
export { restoreTree, type RestoreOptions, type RestoreStats } from './restorer.js';
export { copyTree, type CopyOptions, type CopyResult } from './copier.js';
export { writeStream, readStream, loadStreamManifest, type StreamManifest, type StreamStats, type WriteStreamOptions } from './stream.js';
export { saveSnapshot, loadSnapshot, listSnapshots, type Section, type Snapshot } from './snapshots.js';
export { loadTree, type Tree, type TreeNode, type Progress, type ProgressFn } from './tree.js';
export { check, formatFinding, type CheckOptions, type CheckResult, type CheckStats, type Finding, type FindingKind } from './checker.js';
export { prune, DEFAULT_REPACK_THRESHOLD, type PruneOptions, type PruneResult } from './prune.js';
export {
  openWriter, acquirePruneLease, liveWriters, readNotices, KeptLease, DEFAULT_LEASE_TTL_MS, PENDING_PREFIX, PRUNE_LEASE, WRITER_LEASE_PREFIX,
  type LockOptions, type Notice, type WriterSession,
} from './locks.js';
export { listSnapshotIds } from './snapshots.js';
export { PACK_WRITER_META, type WriterHooks } from './repository.js';
