/**
 * layout names every object key the bank layer itself writes, so that the key space is documented in
 * one place. Leases live under `leases/<name>/<generation>`, the generation zero-padded to 12 digits so
 * that the backends' byte-ordered listing is also numeric order.
 */
export const LEASES_PREFIX = 'leases/';

const GEN_DIGITS = 12;
const SEGMENT_RE = /^(?!\.{1,2}$)[A-Za-z0-9_.@-]+$/;

/** isLeaseName tells whether name can name a lease: one key segment. */
export function isLeaseName(name: string): boolean {
  return SEGMENT_RE.test(name);
}

/** leasePrefix is the prefix under which all generations of one lease live. */
export function leasePrefix(name: string): string {
  return `${LEASES_PREFIX}${name}/`;
}

/** leaseKey is the key of one generation (≥ 1) of a lease. */
export function leaseKey(name: string, generation: number): string {
  return leasePrefix(name) + String(generation).padStart(GEN_DIGITS, '0');
}

/** parseLeaseKey splits a lease key into name and generation, or returns undefined for other keys. */
export function parseLeaseKey(key: string): { name: string; generation: number } | undefined {
  const m = /^leases\/([^/]+)\/(\d{12})$/.exec(key);
  return m ? { name: m[1] as string, generation: Number(m[2]) } : undefined;
}
