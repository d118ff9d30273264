/**
 * startSshd runs a private OpenSSH server on 127.0.0.1 and a free port for one test file: its own
 * config, a freshly generated ed25519 host key, an authorized_keys file holding a freshly generated
 * client key, and a guest temp dir the hook tests point `tempDir` at. It runs as whoever runs the tests
 * (root on our machines, hence StrictModes no and PermitRootLogin yes). stop() ends only that sshd.
 * HOARD_KEEP_TEST_DATA keeps the directory (config, keys, sshd log) for a failing run.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  /** guestTmp is an empty directory to use as the ssh hooks' tempDir. */
  readonly guestTmp: string;
  /** knownHosts is the host key's known_hosts line for `[127.0.0.1]:port`. */
  readonly knownHosts: string;
  /** fingerprint is the host key's `SHA256:` fingerprint. */
  readonly fingerprint: string;
  /** clientKey is an authorized OpenSSH private key without passphrase. */
  readonly clientKey: string;
  /** log is what sshd has written to stderr so far. */
  log(): string;
  /** keygen generates another key pair in the test dir and returns its private key and public line. */
  keygen(name: string, args: readonly string[]): Promise<{ privateKey: string; publicKey: string }>;
  authorize(publicKey: string): Promise<void>;
  stop(): Promise<void>;
}

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

export function sshdAvailable(): boolean {
  return SSHD !== undefined;
}

export async function startSshd(): Promise<Sshd> {
  if (!SSHD) throw new Error('sshd is not installed; run scripts/test-prereqs.sh (it installs openssh-server)');
  const dir = await mkdtemp(join(tmpdir(), 'hoard-sshd-'));
  const guestTmp = join(dir, 'guest-tmp');
  await mkdir(guestTmp);
  // sshd refuses to start without its privilege separation directory; a stock install creates it at boot.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const keygen = async (name: string, args: readonly string[]) => {
    execFileSync('ssh-keygen', ['-q', '-f', join(dir, name), '-C', `hoard-test-${name}`, ...args]);
    return { privateKey: await readFile(join(dir, name), 'utf8'), publicKey: (await readFile(join(dir, `${name}.pub`), 'utf8')).trim() };
  };
  const host = await keygen('host_ed25519', ['-t', 'ed25519', '-N', '']);
  const client = await keygen('client_ed25519', ['-t', 'ed25519', '-N', '']);
  const authorized = join(dir, 'authorized_keys');
  await writeFile(authorized, `${client.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(config, sshdConfig(dir, port, authorized));
  let log = '';
  const proc = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  await waitListening(proc, port, () => log);
  const blob = Buffer.from(host.publicKey.split(/\s+/)[1]!, 'base64');
  return {
    host: '127.0.0.1', port, user: userInfo().username, dir, guestTmp,
    knownHosts: `[127.0.0.1]:${port} ${host.publicKey.split(/\s+/).slice(0, 2).join(' ')}`,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    clientKey: client.privateKey,
    log: () => log,
    keygen,
    authorize: async (publicKey) => { await writeFile(authorized, `${publicKey}\n`, { flag: 'a' }); },
    stop: async () => {
      await stopProcess(proc);
      if (!process.env.HOARD_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
      else console.log(`sshd test dir kept at ${dir}`);
    },
  };
}

function sshdConfig(dir: string, port: number, authorized: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorized}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'MaxStartups 50',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitListening(proc: ChildProcess, port: number, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}:\n${log()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`sshd did not listen on ${port}:\n${log()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}
