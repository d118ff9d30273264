/**
 * parseHookSpec checks a hook spec against HookSpecSchema and then against the rules a schema cannot
 * say: a SQL hook either brings its own connection or joins a session opened earlier, a post hook's
 * session is opened by a pre hook, `when` belongs to post hooks, and an ssh hook has a way to log in.
 */
import { Value } from '@sinclair/typebox/value';
import { HookError } from './errors.js';
import { HookSpecSchema, type Hook, type HookSpec } from './schema.js';

/**
 * parseHookSpec returns the spec typed, or throws HookError hook_spec_invalid listing the problems.
 * A string is parsed as JSON first: the Karbor CLI sends every parameter value as a string.
 */
export function parseHookSpec(raw: unknown): HookSpec {
  const input = typeof raw === 'string' ? parseJson(raw) : raw;
  if (!Value.Check(HookSpecSchema, input)) {
    const problems = [...Value.Errors(HookSpecSchema, input)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new HookError('hook_spec_invalid', `The hook spec is not valid: ${problems.join('; ')}.`);
  }
  const problems = [...checkPhase(input.pre ?? [], 'pre', new Map()), ...checkPost(input)];
  if (problems.length > 0) throw new HookError('hook_spec_invalid', `The hook spec is not valid: ${problems.join('; ')}.`);
  return input;
}

function checkPost(spec: HookSpec): string[] {
  const opened = new Map<string, string>();
  for (const h of spec.pre ?? []) if (h.kind === 'sql' && h.session && h.driver) opened.set(h.session, h.driver);
  return checkPhase(spec.post ?? [], 'post', opened);
}

function checkPhase(hooks: readonly Hook[], phase: 'pre' | 'post', sessions: Map<string, string>): string[] {
  return hooks.flatMap((h, i) => checkHook(h, `${phase}[${i}]`, phase, sessions));
}

function checkHook(h: Hook, at: string, phase: 'pre' | 'post', sessions: Map<string, string>): string[] {
  const out: string[] = [];
  if (h.when && phase === 'pre') out.push(`${at}: 'when' applies to post hooks only`);
  if (h.kind === 'local' && h.shell && h.command.length !== 1) out.push(`${at}: with shell: true, command must be a single command line`);
  if (h.kind === 'ssh' && !h.auth.privateKey && !h.auth.password) out.push(`${at}: auth needs privateKey or password`);
  if (h.kind === 'sql') out.push(...checkSql(h, at, phase, sessions));
  return out;
}

function checkSql(h: Extract<Hook, { kind: 'sql' }>, at: string, phase: 'pre' | 'post', sessions: Map<string, string>): string[] {
  const joined = h.session ? sessions.get(h.session) : undefined;
  if (joined !== undefined) {
    return h.driver && h.driver !== joined ? [`${at}: session '${h.session}' is a ${joined} connection, not ${h.driver}`] : [];
  }
  if (phase === 'post' && h.session) return [`${at}: no pre hook opens session '${h.session}'`];
  if (!h.driver || !h.connection) return [`${at}: a SQL hook needs driver and connection unless it joins a session opened earlier`];
  if (h.session) sessions.set(h.session, h.driver);
  return [];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HookError('hook_spec_invalid', `The hook spec is a string but not JSON (${(err as Error).message}); give an object { "pre": [...], "post": [...] }.`);
  }
}
