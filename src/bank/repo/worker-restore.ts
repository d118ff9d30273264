/*
 * Worker-thread side of restore: opens every blob of one pack range read by the main thread and
 * writes it where the plan says, with positional writes. Files that are a single blob (most small
 * files) are created, written and given their attributes here in one go; the main thread creates
 * multi-blob files beforehand and finishes them after their last blob. Sync fs calls block only
 * this worker and save a promise round trip per call.
 */
import { closeSync, fchmodSync, fchownSync, ftruncateSync, futimesSync, openSync, writeSync } from 'node:fs';
import { openBlob, type BlobKeys } from './codec.js';
import type { BlobType } from './format.js';
import { collectGarbage } from './worker-files.js';

/** FileAttrs are what a restored file gets back besides its bytes. */
export interface FileAttrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: string;
  readonly size: number;
}

/** RestoreTarget is one place a blob's bytes go: a file and an offset; `whole` when the blob is the entire file. */
export interface RestoreTarget {
  readonly path: Uint8Array;
  readonly pos: number;
  readonly whole?: FileAttrs;
}

/** RangeBlob is one blob inside a range read from a pack (`offset` relative to the range). */
export interface RangeBlob {
  readonly type: BlobType;
  readonly id: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  readonly targets: RestoreTarget[];
}

const ZERO_PAGE = Buffer.alloc(64 * 1024);

/**
 * restoreRange authenticates and decodes each blob of `data` (bytes of pack `where`) and writes it to
 * its targets. Damage throws a `corrupt` RepoError before any byte of that blob is written.
 */
export function restoreRange(keys: BlobKeys, where: string, data: Uint8Array, blobs: readonly RangeBlob[]): void {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (const b of blobs) {
    const plain = openBlob(keys, b.type, b.id, bytes.subarray(b.offset, b.offset + b.length), b.rawLength, where);
    const zero = isZero(plain);
    for (const t of b.targets) {
      if (t.whole) writeWhole(Buffer.from(t.path), plain, zero, t.whole);
      else if (!zero) writeAt(Buffer.from(t.path), plain, t.pos);
    }
    // The decoded blob (and its decryption buffer) is garbage now; see collectGarbage.
    collectGarbage(2 * plain.length);
  }
  collectGarbage(data.byteLength);
}

function writeWhole(path: Buffer, plain: Buffer, zero: boolean, a: FileAttrs): void {
  const fd = openSync(path, 'w', a.mode & 0o777);
  try {
    // A zero blob becomes a hole: the length is set without writing the zeros.
    if (zero) ftruncateSync(fd, plain.length);
    else writeFully(fd, plain, 0);
    setAttrs(fd, a);
  } finally {
    closeSync(fd);
  }
}

function writeAt(path: Buffer, plain: Buffer, pos: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeFully(fd, plain, pos);
  } finally {
    closeSync(fd);
  }
}

function writeFully(fd: number, buf: Buffer, pos: number): void {
  for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done, buf.length - done, pos + done);
}

/** setAttrs puts back owner (as root), mode (the umask may have stripped bits at open) and mtime through an open fd. */
export function setAttrs(fd: number, a: FileAttrs): void {
  if (process.getuid?.() === 0 && (a.uid !== process.getuid() || a.gid !== process.getgid?.())) fchownSync(fd, a.uid, a.gid);
  fchmodSync(fd, a.mode);
  const t = seconds(a.mtimeNs);
  futimesSync(fd, t, t);
}

/** seconds turns nanoseconds since the epoch (decimal string) into the seconds utimes takes. */
export function seconds(ns: string): number {
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

/** isZero tells whether a chunk is all zeros (restored as a hole). */
export function isZero(chunk: Buffer): boolean {
  for (let at = 0; at < chunk.length; at += ZERO_PAGE.length) {
    const end = Math.min(chunk.length, at + ZERO_PAGE.length);
    if (!chunk.subarray(at, end).equals(ZERO_PAGE.subarray(0, end - at))) return false;
  }
  return true;
}
