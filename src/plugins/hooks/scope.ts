/**
 * Pre/post pairing. beginHooks runs the pre hooks and hands back a HookScope whose end() runs the post
 * hooks; once the first pre hook has started, the post hooks run exactly once, whether the pre hooks,
 * the main work or nothing failed, and whether or not the caller was cancelled (post hooks undo what pre
 * hooks did, so they get their own timeouts but not the operation's cancellation). SQL sessions opened by
 * pre hooks close after the last post hook that uses them, and all of them when end() finishes.
 */
import { isHookError, type HookError, type HookReason } from './errors.js';
import type { HookRunResult } from './output.js';
import { hookLabel, runHook } from './run-hook.js';
import { SqlSessions } from './sql.js';
import type { Hook, HookSpec } from './schema.js';

export type HookPhase = 'pre' | 'post';
export type Outcome = 'success' | 'failure';

/** HookReport is one hook's record, for logs and the resource's status; already redacted. */
export interface HookReport {
  readonly phase: HookPhase;
  readonly index: number;
  readonly label: string;
  readonly kind: Hook['kind'];
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly result?: HookRunResult;
  readonly error?: { readonly reason: HookReason; readonly message: string };
  /** skipped says why a post hook did not run (its `when`, or a session that was never opened). */
  readonly skipped?: string;
}

export interface HookOptions {
  /** signal cancels pre hooks (and is what withHooks hands the main work). */
  readonly signal?: AbortSignal;
  /** postSignal, if given, can stop post hooks too, e.g. on process shutdown; each has its timeout anyway. */
  readonly postSignal?: AbortSignal;
  /** onReport sees each hook's report as soon as it finishes. */
  readonly onReport?: (report: HookReport) => void;
}

/** PhaseResult lists every hook's report and the first failure of a hook with onError 'fail'. */
export interface PhaseResult {
  readonly reports: readonly HookReport[];
  readonly failure?: HookError;
}

export interface HookScope {
  readonly pre: PhaseResult;
  /**
   * end runs the post hooks that apply to `outcome` and closes every session. It runs them once: later
   * calls return the first call's promise, whatever outcome they pass. It does not reject.
   */
  end(outcome: Outcome): Promise<PhaseResult>;
}

/**
 * beginHooks runs the pre hooks in order. When one with onError 'fail' fails, it runs the post hooks
 * (outcome 'failure') itself and rejects with that hook's HookError; otherwise it resolves with the
 * scope, whose end() the caller must call exactly as a `finally` would.
 */
export async function beginHooks(spec: HookSpec, opts: HookOptions = {}): Promise<HookScope> {
  const sessions = new SqlSessions();
  const pre = await runPre(spec.pre ?? [], sessions, opts);
  const scope = makeScope(spec, sessions, pre, opts);
  if (pre.failure) {
    await scope.end('failure');
    throw pre.failure;
  }
  return scope;
}

/**
 * runPostHooks runs the post hooks without their pre hooks' sessions: what the engine calls after a
 * restart, when the process that ran the pre hooks is gone. Session-bound hooks are skipped, because
 * whatever their session held ended with that process's connection.
 */
export function runPostHooks(spec: HookSpec, outcome: Outcome, opts: HookOptions = {}): Promise<PhaseResult> {
  return makeScope(spec, new SqlSessions(), { reports: [] }, opts).end(outcome);
}

async function runPre(hooks: readonly Hook[], sessions: SqlSessions, opts: HookOptions): Promise<PhaseResult> {
  const reports: HookReport[] = [];
  for (const [index, hook] of hooks.entries()) {
    const { failure, ...report } = await runOne(hook, 'pre', index, sessions, opts.signal);
    reports.push(report);
    opts.onReport?.(report);
    if (failure && (hook.onError ?? 'fail') === 'fail') return { reports, failure };
  }
  return { reports };
}

function makeScope(spec: HookSpec, sessions: SqlSessions, pre: PhaseResult, opts: HookOptions): HookScope {
  let ended: Promise<PhaseResult> | undefined;
  return {
    pre: { reports: pre.reports, ...(pre.failure ? { failure: pre.failure } : {}) },
    end: (outcome) => (ended ??= runPost(spec.post ?? [], outcome, sessions, opts).finally(() => sessions.closeAll())),
  };
}

async function runPost(hooks: readonly Hook[], outcome: Outcome, sessions: SqlSessions, opts: HookOptions): Promise<PhaseResult> {
  const reports: HookReport[] = [];
  let failure: HookError | undefined;
  const lastUse = lastSessionUse(hooks);
  for (const [index, hook] of hooks.entries()) {
    const { failure: f, ...report } = await postOne(hook, index, outcome, sessions, opts.postSignal);
    reports.push(report);
    opts.onReport?.(report);
    if (f && (hook.onError ?? 'fail') === 'fail') failure ??= f;
    if (hook.kind === 'sql' && hook.session && lastUse.get(hook.session) === index) await sessions.close(hook.session);
  }
  return failure ? { reports, failure } : { reports };
}

async function postOne(hook: Hook, index: number, outcome: Outcome, sessions: SqlSessions, signal?: AbortSignal): Promise<InternalReport> {
  const when = hook.when ?? 'always';
  if ((when === 'onSuccess' && outcome === 'failure') || (when === 'onFailure' && outcome === 'success')) {
    return skipped(hook, index, `it runs ${when === 'onSuccess' ? 'only after success' : 'only after a failure'}`);
  }
  if (hook.kind === 'sql' && hook.session && !sessions.get(hook.session)) {
    return skipped(hook, index, `its session '${hook.session}' was never opened (its pre hook did not run or failed), so there is nothing to undo`);
  }
  return runOne(hook, 'post', index, sessions, signal);
}

interface InternalReport extends HookReport { readonly failure?: HookError }

async function runOne(hook: Hook, phase: HookPhase, index: number, sessions: SqlSessions, signal?: AbortSignal): Promise<InternalReport> {
  const label = hookLabel(hook, phase);
  const base = { phase, index, label, kind: hook.kind };
  try {
    const result = await runHook(hook, { sessions, label, ...(signal ? { signal } : {}) });
    return { ...base, status: 'ok', result };
  } catch (err) {
    const e = err as HookError;
    if (!isHookError(err)) throw err;
    return {
      ...base, status: 'failed', error: { reason: e.reason, message: e.message },
      ...(e.result ? { result: e.result } : {}), failure: e,
    };
  }
}

function skipped(hook: Hook, index: number, why: string): InternalReport {
  const label = hookLabel(hook, 'post');
  return { phase: 'post', index, label, kind: hook.kind, status: 'skipped', skipped: `${label} was skipped: ${why}.` };
}

function lastSessionUse(hooks: readonly Hook[]): Map<string, number> {
  const last = new Map<string, number>();
  hooks.forEach((h, i) => { if (h.kind === 'sql' && h.session) last.set(h.session, i); });
  return last;
}
