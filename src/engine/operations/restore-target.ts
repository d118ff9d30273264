/**
 * Restore targets: Karbor's `restore_target` (with its `restore_auth`) asks a restore to write somewhere
 * other than where the data came from. Only plugins that declare the target's URL scheme
 * (ProtectionPluginDescriptor.restoreTargets) may take part, because a plugin that ignored the target
 * would restore in place, over the data the caller meant to keep:
 * - checkTarget refuses, when the restore is asked, a target some resource's plugin does not declare
 *   or finds unusable (invalid_field, 400), before anything is written;
 * - guardTarget fails a resource whose plugin, in the worker that runs it, does not declare the scheme
 *   (a worker of another build than the API's), before any of its hooks runs.
 * Messages name a target by scheme, host and port only: its user info is never repeated.
 */
import { HoardError } from '../../model/errors.js';
import { HOOKS, Unrecoverable, type HookContext, type HookName, type ProtectionPluginDescriptor, type ResourceOperation, type RestoreAuth } from '../../plugins/sdk/index.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { ResourceGraph } from '../graph/index.js';

type Targets = Pick<ProtectionPluginDescriptor, 'name' | 'restoreTargets'>;

/** acceptsTarget tells whether a plugin declares restores to targets of `scheme`. */
export function acceptsTarget(d: Targets, scheme: string): boolean {
  const declared = d.restoreTargets ?? [];
  return declared.includes('*') || declared.includes(scheme);
}

/** schemeOf is a target URL's scheme, lower case, without the colon. */
export const schemeOf = (url: URL): string => url.protocol.replace(/:$/, '').toLowerCase();

/** shownTarget names a target in messages: scheme, host and port, never user or password. */
export function shownTarget(url: URL): string {
  return url.host ? `${schemeOf(url)}://${url.host}` : `a ${schemeOf(url)}: target`;
}

function declared(d: Targets): string {
  const s = d.restoreTargets ?? [];
  return s.length === 0 ? 'only in place' : `only to ${s.join(', ')} targets`;
}

/**
 * checkTarget answers what a restore records: its target (null: in place; a blank target is no target)
 * and the credentials to keep while it runs (null: none; credentials without a target authenticate
 * nothing and are not kept). It refuses, naming the plugin and type, a target that is not a URL, one
 * that carries a password (the target is stored and shown; credentials belong in restore_auth), one whose
 * scheme a resource's plugin does not declare, and one a plugin's checkRestoreTarget rejects.
 */
export function checkTarget(registry: PluginRegistry, graph: ResourceGraph, plugins: ReadonlyMap<string, string>, target: string | null, auth: RestoreAuth | null): { target: string | null; auth: RestoreAuth | null } {
  if (target === null || target.trim() === '') return { target: null, auth: null };
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    // The text is not repeated: a mistyped URL may still hold a password.
    throw new HoardError('invalid_field', 'restore_target is not a URL; give one such as sftp://user@host:22, with the credentials in restore_auth.');
  }
  if (url.password) throw new HoardError('invalid_field', `restore_target ${shownTarget(url)} carries a password; the target is stored and shown, so send credentials in restore_auth instead.`);
  const scheme = schemeOf(url);
  const checked = new Set<string>();
  for (const [key, name] of plugins) {
    const d = registry.plugin(name);
    if (!d || checked.has(name)) continue;
    checked.add(name);
    const type = graph.nodes.get(key)!.resource.type;
    if (!acceptsTarget(d, scheme)) {
      throw new HoardError('invalid_field', `Restore target ${shownTarget(url)} cannot be honoured: plugin ${d.name} restores ${type} ${declared(d)}. Nothing was restored; leave restore_target out to restore in place.`);
    }
    const reason = registry.behaviourOf(name)?.checkRestoreTarget?.(url, auth);
    if (reason !== undefined) throw new HoardError('invalid_field', `Restore target ${shownTarget(url)} cannot be used for ${type}: ${reason}`);
  }
  return { target, auth };
}

/**
 * guardTarget wraps a plugin's restore behaviour so that each hook first checks the restore's target
 * against what the plugin declares, and fails the resource (Unrecoverable) when it does not match. A
 * plugin that takes any target (`*`) is returned unchanged; poll, compensate and resumable pass through.
 */
export function guardTarget(plugin: Targets, op: ResourceOperation): ResourceOperation {
  if (plugin.restoreTargets?.includes('*')) return op;
  const out: { -readonly [K in keyof ResourceOperation]: ResourceOperation[K] } = {};
  for (const hook of HOOKS) {
    const inner = op[hook];
    if (inner) out[hook] = async (ctx) => { await refuseUnsupported(plugin, ctx, hook); return inner.call(op, ctx); };
  }
  if (op.poll) out.poll = op.poll.bind(op);
  if (op.compensate) out.compensate = op.compensate.bind(op);
  if (op.resumable) out.resumable = op.resumable;
  return out;
}

async function refuseUnsupported(plugin: Targets, ctx: HookContext, hook: HookName): Promise<void> {
  const t = await ctx.restoreTarget?.();
  if (!t) return;
  let url: URL | undefined;
  try {
    url = new URL(t.target);
  } catch {
    url = undefined;
  }
  if (url && acceptsTarget(plugin, schemeOf(url))) return;
  const where = url ? shownTarget(url) : 'a target that is not a URL';
  throw new Unrecoverable(`plugin ${plugin.name} in this worker restores ${declared(plugin)}, not to ${where}; ${hook} was not run, so nothing was restored in place instead.`);
}
