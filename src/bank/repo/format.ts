/**
 * Every object key and framing constant of bank format v1 lives here, so that docs/bank-format.md and
 * the code have one place to agree on.
 */

/** FORMAT_VERSION is written into config and key objects; readers refuse versions they do not know. */
export const FORMAT_VERSION = 1;

/** BlobType separates file and stream contents (`data`) from encoded trees and manifests (`tree`). */
export type BlobType = 'data' | 'tree';

/** BLOB_TYPE_BYTE is how a blob type is written into pack headers and additional data. */
export const BLOB_TYPE_BYTE: Record<BlobType, number> = { data: 0, tree: 1 };

/** blobTypeOf maps a header byte back to its type, or undefined for an unknown byte. */
export function blobTypeOf(byte: number): BlobType | undefined {
  return byte === 0 ? 'data' : byte === 1 ? 'tree' : undefined;
}

/** ID_BYTES is the length of a blob, pack, index or snapshot id; ids are written as lower-case hex. */
export const ID_BYTES = 32;

/** ChunkerParams fixes content-defined chunking for a repository; changing it would end deduplication. */
export interface ChunkerParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  /** seed picks the gear table; per repository so that chunk sizes do not fingerprint known files. */
  readonly seed: string;
}

/** DEFAULT_CHUNKER matches restic's sizes: 512 KiB minimum, 1 MiB average, 8 MiB maximum. */
export const DEFAULT_CHUNKER: Omit<ChunkerParams, 'seed'> = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024 };

/** PACK_TARGET is the pack size at which the packer closes a pack; a pack may exceed it by one blob. */
export const PACK_TARGET = 16 * 1024 * 1024;

/** layout names every object of a repository; nothing else builds bank keys. */
export const layout = {
  config: 'config',
  keysPrefix: 'keys/',
  key: (id: string) => `keys/${id}`,
  dataPrefix: 'data/',
  pack: (id: string) => `data/${id.slice(0, 2)}/${id}`,
  indexPrefix: 'index/',
  index: (id: string) => `index/${id}`,
  snapshotsPrefix: 'snapshots/',
  snapshot: (id: string) => `snapshots/${id}`,
} as const;

/** aad builds the additional authenticated data that ties a sealed box to its role and identity. */
export function aad(role: string, id?: Uint8Array): Buffer {
  const label = Buffer.from(`hoard-v${FORMAT_VERSION}:${role}`, 'latin1');
  return id ? Buffer.concat([label, id]) : label;
}
