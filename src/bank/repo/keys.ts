import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { BankBackend } from '../backend.js';
import { DEFAULT_SCRYPT, deriveKey, open, seal, type ScryptParams } from './crypto.js';
import { RepoError, corrupt } from './errors.js';
import { FORMAT_VERSION, aad, layout, type ChunkerParams } from './format.js';

/** Credential opens a repository: a passphrase (stretched by scrypt) or the bytes of a key file. */
export type Credential = string | Uint8Array;

/** DataKeys are the per-repository keys: `enc` seals blobs and metadata, `mac` computes blob ids. */
export interface DataKeys {
  readonly enc: Buffer;
  readonly mac: Buffer;
}

/** RepoConfig is the decrypted content of the `config` object. */
export interface RepoConfig {
  readonly id: string;
  readonly chunker: ChunkerParams;
  readonly keys: DataKeys;
}

interface KeyObject {
  format: 'hoard-key';
  version: number;
  kdf: 'scrypt' | 'keyfile';
  N?: number; r?: number; p?: number;
  salt: string;
  created: string;
  master: string;
}

const MIN_KEYFILE_BYTES = 32;

async function kek(cred: Credential, obj: Pick<KeyObject, 'kdf' | 'salt' | 'N' | 'r' | 'p'>): Promise<Buffer> {
  const salt = Buffer.from(obj.salt, 'base64');
  // A key file already carries full entropy, so it needs binding to the salt, not stretching.
  if (obj.kdf === 'keyfile') return createHmac('sha256', typeof cred === 'string' ? Buffer.from(cred) : cred).update(salt).digest();
  return deriveKey(typeof cred === 'string' ? cred : Buffer.from(cred).toString('base64'), salt, { N: obj.N ?? 0, r: obj.r ?? 0, p: obj.p ?? 0 });
}

/**
 * addKey wraps the master key for one more credential and stores it under keys/; older keys keep
 * working until removed, which is how a passphrase changes without touching data. Returns the key id.
 */
export async function addKey(backend: BankBackend, master: Buffer, cred: Credential, scrypt: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const isFile = typeof cred !== 'string';
  if (isFile && cred.length < MIN_KEYFILE_BYTES) throw new RepoError('format', `A key file must hold at least ${MIN_KEYFILE_BYTES} bytes.`);
  const base = { kdf: isFile ? 'keyfile' : 'scrypt', salt: randomBytes(32).toString('base64'), ...(isFile ? {} : scrypt) } as const;
  const wrapped = seal(await kek(cred, base), [master], aad('key'));
  const obj: KeyObject = { format: 'hoard-key', version: FORMAT_VERSION, ...base, created: new Date().toISOString(), master: wrapped.toString('base64') };
  const bytes = Buffer.from(JSON.stringify(obj));
  const id = createHash('sha256').update(bytes).digest('hex');
  await backend.put(layout.key(id), bytes, { ifAbsent: true });
  return id;
}

/**
 * unlock tries the credential against every key object and returns the master key. It fails with a
 * `wrong_key` RepoError when no key opens (never with a decryption of garbage), and `format` when the
 * bank has no keys or keys of a newer version.
 */
export async function unlock(backend: BankBackend, cred: Credential): Promise<Buffer> {
  let tried = 0;
  for await (const info of backend.list(layout.keysPrefix)) {
    const obj = parseKey(info.key, Buffer.from(await backend.get(info.key)));
    tried++;
    const master = open(await kek(cred, obj), Buffer.from(obj.master, 'base64'), aad('key'));
    if (master) return master;
  }
  if (tried === 0) throw new RepoError('format', 'This bank has no keys/ objects: it is not a Hoard repository or it was never initialised.', { object: layout.keysPrefix });
  throw new RepoError('wrong_key', `The passphrase or key file does not open this bank (tried ${tried} key${tried === 1 ? '' : 's'}).`);
}

function parseKey(key: string, bytes: Buffer): KeyObject {
  let obj: KeyObject;
  try {
    obj = JSON.parse(bytes.toString('utf8')) as KeyObject;
  } catch (err) {
    throw corrupt(key, 'key object is not JSON', err);
  }
  if (obj.format !== 'hoard-key') throw corrupt(key, 'not a Hoard key object');
  if (obj.version !== FORMAT_VERSION) throw new RepoError('format', `Key ${key} has format version ${obj.version}; this Hoard reads version ${FORMAT_VERSION}.`, { object: key });
  return obj;
}

/** writeConfig seals the repository config under the master key; done once, at init. */
export async function writeConfig(backend: BankBackend, master: Buffer, cfg: RepoConfig): Promise<void> {
  const inner = { id: cfg.id, chunker: cfg.chunker, keys: { enc: cfg.keys.enc.toString('base64'), mac: cfg.keys.mac.toString('base64') } };
  const sealed = seal(master, [Buffer.from(JSON.stringify(inner))], aad('config'));
  const outer = { format: 'hoard-bank', version: FORMAT_VERSION, sealed: sealed.toString('base64') };
  await backend.put(layout.config, Buffer.from(JSON.stringify(outer)), { ifAbsent: true });
}

/** readConfig reads and opens `config`; damage is a `corrupt` RepoError naming the object. */
export async function readConfig(backend: BankBackend, master: Buffer): Promise<RepoConfig> {
  const outer = JSON.parse(Buffer.from(await backend.get(layout.config)).toString('utf8')) as { format?: string; version?: number; sealed?: string };
  if (outer.format !== 'hoard-bank') throw corrupt(layout.config, 'not a Hoard bank config');
  if (outer.version !== FORMAT_VERSION) throw new RepoError('format', `This bank has format version ${outer.version}; this Hoard reads version ${FORMAT_VERSION}.`, { object: layout.config });
  const plain = open(master, Buffer.from(outer.sealed ?? '', 'base64'), aad('config'));
  if (!plain) throw corrupt(layout.config, 'authentication failed');
  const inner = JSON.parse(plain.toString('utf8')) as { id: string; chunker: ChunkerParams; keys: { enc: string; mac: string } };
  return { id: inner.id, chunker: inner.chunker, keys: { enc: Buffer.from(inner.keys.enc, 'base64'), mac: Buffer.from(inner.keys.mac, 'base64') } };
}
