/**
 * The mem bank keeps objects in a Map for fast tests of code that does not put storage itself under
 * test. It follows the BankBackend contract exactly (key checks, atomic puts, ranges cut at the end,
 * ordered listing), so code that works on it works on the fs bank too; it is never durable.
 */
import {
  checkKey, checkMetadata, checkPrefix, checkRange, conflictError, notFoundError, rangePastEnd, bankErrorKind,
  type BankBackend, type ObjectInfo,
} from '../backend.js';

interface Stored {
  readonly data: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * MemBackend is a BankBackend held in memory. Every method is safe to call concurrently: puts replace
 * whole objects synchronously, so readers see the old or the new bytes; data is copied in and out so a
 * caller mutating its buffer cannot change a stored object. Errors are classified BankErrors.
 */
export class MemBackend implements BankBackend {
  private readonly objects = new Map<string, Stored>();

  async put(key: string, data: Uint8Array, opts?: { metadata?: Record<string, string>; ifAbsent?: boolean }): Promise<void> {
    checkKey(key);
    checkMetadata(opts?.metadata);
    if (opts?.ifAbsent && this.objects.has(key)) throw conflictError(key);
    this.objects.set(key, { data: Uint8Array.prototype.slice.call(data), metadata: { ...(opts?.metadata ?? {}) } });
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    checkKey(key);
    checkRange(range);
    const obj = this.must(key);
    if (!range) return obj.data.slice();
    if (range.offset > obj.data.length) throw rangePastEnd(key, range.offset, obj.data.length);
    return obj.data.slice(range.offset, Math.min(obj.data.length, range.offset + range.length));
  }

  async stat(key: string): Promise<ObjectInfo> {
    checkKey(key);
    return this.info(key, this.must(key));
  }

  async *list(prefix: string, opts?: { after?: string }): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (opts?.after === undefined || k > opts.after));
    // Byte order, not locale order: keys are ASCII, so code-unit comparison is byte comparison.
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj) yield this.info(key, obj);
    }
  }

  async remove(key: string): Promise<void> {
    checkKey(key);
    this.objects.delete(key);
  }

  isNotFound(err: unknown): boolean {
    return bankErrorKind(err) === 'not-found';
  }

  isConflict(err: unknown): boolean {
    return bankErrorKind(err) === 'conflict';
  }

  isPermanent(err: unknown): boolean {
    const kind = bankErrorKind(err);
    return kind === 'invalid' || kind === 'permanent';
  }

  /** keys lists every stored key; for tests that inspect or damage the bank. */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  private must(key: string): Stored {
    const obj = this.objects.get(key);
    if (!obj) throw notFoundError(key);
    return obj;
  }

  private info(key: string, obj: Stored): ObjectInfo {
    return { key, size: obj.data.length, metadata: { ...obj.metadata } };
  }
}

/** memBackend creates an empty MemBackend. */
export function memBackend(): MemBackend {
  return new MemBackend();
}
