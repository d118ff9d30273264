/**
 * The directory plugin's remote restore target: `sftp://[user@]host[:port]` (`ssh://` alike) with
 * `restore_auth` `{type: 'ssh', username, private_key? | password?, passphrase?, host_key}`. host_key is
 * required, as an OpenSSH `SHA256:` fingerprint, a public key line (`ssh-ed25519 AAAA…`) or known_hosts
 * lines: a restore never trusts a host key on first use. The directory on the host is the restore's
 * `restore_path` parameter, not part of the URL. remoteLogin reads both, with no I/O, so the same
 * checks refuse a bad request (checkRestoreTarget, at request time) and guard the worker.
 */
import type { RestoreAuth } from '../sdk/index.js';

/** REMOTE_SCHEMES are the restore_target schemes the directory plugin declares. */
export const REMOTE_SCHEMES: readonly string[] = ['sftp', 'ssh'];

/** RemoteLogin is a parsed target and its credentials, shaped as the SFTP access takes them. */
export interface RemoteLogin {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: { readonly fingerprint: string } | { readonly knownHosts: string };
  readonly privateKey?: string | undefined;
  readonly passphrase?: string | undefined;
  readonly password?: string | undefined;
  /** shown names the host in messages and restored ids, `sftp://host:port`, without user or secrets. */
  readonly shown: string;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const KEY_TYPE = /^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,3}$/;
const SSH_FORM = "restore_auth {type: 'ssh', username, private_key or password, host_key}";

/** remoteLogin answers the login a target and its restore_auth describe, or why they cannot be used. */
export function remoteLogin(url: URL, auth: RestoreAuth | null): RemoteLogin | string {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!REMOTE_SCHEMES.includes(scheme)) return `the directory plugin restores only to ${REMOTE_SCHEMES.join(', ')} targets.`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return 'the target names no host; give one such as sftp://user@host:22.';
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    return 'the target names a host only; give the directory on it as the restore_path parameter.';
  }
  if (!auth) return `an ${scheme} target needs ${SSH_FORM}.`;
  if (auth.type !== 'ssh') {
    return `restore_auth of type ${String(auth.type)} has no host_key, and a restore never trusts a host key on first use; send ${SSH_FORM} instead.`;
  }
  const fromUrl = url.username ? decodeURIComponent(url.username) : undefined;
  const user = str(auth.username);
  if (fromUrl && user && fromUrl !== user) return 'the user in the target and restore_auth.username differ; give one user.';
  if (!str(auth.private_key) && !str(auth.password)) return `${SSH_FORM} needs a private_key or a password.`;
  const port = url.port ? Number(url.port) : 22;
  const hostKey = hostKeyOf(str(auth.host_key) ?? '', port === 22 ? host : `[${host}]:${port}`);
  if (typeof hostKey === 'string') return hostKey;
  return {
    host, port, user: (fromUrl ?? user)!, hostKey,
    privateKey: str(auth.private_key), passphrase: str(auth.passphrase), password: str(auth.password),
    shown: `sftp://${url.hostname}:${port}`,
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * hostKeyOf reads restore_auth.host_key: a fingerprint is pinned; public key lines are trusted for
 * `name` (the known_hosts name of the target); known_hosts lines are taken as they are.
 */
function hostKeyOf(text: string, name: string): RemoteLogin['hostKey'] | string {
  const trimmed = text.trim();
  if (FINGERPRINT.test(trimmed)) return { fingerprint: trimmed };
  const lines: string[] = [];
  for (const raw of trimmed.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    if (KEY_TYPE.test(fields[0]) && BASE64.test(fields[1] ?? '')) {
      lines.push(`${name} ${fields[0]} ${fields[1]}`);
      continue;
    }
    const entry = fields[0].startsWith('@') ? fields.slice(1) : fields;
    if (entry.length < 3 || !KEY_TYPE.test(entry[1]!) || !BASE64.test(entry[2]!)) {
      return 'restore_auth.host_key must be an OpenSSH SHA256: fingerprint, a public key line (ssh-ed25519 AAAA…) or known_hosts lines.';
    }
    lines.push(raw.trim());
  }
  if (lines.length === 0) return 'restore_auth.host_key is required: a restore never trusts a host key on first use.';
  return { knownHosts: lines.join('\n') };
}
