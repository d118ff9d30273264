import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync, scrypt as scryptCb } from 'node:crypto';

/** NONCE and TAG are the AES-256-GCM framing sizes: a sealed box is nonce ‖ ciphertext ‖ tag. */
export const NONCE = 12;
export const TAG = 16;
export const OVERHEAD = NONCE + TAG;

/** ScryptParams are the key-derivation costs recorded in each key object. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** DEFAULT_SCRYPT costs about 100 ms and 32 MiB on a current core: slow for guessing, quick to open. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

/**
 * seal encrypts the concatenation of `parts` with AES-256-GCM under a fresh random nonce, binding `aad`.
 * It is pure and synchronous; random 96-bit nonces keep collisions negligible below 2^32 seals per key.
 */
export function seal(key: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = parts.map((p) => cipher.update(p));
  const final = cipher.final();
  return Buffer.concat([nonce, ...body, final, cipher.getAuthTag()]);
}

// Nonces are drawn from a block of random bytes filled at once: one RNG call per box cost more than
// sealing a small file's chunk. Each nonce is still 12 fresh random bytes, used once.
const nonces = Buffer.allocUnsafeSlow(NONCE * 1024);
let nonceAt = nonces.length;

/**
 * sealInto is seal() writing the box into `dst` at `at` instead of a new buffer; it returns the box
 * length. `dst` must have room for the parts plus OVERHEAD.
 */
export function sealInto(key: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array, dst: Buffer, at: number): number {
  if (nonceAt === nonces.length) {
    randomFillSync(nonces);
    nonceAt = 0;
  }
  const nonce = nonces.subarray(nonceAt, nonceAt + NONCE);
  nonceAt += NONCE;
  nonce.copy(dst, at);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  let end = at + NONCE;
  for (const p of parts) end += cipher.update(p).copy(dst, end);
  end += cipher.final().copy(dst, end);
  end += cipher.getAuthTag().copy(dst, end);
  return end - at;
}

/**
 * open decrypts a box made by seal; it returns undefined when authentication fails (wrong key, wrong
 * `aad`, or any changed byte) so that callers can name what was damaged.
 */
export function open(key: Uint8Array, box: Uint8Array, aad: Uint8Array): Buffer | undefined {
  if (box.length < OVERHEAD) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(box.subarray(box.length - TAG));
  const body = decipher.update(box.subarray(NONCE, box.length - TAG));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    return undefined;
  }
}

/** mac is the keyed blob id: HMAC-SHA256, so ids say nothing about content to whoever lacks the key. */
export function mac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** deriveKey stretches a passphrase into a 32-byte key-encryption key; it runs on the libuv pool. */
export function deriveKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCb(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** randomKey returns 32 fresh random bytes. */
export function randomKey(): Buffer {
  return randomBytes(32);
}
