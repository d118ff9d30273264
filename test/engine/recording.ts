/**
 * A recording protection plugin for engine tests: every hook call is recorded with a start and end
 * sequence number (a global counter, so "ended before started" is exact), and behaviour per hook can
 * be scripted (delay, fail, RetryLater, a barrier, a handle to poll).
 */
import { Type } from '@sinclair/typebox';
import { HOOKS, NO_CAPABILITIES, SDK_VERSION, type HookContext, type HookName, type HookResult, type OperationKind, type ProtectionPlugin, type ResourceOperation } from '../../src/plugins/sdk/index.js';

/** Call is one recorded hook call. */
export interface Call { readonly kind: OperationKind; readonly key: string; readonly hook: HookName | 'compensate' | 'poll'; readonly start: number; end: number; readonly parameters: Record<string, unknown> }

/** Script decides what a hook does; return undefined to just finish. */
export type Script = (ctx: HookContext, hook: HookName) => Promise<HookResult> | HookResult;

export interface Recorder {
  plugin: ProtectionPlugin;
  readonly calls: Call[];
  script: Script;
  poll?: ResourceOperation['poll'];
  compensations: string[];
}

/** recordingPlugin builds a recorder; `name` must be a valid plugin name. */
export function recordingPlugin(name = 'hoard.io/recorder'): Recorder {
  let seq = 0;
  const rec: Recorder = { plugin: undefined as unknown as ProtectionPlugin, calls: [], script: () => undefined, compensations: [] };
  const hook = (kind: OperationKind, h: HookName) => async (ctx: HookContext): Promise<HookResult> => {
    const call: Call = { kind, key: `${ctx.resource.type}#${ctx.resource.id}`, hook: h, start: ++seq, end: 0, parameters: ctx.parameters };
    rec.calls.push(call);
    try {
      return await rec.script(ctx, h);
    } finally {
      call.end = ++seq;
    }
  };
  const operation = (kind: OperationKind): ResourceOperation => ({
    ...Object.fromEntries(HOOKS.map((h) => [h, hook(kind, h)])),
    poll: (ctx, h, handle) => rec.poll!(ctx, h, handle),
    compensate: async (ctx) => { rec.compensations.push(`${kind}:${ctx.resource.type}#${ctx.resource.id}`); },
  });
  rec.plugin = {
    name, sdkVersion: SDK_VERSION, resourceTypes: ['*'], capabilities: NO_CAPABILITIES,
    schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
    operation: (kind: OperationKind) => operation(kind),
  };
  return rec;
}
