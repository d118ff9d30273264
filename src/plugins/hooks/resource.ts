/**
 * withExecHooks attaches a plan's exec hooks to one resource's protection (ARCHITECTURE decision 2):
 * pre hooks run at the start of the resource's prepareBegin, post hooks at the end of its complete, and
 * when the operation fails after prepareBegin the engine's compensate runs the post hooks with outcome
 * `failure`, exactly once (the engine journals compensation). SQL sessions a pre hook opened are kept in
 * this process until the resource's post hooks run; after a restart the post hooks run without them
 * (runPostHooks), since whatever a session held ended with the old process's connection.
 */
import type { HookContext, HookResult, ResourceOperation } from '../sdk/index.js';
import { beginHooks, runPostHooks, type HookScope, type Outcome, type PhaseResult } from './scope.js';
import type { HookSpec } from './schema.js';

// Scopes opened by pre hooks in this process, by operation and resource, until their post hooks run;
// and the resources whose post hooks already ran here, so a compensate after a failed post does not repeat them.
const open = new Map<string, HookScope>();
const ended = new Set<string>();

const scopeKey = (ctx: HookContext) => `${ctx.operation.id}|${ctx.resource.type}#${ctx.resource.id}`;

async function end(ctx: HookContext, spec: HookSpec, outcome: Outcome): Promise<PhaseResult> {
  const key = scopeKey(ctx);
  if (ended.has(key)) return { reports: [] };
  ended.add(key);
  const scope = open.get(key);
  open.delete(key);
  return scope ? scope.end(outcome) : runPostHooks(spec, outcome);
}

export function withExecHooks(op: ResourceOperation, spec: HookSpec): ResourceOperation {
  return {
    ...op,
    async prepareBegin(ctx): Promise<HookResult> {
      // A failing pre hook (onError fail) has already run the post hooks and rejects here, failing the resource.
      ended.delete(scopeKey(ctx));
      const scope = await beginHooks(spec, { signal: ctx.signal });
      open.set(scopeKey(ctx), scope);
      try {
        return await op.prepareBegin?.(ctx);
      } catch (err) {
        // prepareBegin did not finish, so the engine owes no compensate: undo the pre hooks here.
        await end(ctx, spec, 'failure');
        throw err;
      }
    },
    async complete(ctx): Promise<HookResult> {
      const result = await op.complete?.(ctx);
      const post = await end(ctx, spec, 'success');
      if (post.failure) throw post.failure;
      return result;
    },
    async compensate(ctx): Promise<void> {
      try {
        await op.compensate?.(ctx);
      } finally {
        await end(ctx, spec, 'failure');
      }
    },
    // Pre hooks are not idempotent in general (a lock, a dump): a prepareBegin cut short by a crash is not re-run.
    resumable: (op.resumable ?? []).filter((h) => h !== 'prepareBegin' && h !== 'complete'),
  };
}
