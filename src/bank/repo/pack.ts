import { createHash } from 'node:crypto';
import type { BankBackend } from '../backend.js';
import { OVERHEAD, open, seal } from './crypto.js';
import { corrupt } from './errors.js';
import { BLOB_TYPE_BYTE, ID_BYTES, aad, blobTypeOf, layout, type BlobType } from './format.js';

/** PackedBlob locates one sealed blob inside a pack. */
export interface PackedBlob {
  readonly type: BlobType;
  readonly id: Buffer;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

const ENTRY = 1 + 4 + 4 + ID_BYTES;
const TRAILER = 4;

/** FinishedPack is a pack ready to upload; release() hands its memory back once the upload is done. */
export interface FinishedPack {
  readonly id: string;
  readonly bytes: Buffer;
  readonly blobs: readonly PackedBlob[];
  release(): void;
}

// Pack buffers are reused: copying sealed blobs into fresh 16 MiB allocations cost more (page faults)
// than all the AES work on the main thread (measured 2.5 s per GB). Repository stores one pack at a
// time while the next fills, so one spare (the stored pack's buffer, for the pack after next) is enough.
const spare: Buffer[] = [];
const MAX_SPARE = 1;

/**
 * PackBuilder collects sealed blobs into one pack: the blobs back to back, then the sealed header
 * listing them, then the header's length (u32 LE). Owned by one caller; not reusable after finish().
 */
export class PackBuilder {
  private readonly blobs: PackedBlob[] = [];
  private buf: Buffer;
  private bytes = 0;

  constructor(capacity: number) {
    const reuse = spare.findIndex((b) => b.length >= capacity);
    this.buf = reuse >= 0 ? spare.splice(reuse, 1)[0]! : Buffer.allocUnsafeSlow(capacity);
  }

  /** size is the number of blob bytes added so far. */
  get size(): number {
    return this.bytes;
  }

  /** count is the number of blobs added so far. */
  get count(): number {
    return this.blobs.length;
  }

  /** add copies one sealed blob into the pack and returns the pack's view of it (valid until release). */
  add(type: BlobType, id: Buffer, box: Uint8Array, rawLength: number): Buffer {
    this.reserve(box.length);
    this.buf.set(box, this.bytes);
    this.blobs.push({ type, id, offset: this.bytes, length: box.length, rawLength });
    this.bytes += box.length;
    return this.buf.subarray(this.bytes - box.length, this.bytes);
  }

  /** finish seals the header under `enc` and returns the pack; the id lets anyone verify the bytes. */
  finish(enc: Uint8Array): FinishedPack {
    const header = Buffer.allocUnsafe(this.blobs.length * ENTRY);
    this.blobs.forEach((b, i) => {
      const at = i * ENTRY;
      header.writeUInt8(BLOB_TYPE_BYTE[b.type], at);
      header.writeUInt32LE(b.length, at + 1);
      header.writeUInt32LE(b.rawLength, at + 5);
      b.id.copy(header, at + 9);
    });
    const box = seal(enc, [header], aad('pack-header'));
    this.reserve(box.length + TRAILER);
    this.buf.set(box, this.bytes);
    this.buf.writeUInt32LE(box.length, this.bytes + box.length);
    const buf = this.buf;
    const bytes = buf.subarray(0, this.bytes + box.length + TRAILER);
    const release = (): void => void (spare.length < MAX_SPARE && spare.push(buf));
    return { id: createHash('sha256').update(bytes).digest('hex'), bytes, blobs: this.blobs, release };
  }

  private reserve(n: number): void {
    if (this.bytes + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(this.bytes + n + 1024 * 1024);
    this.buf.copy(bigger, 0, 0, this.bytes);
    this.buf = bigger;
  }
}

/**
 * readPackHeader reads and opens the header at the end of a stored pack, for checking a pack or
 * rebuilding an index without trusting index files. Damage is a `corrupt` RepoError naming the pack.
 */
export async function readPackHeader(backend: BankBackend, packId: string, enc: Uint8Array): Promise<PackedBlob[]> {
  const key = layout.pack(packId);
  const { size } = await backend.stat(key);
  if (size < TRAILER + OVERHEAD) throw corrupt(key, `pack of ${size} bytes is too short`);
  const boxLen = Buffer.from(await backend.get(key, { offset: size - TRAILER, length: TRAILER })).readUInt32LE(0);
  if (boxLen > size - TRAILER || (boxLen - OVERHEAD) % ENTRY !== 0) throw corrupt(key, `header length ${boxLen} does not fit the pack`);
  const header = open(enc, await backend.get(key, { offset: size - TRAILER - boxLen, length: boxLen }), aad('pack-header'));
  if (!header) throw corrupt(key, 'pack header authentication failed');
  return decodeHeader(key, header, size - TRAILER - boxLen);
}

function decodeHeader(key: string, header: Buffer, blobBytes: number): PackedBlob[] {
  const out: PackedBlob[] = [];
  let offset = 0;
  for (let at = 0; at < header.length; at += ENTRY) {
    const type = blobTypeOf(header.readUInt8(at));
    if (!type) throw corrupt(key, `unknown blob type ${header.readUInt8(at)} in header`);
    const length = header.readUInt32LE(at + 1);
    out.push({ type, id: Buffer.from(header.subarray(at + 9, at + ENTRY)), offset, length, rawLength: header.readUInt32LE(at + 5) });
    offset += length;
  }
  if (offset !== blobBytes) throw corrupt(key, `header lists ${offset} blob bytes, the pack holds ${blobBytes}`);
  return out;
}
