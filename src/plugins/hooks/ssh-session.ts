/**
 * The ssh connection of one hook: connect with host key checking, and promise-shaped SFTP and exec.
 * Kept apart from ssh.ts so that the hook's flow (upload, run, remove) reads in one place.
 */
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { HookError } from './errors.js';
import { onAbort } from './deadline.js';
import { knownHostsCheck, pinnedCheck, type HostKeyCheck } from './host-keys.js';
import type { SshHook } from './schema.js';

export interface SshAuth {
  readonly privateKey: string | undefined;
  readonly passphrase: string | undefined;
  readonly password: string | undefined;
}

/**
 * SshEndpoint is where to log in and which host key to trust: the part of an ssh hook a connection
 * needs, shared with sftp-access.ts (the directory plugin's sftp restore target).
 */
export type SshEndpoint = Pick<SshHook, 'host' | 'port' | 'user' | 'hostKey'>;

const MAX_HANDSHAKE_MS = 30_000;

export function hostKeyCheck(hook: SshEndpoint): HostKeyCheck {
  const port = hook.port ?? 22;
  return 'fingerprint' in hook.hostKey
    ? pinnedCheck(hook.hostKey.fingerprint, `${hook.host}:${port}`)
    : knownHostsCheck(hook.hostKey.knownHosts, hook.host, port);
}

/**
 * connectSsh resolves once logged in. It rejects with hook_host_key_* before any credential is sent
 * when the guest's key is not trusted, hook_auth_failed when the login is refused, or
 * hook_connect_failed; the rejection text is ssh2's or ours, never the spec's secrets. `check` (by
 * default the endpoint's hostKey) lets another caller word its refusals for its own input.
 */
export function connectSsh(hook: SshEndpoint, auth: SshAuth, timeoutMs: number, signal: AbortSignal, check: HostKeyCheck = hostKeyCheck(hook)): Promise<Client> {
  const where = `${hook.user}@${hook.host}:${hook.port ?? 22}`;
  let refusal: HookError | undefined;
  const config: ConnectConfig = {
    host: hook.host, port: hook.port ?? 22, username: hook.user,
    privateKey: auth.privateKey, passphrase: auth.passphrase, password: auth.password,
    tryKeyboard: false, readyTimeout: Math.min(timeoutMs, MAX_HANDSHAKE_MS), keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => { refusal = check.verify(key); return refusal === undefined; },
    ...(check.algorithms ? { algorithms: { serverHostKey: check.algorithms as never } } : {}),
  };
  return new Promise((resolve, reject) => {
    const client = new Client();
    const unsubscribe = onAbort(signal, () => { client.end(); reject(new Error('stopped while connecting')); });
    client.once('ready', () => { unsubscribe(); resolve(client); });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      unsubscribe();
      client.end();
      reject(refusal ?? connectError(err, where, auth));
    });
    try {
      client.connect(config);
    } catch (err) {
      unsubscribe();
      reject(new HookError('hook_spec_invalid', `The private key for ${where} cannot be used: ${(err as Error).message}. Give an OpenSSH or PEM private key, and its passphrase if it has one.`));
    }
  });
}

function connectError(err: Error & { level?: string; code?: string }, where: string, auth: SshAuth): HookError {
  if (err.level === 'client-authentication') {
    const tried = [auth.privateKey && 'private key', auth.password && 'password'].filter(Boolean).join(' and ');
    return new HookError('hook_auth_failed', `The guest refused the ssh login ${where} with the ${tried} of the hook spec; check the user, the credentials, and the guest's authorized_keys or password settings.`);
  }
  return new HookError('hook_connect_failed', `Cannot open an ssh connection to ${where} (${err.code ?? err.message}); check host and port and that sshd runs on the guest and is reachable from the Hoard host.`);
}

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** sftpCall turns one callback-style SFTP call into a promise. */
export function sftpCall(fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

export function exec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** execQuiet runs a short helper command, ignores its output and gives up after `ms`. */
export async function execQuiet(client: Client, command: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const done = exec(client, command).then((ch) => new Promise<void>((resolve) => {
    ch.on('data', () => {}).on('close', () => resolve());
    ch.stderr.on('data', () => {});
  }));
  await Promise.race([done.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

/** shellQuote makes one POSIX sh word of `s`. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
