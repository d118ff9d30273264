/**
 * Local hooks run a command on the Hoard host: argv without a shell unless the spec asks for one, a
 * minimal environment unless it asks for Hoard's, in its own process group so that a timeout or a
 * cancellation stops the command and everything it started (SIGTERM, then SIGKILL after a grace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { HookError } from './errors.js';
import { TailBuffer, tailForMessage, type HookRunResult } from './output.js';
import { resolveEnv, type Redactor } from './secrets.js';
import { onAbort } from './deadline.js';
import type { LocalHook } from './schema.js';

const KILL_GRACE_MS = 2_000;
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ'];

export interface RunEnv {
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  readonly maxOutputBytes: number;
  readonly label: string;
  /** stopped builds the timeout or cancellation error once `signal` has fired. */
  stopped(result?: HookRunResult): HookError;
}

/** runLocal resolves env secrets, runs the command and settles when it has exited and its pipes closed. */
export async function runLocal(hook: LocalHook, run: RunEnv): Promise<HookRunResult> {
  const env = { ...baseEnv(hook.inheritEnv ?? false), ...(await resolveEnv(hook.env, run.redactor)) };
  const [file, ...args] = hook.shell ? ['/bin/sh', '-c', hook.command[0]!] : hook.command;
  const started = Date.now();
  const out = new TailBuffer(run.maxOutputBytes);
  const err = new TailBuffer(run.maxOutputBytes);
  const child = spawn(file!, args, { cwd: hook.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const unsubscribe = onAbort(run.signal, () => stopGroup(child));
  try {
    const exitCode = await exited(child, hook, run);
    const result: HookRunResult = {
      exitCode, stdout: run.redactor.redact(out.text()), stderr: run.redactor.redact(err.text()),
      durationMs: Date.now() - started, truncated: out.dropped + err.dropped > 0,
    };
    if (run.signal.aborted) throw run.stopped(result);
    if (exitCode !== 0) {
      throw new HookError('hook_failed', `${run.label} exited with code ${exitCode}${tailForMessage(result.stderr, result.stdout)}`, { result });
    }
    return result;
  } finally {
    unsubscribe();
  }
}

function exited(child: ChildProcess, hook: LocalHook, run: RunEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(spawnError(e, hook, run)));
    child.once('close', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
}

function spawnError(e: NodeJS.ErrnoException, hook: LocalHook, run: RunEnv): HookError {
  const what = hook.shell ? '/bin/sh' : hook.command[0];
  const hint = e.code === 'ENOENT'
    ? `${what} (or the working directory ${hook.cwd ?? '.'}) does not exist on the Hoard host; give an absolute path or check PATH`
    : `${what} could not be started (${e.code ?? e.message})`;
  return new HookError('hook_failed', run.redactor.redact(`${run.label}: ${hint}.`));
}

function stopGroup(child: ChildProcess): void {
  const kill = (sig: NodeJS.Signals) => {
    // The negative pid reaches the whole group, so a shell's children stop with it.
    try { if (child.pid) process.kill(-child.pid, sig); } catch { /* already gone */ }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
  child.once('close', () => clearTimeout(t));
}

function baseEnv(inherit: boolean): Record<string, string> {
  if (inherit) return { ...process.env } as Record<string, string>;
  const env: Record<string, string> = {};
  for (const k of BASE_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? constants.signals[signal] ?? 0 : 0;
}
