import { createHash } from 'node:crypto';
import { compress, decompress } from 'zstd-napi';
import type { BankBackend } from '../backend.js';
import { open, seal } from './crypto.js';
import { corrupt } from './errors.js';
import { BLOB_TYPE_BYTE, aad, blobTypeOf, layout, type BlobType } from './format.js';
import type { PackedBlob } from './pack.js';

/** Location says where a blob lives: its pack, byte range and decoded length. */
export interface Location {
  readonly pack: string;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

/** PackEntry is one pack's part of an index file. */
export interface PackEntry {
  readonly id: string;
  readonly blobs: readonly PackedBlob[];
}

type Row = [number, string, number, number, number];

/**
 * MasterIndex maps blob ids (hex) to their location, merged from every index file plus the packs this
 * process uploaded. Owned by one Repository; all methods are synchronous, so concurrent callers on the
 * event loop always see a consistent map.
 */
export class MasterIndex {
  private readonly map = new Map<string, Location>();
  private unsaved: PackEntry[] = [];

  /** get returns a blob's location, or undefined when no stored pack holds it. */
  get(id: string): Location | undefined {
    return this.map.get(id);
  }

  /** size is the number of blobs indexed. */
  get size(): number {
    return this.map.size;
  }

  /** addRows records a pack read from an index file, straight from its rows (ids already hex). */
  addRows(pack: string, rows: readonly Row[]): void {
    for (const [t, id, offset, length, rawLength] of rows) this.map.set(id, { pack, type: blobTypeOf(t)!, offset, length, rawLength });
  }

  /** addPack records a pack's blobs; `saved` is false for packs not yet listed in any index file. */
  addPack(entry: PackEntry, saved: boolean): void {
    for (const b of entry.blobs) {
      this.map.set(b.id.toString('hex'), { pack: entry.id, type: b.type, offset: b.offset, length: b.length, rawLength: b.rawLength });
    }
    if (!saved) this.unsaved.push(entry);
  }

  /** unsavedCount is the number of uploaded packs not yet in an index file. */
  get unsavedCount(): number {
    return this.unsaved.length;
  }

  /** takeUnsaved hands over the packs to write into the next index file. */
  takeUnsaved(): PackEntry[] {
    const out = this.unsaved;
    this.unsaved = [];
    return out;
  }

  /** packIds lists every pack the index knows. */
  packIds(): Set<string> {
    return new Set([...this.map.values()].map((l) => l.pack));
  }
}

/** writeIndexFile stores packs as one sealed, compressed index file and returns its id. */
export async function writeIndexFile(backend: BankBackend, enc: Uint8Array, packs: readonly PackEntry[]): Promise<string> {
  const doc = { packs: packs.map((p) => ({ id: p.id, blobs: p.blobs.map((b): Row => [BLOB_TYPE_BYTE[b.type], b.id.toString('hex'), b.offset, b.length, b.rawLength]) })) };
  const box = seal(enc, [compress(Buffer.from(JSON.stringify(doc)), { compressionLevel: 3 })], aad('index'));
  const id = createHash('sha256').update(box).digest('hex');
  await backend.put(layout.index(id), box);
  return id;
}

/**
 * loadIndexFiles reads every index file into `index`; damage is a `corrupt` RepoError naming the file.
 * With `seen`, files already in it are skipped and the ones read are added: a refresh reads only what
 * other writers (or a prune) published since.
 */
export async function loadIndexFiles(backend: BankBackend, enc: Uint8Array, index: MasterIndex, seen?: Set<string>): Promise<number> {
  let files = 0;
  for await (const info of backend.list(layout.indexPrefix)) {
    if (seen?.has(info.key)) continue;
    // Rows go into the map as they are: a session opens the whole index, and converting every id to
    // bytes and back to hex cost more than reading the files.
    for (const p of decodeRows(info.key, enc, await backend.get(info.key))) {
      for (const r of p.blobs) checkRow(info.key, r);
      index.addRows(p.id, p.blobs);
    }
    seen?.add(info.key);
    files++;
  }
  return files;
}

/** readIndexFile reads one index file; damage is a `corrupt` RepoError naming it (check and prune read
 * files one by one so that one damaged file neither hides the others nor stops the run). */
export async function readIndexFile(backend: BankBackend, enc: Uint8Array, key: string): Promise<PackEntry[]> {
  return decodeIndex(key, enc, await backend.get(key));
}

function decodeIndex(key: string, enc: Uint8Array, box: Uint8Array): PackEntry[] {
  return decodeRows(key, enc, box).map((p) => ({ id: p.id, blobs: p.blobs.map((r) => toBlob(key, r)) }));
}

function decodeRows(key: string, enc: Uint8Array, box: Uint8Array): { id: string; blobs: Row[] }[] {
  const plain = open(enc, box, aad('index'));
  if (!plain) throw corrupt(key, 'index authentication failed');
  try {
    const doc = JSON.parse(decompress(plain).toString('utf8')) as { packs: { id: string; blobs: Row[] }[] };
    if (!Array.isArray(doc.packs)) throw new Error('no packs array');
    return doc.packs;
  } catch (err) {
    throw corrupt(key, `index does not decode: ${(err as Error).message}`, err);
  }
}

// checkRow refuses a row that toBlob would refuse, without building the blob.
function checkRow(key: string, r: Row): void {
  if (!Array.isArray(r) || typeof r[1] !== 'string' || r[1].length !== 64) throw corrupt(key, `index row ${JSON.stringify(r)} does not decode`);
  if (!blobTypeOf(r[0])) throw corrupt(key, `unknown blob type ${r[0]}`);
}

function toBlob(key: string, [t, id, offset, length, rawLength]: Row): PackedBlob {
  const type = blobTypeOf(t);
  if (!type) throw corrupt(key, `unknown blob type ${t}`);
  return { type, id: Buffer.from(id, 'hex'), offset, length, rawLength };
}
