/**
 * runHook runs one hook of any kind under its own timeout and the caller's signal, and turns whatever
 * goes wrong into a redacted HookError. It never leaves a process, channel or connection behind, except
 * the SQL connection of a session it opened on purpose.
 */
import { HookError, isHookError } from './errors.js';
import { DEFAULT_MAX_OUTPUT_BYTES, type HookRunResult } from './output.js';
import { Redactor } from './secrets.js';
import { deadline } from './deadline.js';
import { runLocal, type RunEnv } from './local.js';
import { runSql, type SqlSessions } from './sql.js';
import { runSsh } from './ssh.js';
import type { Hook } from './schema.js';

export const DEFAULT_TIMEOUT_SECONDS = 300;

export interface RunHookOptions {
  readonly signal?: AbortSignal;
  readonly sessions: SqlSessions;
  /** label names the hook in messages; hookLabel(hook) when not given. */
  readonly label?: string;
}

/** runHook resolves with the hook's result, or rejects with a HookError (never another error type). */
export async function runHook(hook: Hook, opts: RunHookOptions): Promise<HookRunResult> {
  const timeoutSeconds = hook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const label = opts.label ?? hookLabel(hook);
  const stop = deadline(timeoutSeconds, opts.signal);
  const redactor = new Redactor();
  const run: RunEnv = {
    signal: stop.signal, redactor, label,
    maxOutputBytes: hook.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    stopped: (result) => stop.error(label, result),
  };
  try {
    if (stop.signal.aborted) throw run.stopped();
    switch (hook.kind) {
      case 'local': return await runLocal(hook, run);
      case 'sql': return await runSql(hook, run, opts.sessions);
      case 'ssh': return await runSsh(hook, run, timeoutSeconds);
    }
  } catch (err) {
    if (isHookError(err)) throw err;
    throw new HookError('hook_failed', redactor.redact(`${label} failed: ${(err as Error)?.message ?? String(err)}`));
  } finally {
    stop.dispose();
  }
}

/** hookLabel names a hook for people: its `name`, else its kind and target, never a secret. */
export function hookLabel(hook: Hook, where?: string): string {
  const prefix = where ? `${where} ` : '';
  if (hook.name) return `${prefix}hook '${hook.name}'`;
  switch (hook.kind) {
    case 'local': return `${prefix}local hook (${hook.shell ? '/bin/sh -c' : hook.command[0]})`;
    case 'sql': return `${prefix}sql hook (${hook.session && !hook.connection ? `session ${hook.session}` : `${hook.driver} ${hook.connection?.user}@${hook.connection?.host}`})`;
    case 'ssh': return `${prefix}ssh hook (${hook.user}@${hook.host}:${hook.port ?? 22})`;
  }
}
