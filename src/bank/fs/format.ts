import type { FileHandle } from 'node:fs/promises';
import { BankError } from '../backend.js';

/*
 * On-disk object format (version 1), one file per object so that one rename publishes data and
 * metadata together (a sidecar would need two renames, and a crash between them would mix versions):
 *
 *   bytes 0..7    "HOARDOB1"                      magic and format version
 *   bytes 8..11   N, unsigned 32-bit big-endian   length of the metadata JSON
 *   bytes 12..    N bytes of UTF-8 JSON           the metadata object ({} is written as N = 0)
 *   then          the object's bytes, to the end of the file
 */
const MAGIC = Buffer.from('HOARDOB1', 'latin1');
const FIXED = MAGIC.length + 4;
const MAX_META = 64 * 1024;

/** Header is a decoded object header: the metadata and where the object's bytes start. */
export interface Header {
  readonly metadata: Record<string, string>;
  readonly dataStart: number;
}

/** encodeHeader builds the header bytes for metadata that checkMetadata has accepted. */
export function encodeHeader(metadata: Record<string, string> | undefined): Buffer {
  const json = metadata && Object.keys(metadata).length > 0 ? Buffer.from(JSON.stringify(metadata), 'utf8') : Buffer.alloc(0);
  const head = Buffer.alloc(FIXED);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(json.length, MAGIC.length);
  return Buffer.concat([head, json]);
}

/** readHeader decodes the header of an open object file; a damaged one is a `permanent` BankError. */
export async function readHeader(fh: FileHandle, key: string): Promise<Header> {
  const fixed = await readExactly(fh, 0, FIXED);
  if (fixed.length < FIXED || !fixed.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(key, 'bad magic');
  const n = fixed.readUInt32BE(MAGIC.length);
  if (n > MAX_META) throw corrupt(key, `metadata length ${n}`);
  if (n === 0) return { metadata: {}, dataStart: FIXED };
  const json = await readExactly(fh, FIXED, n);
  if (json.length < n) throw corrupt(key, 'truncated metadata');
  try {
    return { metadata: JSON.parse(json.toString('utf8')) as Record<string, string>, dataStart: FIXED + n };
  } catch (err) {
    throw corrupt(key, 'metadata is not JSON', err);
  }
}

/** readExactly reads up to `length` bytes at `position`, fewer only when the file ends first. */
export async function readExactly(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** writeAll writes every byte of each chunk in order; a single write may be short for large buffers. */
export async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
      done += bytesWritten;
    }
  }
}

function corrupt(key: string, why: string, cause?: unknown): BankError {
  return new BankError('permanent', `Bank object ${key} is damaged on disk (${why}).`, { cause });
}
