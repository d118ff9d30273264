/**
 * Host key checking for ssh hooks, as OpenSSH's StrictHostKeyChecking=yes does it: the key the guest
 * presents must match a pinned SHA256 fingerprint or a known_hosts entry for `host` (`[host]:port` when
 * the port is not 22; plain or hashed names, `*`/`?` patterns, `!` negation, `@revoked`). There is no
 * trust on first use: an unknown host or a different key refuses the connection before any login.
 */
import { createHash, createHmac } from 'node:crypto';
import { HookError } from './errors.js';

export interface HostKeyCheck {
  /** algorithms lists the host key algorithms to offer, so the guest presents a key we can check. */
  readonly algorithms: readonly string[] | undefined;
  /** verify returns undefined when `key` (the raw SSH key blob) is trusted, or the refusal. */
  verify(key: Buffer): HookError | undefined;
}

interface Entry { readonly type: string; readonly blob: Buffer; readonly revoked: boolean }

const ALGORITHMS: Record<string, readonly string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** fingerprint is OpenSSH's `SHA256:` form of a raw key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** keyType reads the algorithm name that opens every SSH key blob. */
export function keyType(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : 'unknown';
}

export function pinnedCheck(pin: string, where: string): HostKeyCheck {
  const want = pin.replace(/=+$/, '');
  return {
    algorithms: undefined,
    verify: (key) => (fingerprint(key) === want ? undefined : new HookError('hook_host_key_mismatch',
      `The ssh host key of ${where} is ${keyType(key)} ${fingerprint(key)}, not the pinned ${want}. Either the guest's keys changed (reinstall, new image) or the connection is being intercepted; check the key on the guest (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and update hostKey in the hook spec.`)),
  };
}

export function knownHostsCheck(text: string, host: string, port: number): HostKeyCheck {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const entries = parse(text).filter((e) => matches(e.hosts, name)).map((e) => e.entry);
  const trusted = entries.filter((e) => !e.revoked);
  const algorithms = [...new Set(trusted.flatMap((e) => ALGORITHMS[e.type] ?? []))];
  return {
    algorithms: algorithms.length > 0 ? algorithms : undefined,
    verify: (key) => {
      if (entries.some((e) => e.revoked && e.blob.equals(key))) {
        return new HookError('hook_host_key_mismatch', `The ssh host key ${fingerprint(key)} of ${name} is marked @revoked in the known_hosts of the hook spec; the guest must get a new host key.`);
      }
      if (trusted.length === 0) {
        return new HookError('hook_host_key_unknown', `The known_hosts of the hook spec has no entry for ${name}; the guest presented ${keyType(key)} ${fingerprint(key)}. Check that key on the guest itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add its line to knownHosts or pin the fingerprint.`);
      }
      if (trusted.some((e) => e.blob.equals(key))) return undefined;
      return new HookError('hook_host_key_mismatch', `The ssh host key of ${name} is ${keyType(key)} ${fingerprint(key)}, which matches none of its known_hosts entries (${trusted.map((e) => `${e.type} ${fingerprint(e.blob)}`).join(', ')}). Either the guest's keys changed or the connection is being intercepted; check on the guest and update knownHosts.`);
    },
  };
}

function parse(text: string): { hosts: string; entry: Entry }[] {
  const out: { hosts: string; entry: Entry }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    // @cert-authority lines trust a CA, not a key; host certificates are not supported here.
    if (marker === '@cert-authority' || fields.length < 3) continue;
    out.push({ hosts: fields[0]!, entry: { type: fields[1]!, blob: Buffer.from(fields[2]!, 'base64'), revoked: marker === '@revoked' } });
  }
  return out;
}

function matches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    return createHmac('sha1', Buffer.from(salt ?? '', 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!glob(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

function glob(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
