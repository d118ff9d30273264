/**
 * sftpAccess opens SFTP sessions for plugins that write to another host (the directory plugin's
 * `sftp://` restore target) with the ssh hooks' own connection code, so both check host keys the same
 * way: the key must match a pinned `SHA256:` fingerprint or a known_hosts entry before any credential
 * is sent, and there is no trust on first use. A plugin family may not import another, so the
 * composition root hands this to the plugins that need it.
 *
 * Refusals are worded for the caller's input (`source`, e.g. `restore_auth`) rather than a hook spec,
 * go through a Redactor holding the login's secrets, and come as the SDK's Unrecoverable (host key,
 * login, no SFTP) or RetryLater (the host could not be reached: that may pass).
 */
import type { Client, SFTPWrapper } from 'ssh2';
import { RetryLater, Unrecoverable } from '../sdk/index.js';
import { HookError } from './errors.js';
import { fingerprint, keyType, type HostKeyCheck } from './host-keys.js';
import { Redactor } from './secrets.js';
import { connectSsh, hostKeyCheck, openSftp, type SshEndpoint } from './ssh-session.js';

/** SftpLogin is a host, the key it must present, and the credentials to log in with. */
export interface SftpLogin extends SshEndpoint {
  readonly port: number;
  readonly privateKey?: string | undefined;
  readonly passphrase?: string | undefined;
  readonly password?: string | undefined;
}

/** SftpSession is a logged-in SFTP session; close() ends its connection (idempotent). */
export interface SftpSession {
  readonly sftp: SFTPWrapper;
  close(): void;
}

/** SftpOpenOptions: where the login came from (for messages), the handshake timeout and a stop signal. */
export interface SftpOpenOptions {
  readonly source: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** SftpAccess is what the composition root hands to plugins that write over SFTP. */
export interface SftpAccess {
  open(login: SftpLogin, opts: SftpOpenOptions): Promise<SftpSession>;
  /** redactor answers a function that replaces each of `secrets` (and each line of a multi-line one) with `***`. */
  redactor(secrets: readonly (string | undefined)[]): (text: string) => string;
}

export const sftpAccess: SftpAccess = {
  open: openSession,
  redactor(secrets) {
    const r = new Redactor();
    for (const s of secrets) r.add(s);
    return (text) => r.redact(text);
  },
};

async function openSession(login: SftpLogin, opts: SftpOpenOptions): Promise<SftpSession> {
  const redactor = new Redactor();
  for (const s of [login.privateKey, login.passphrase, login.password]) redactor.add(s);
  const endpoint: SshEndpoint = { host: login.host, port: login.port, user: login.user, hostKey: login.hostKey };
  let client: Client;
  try {
    client = await connectSsh(endpoint, { privateKey: login.privateKey, passphrase: login.passphrase, password: login.password },
      opts.timeoutMs, opts.signal, reworded(hostKeyCheck(endpoint), login, opts.source));
  } catch (err) {
    throw classify(err, login, opts.source, redactor);
  }
  // SFTP is one small request after another (stat, chmod, utimes): without this, Nagle's algorithm and
  // delayed ACKs hold each of them for some 40 ms.
  client.setNoDelay(true);
  try {
    return { sftp: await openSftp(client), close: () => client.end() };
  } catch (err) {
    client.end();
    throw new Unrecoverable(redactor.redact(`${login.user}@${login.host}:${login.port} accepted the ssh login but refused an SFTP session (${(err as Error).message}); its sshd must offer the sftp subsystem.`));
  }
}

/** reworded keeps the check and rewords its refusals for `source` instead of a hook spec. */
function reworded(inner: HostKeyCheck, login: SftpLogin, source: string): HostKeyCheck {
  const name = login.port === 22 ? login.host : `[${login.host}]:${login.port}`;
  const check = 'Check the key on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and give it as host_key.';
  return {
    algorithms: inner.algorithms,
    verify: (key) => {
      const refusal = inner.verify(key);
      if (!refusal) return undefined;
      const presented = `${keyType(key)} ${fingerprint(key)}`;
      let message: string;
      if (refusal.reason === 'hook_host_key_unknown') {
        message = `Host key check failed for ${name}: the host_key of ${source} has no known_hosts entry for ${name}; the host presented ${presented}. Nothing was sent to it. ${check}`;
      } else if (refusal.message.includes('@revoked')) {
        message = `Host key check failed for ${name}: its host key ${presented} is marked @revoked in the host_key of ${source}. Nothing was sent to it.`;
      } else {
        message = `Host key check failed for ${name}: it presented ${presented}, which is not the host_key of ${source}. Either the host's keys changed or the connection is being intercepted; nothing was sent to it. ${check}`;
      }
      return new HookError(refusal.reason, message);
    },
  };
}

function classify(err: unknown, login: SftpLogin, source: string, redactor: Redactor): Error {
  if (!(err instanceof HookError)) return err as Error;
  const where = `${login.user}@${login.host}:${login.port}`;
  switch (err.reason) {
    case 'hook_host_key_mismatch':
    case 'hook_host_key_unknown':
      return new Unrecoverable(redactor.redact(err.message));
    case 'hook_auth_failed': {
      const tried = [login.privateKey && 'private key', login.password && 'password'].filter(Boolean).join(' and ');
      return new Unrecoverable(`${where} refused the ssh login with the ${tried} of ${source}; check the user name, the credentials, and the host's authorized_keys or password settings.`);
    }
    case 'hook_connect_failed':
      return new RetryLater(redactor.redact(err.message.replace('on the guest', 'on the host')));
    default:
      return new Unrecoverable(redactor.redact(err.message));
  }
}
