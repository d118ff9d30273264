/**
 * Agentless ssh hooks: log in to the guest (host key checked first), create a private directory
 * (mode 0700, a fresh random name, mkdir fails rather than follows anything already there), upload the
 * script (0700) and its env file (0600) by SFTP, run it, and remove the directory whatever happened.
 *
 * The remote shell writes its pid to the directory before exec'ing the script. sshd starts every session
 * in its own session and process group, so on a timeout or cancellation Hoard kills that whole group
 * from a second channel; closing the channel alone would leave a command without a tty running.
 */
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { randomBytes } from 'node:crypto';
import { HookError } from './errors.js';
import { TailBuffer, tailForMessage, type HookRunResult } from './output.js';
import { resolveEnv, resolveSecret, type Redactor } from './secrets.js';
import { onAbort } from './deadline.js';
import { connectSsh, exec, execQuiet, openSftp, sftpCall, shellQuote, type SshAuth } from './ssh-session.js';
import type { RunEnv } from './local.js';
import type { SshHook } from './schema.js';

const CLEANUP_MS = 10_000;

/** runSsh runs the hook's script on the guest; see the module comment for what it guarantees. */
export async function runSsh(hook: SshHook, run: RunEnv, timeoutSeconds: number): Promise<HookRunResult> {
  const auth = await resolveAuth(hook, run.redactor);
  const env = await resolveEnv(hook.env, run.redactor);
  const started = Date.now();
  let client: Client | undefined;
  let running = false;
  // Before the script runs, stopping means dropping the connection; once it runs, runScript kills it.
  const unsubscribe = onAbort(run.signal, () => { if (!running) client?.end(); });
  try {
    client = await connectSsh(hook, auth, timeoutSeconds * 1000, run.signal);
    if (run.signal.aborted) throw run.stopped();
    const sftp = await openSftp(client);
    const dir = `${(hook.tempDir ?? '/tmp').replace(/\/+$/, '')}/hoard-hook-${randomBytes(12).toString('hex')}`;
    await sftpCall((cb) => sftp.mkdir(dir, { mode: 0o700 }, cb));
    let result: HookRunResult | undefined;
    let failure: unknown;
    try {
      await upload(sftp, dir, hook.script, env);
      running = true;
      result = await runScript(client, dir, hook, run, started);
    } catch (err) {
      failure = err;
    }
    running = false;
    const warning = await removeDir(sftp, dir);
    if (failure !== undefined) throw withWarning(failure, warning);
    return checkExit(warning ? { ...result!, warnings: [warning] } : result!, run);
  } catch (err) {
    if (run.signal.aborted && !(err instanceof HookError && (err.reason === 'hook_timeout' || err.reason === 'hook_cancelled'))) throw run.stopped();
    if (err instanceof HookError) throw redactError(err, run.redactor);
    throw new HookError('hook_failed', run.redactor.redact(`${run.label}: the script could not be uploaded or started on the guest (${(err as Error).message}); check tempDir exists and is writable by ${hook.user}.`));
  } finally {
    unsubscribe();
    client?.end();
  }
}

async function resolveAuth(hook: SshHook, redactor: Redactor): Promise<SshAuth> {
  return {
    privateKey: await resolveSecret(hook.auth.privateKey, 'ssh private key', redactor),
    passphrase: await resolveSecret(hook.auth.passphrase, 'ssh key passphrase', redactor),
    password: await resolveSecret(hook.auth.password, 'ssh password', redactor),
  };
}

async function upload(sftp: SFTPWrapper, dir: string, script: string, env: Record<string, string>): Promise<void> {
  await writePrivate(sftp, `${dir}/script`, script, 0o700);
  const lines = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  // Env goes in a file, not on the command line, where any user of the guest could read it with ps.
  await writePrivate(sftp, `${dir}/env`, `${lines.join('\n')}\n`, 0o600);
}

async function writePrivate(sftp: SFTPWrapper, path: string, data: string, mode: number): Promise<void> {
  await sftpCall((cb) => sftp.writeFile(path, data, { mode, flag: 'wx' }, cb));
  // The server may have applied its umask to the open; set the mode we mean.
  await sftpCall((cb) => sftp.chmod(path, mode, cb));
}

function command(dir: string, hook: SshHook): string {
  const q = (name: string) => shellQuote(`${dir}/${name}`);
  const target = [...(hook.interpreter ? [shellQuote(hook.interpreter)] : []), q('script'), ...(hook.args ?? []).map(shellQuote)];
  return `echo $$ > ${q('pid')} && set -a && . ${q('env')} && set +a && exec ${target.join(' ')}`;
}

async function runScript(client: Client, dir: string, hook: SshHook, run: RunEnv, started: number): Promise<HookRunResult> {
  const out = new TailBuffer(run.maxOutputBytes);
  const err = new TailBuffer(run.maxOutputBytes);
  const channel = await exec(client, command(dir, hook));
  channel.on('data', (b: Buffer) => out.push(b));
  channel.stderr.on('data', (b: Buffer) => err.push(b));
  const unsubscribe = onAbort(run.signal, () => { void killRemote(client, channel, dir); });
  try {
    const exitCode = await channelExit(channel);
    return {
      exitCode, stdout: run.redactor.redact(out.text()), stderr: run.redactor.redact(err.text()),
      durationMs: Date.now() - started, truncated: out.dropped + err.dropped > 0,
    };
  } finally {
    unsubscribe();
  }
}

function channelExit(channel: ClientChannel): Promise<number> {
  return new Promise((resolve) => {
    let code: number | undefined;
    channel.on('exit', (c: number | null, signal?: string) => { code = c ?? (signal ? 128 + signalNumber(signal) : 255); });
    channel.on('close', () => resolve(code ?? 255));
  });
}

async function killRemote(client: Client, channel: ClientChannel, dir: string): Promise<void> {
  const pid = `"$(cat ${shellQuote(`${dir}/pid`)})"`;
  await execQuiet(client, `kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid} 2>/dev/null`, CLEANUP_MS);
  channel.close();
}

/** removeDir deletes the hook's directory and returns a warning instead of throwing when it cannot. */
async function removeDir(sftp: SFTPWrapper, dir: string): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const list = await new Promise<{ filename: string }[]>((resolve, reject) => sftp.readdir(dir, (e, l) => (e ? reject(e) : resolve(l))));
    for (const f of list) await sftpCall((cb) => sftp.unlink(`${dir}/${f.filename}`, cb));
    await sftpCall((cb) => sftp.rmdir(dir, cb));
  })();
  try {
    await Promise.race([work, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), CLEANUP_MS); })]);
    return undefined;
  } catch (err) {
    return `The hook's directory ${dir} could not be removed from the guest (${(err as Error).message}); remove it by hand.`;
  } finally {
    clearTimeout(timer);
  }
}

function withWarning(err: unknown, warning: string | undefined): unknown {
  if (!warning) return err;
  if (err instanceof HookError) return new HookError(err.reason, `${err.message} ${warning}`, { result: err.result });
  return new Error(`${(err as Error).message}. ${warning}`);
}

function checkExit(result: HookRunResult, run: RunEnv): HookRunResult {
  if (run.signal.aborted) throw run.stopped(result);
  if (result.exitCode !== 0) {
    throw new HookError('hook_failed', `${run.label} exited with code ${result.exitCode} on the guest${tailForMessage(result.stderr, result.stdout)}`, { result });
  }
  return result;
}

function redactError(err: HookError, redactor: Redactor): HookError {
  const message = redactor.redact(err.message);
  return message === err.message ? err : new HookError(err.reason, message, { result: err.result });
}

function signalNumber(name: string): number {
  return ({ HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15 } as Record<string, number>)[name] ?? 0;
}
