/**
 * Cancel fixture: a protection worker in its own process, on a SQLite file or a PostgreSQL schema, with
 * a plugin whose hook at `blockAt` blocks until its signal aborts. Every hook and compensate call, the
 * block and the abort (with its reason) are appended synchronously to a log file, so the test process
 * (which shares only the database with this one) can wait for the block, cancel, and count calls.
 * The process exits once no operation is live. Run: node --import tsx test/engine/cancel-fixture.ts
 * <database url> [pg schema]; spec in CANCEL_SPEC (JSON).
 */
import { appendFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { createWorker } from '../../src/engine/index.js';
import { HOOKS, NO_CAPABILITIES, SDK_VERSION, type HookContext, type HookResult, type OperationKind, type ProtectionPlugin, type ResourceOperation } from '../../src/plugins/sdk/index.js';
import { openStore } from '../../src/store/index.js';
import { labRegistry, SHARED } from './lab.js';

/** CancelSpec: the call log, and the hook (`kind:key:hook`) that blocks until aborted. */
export interface CancelSpec {
  readonly log: string;
  readonly blockAt: string;
}

/** LogLine is one line of the call log. */
export interface LogLine { readonly at: string; readonly pid: number; readonly reason?: string; readonly name?: string }

/** blockingPlugin is the fixture plugin; the test process registers it too, to submit operations. */
export function blockingPlugin(spec: CancelSpec): ProtectionPlugin {
  const note = (at: string, extra: object = {}) => appendFileSync(spec.log, `${JSON.stringify({ at, pid: process.pid, ...extra })}\n`);
  const hook = (kind: OperationKind, h: string) => (ctx: HookContext): Promise<HookResult> => {
    const at = `${kind}:${ctx.resource.type}#${ctx.resource.id}:${h}`;
    note(at);
    if (at !== spec.blockAt) return Promise.resolve(undefined);
    note('blocked');
    return new Promise((_resolve, reject) => {
      const stop = () => {
        const reason = ctx.signal.reason as Error;
        note('aborted', { reason: reason?.message, name: reason?.name });
        reject(reason);
      };
      if (ctx.signal.aborted) stop();
      else ctx.signal.addEventListener('abort', stop, { once: true });
    });
  };
  const operation = (kind: OperationKind): ResourceOperation => ({
    ...Object.fromEntries(HOOKS.map((h) => [h, hook(kind, h)])),
    compensate: async (ctx) => { note(`${kind}:${ctx.resource.type}#${ctx.resource.id}:compensate`); },
  });
  return {
    name: 'hoard.io/blocker', sdkVersion: SDK_VERSION, resourceTypes: ['*'], capabilities: NO_CAPABILITIES,
    schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
    operation: (kind: OperationKind) => operation(kind),
  };
}

async function main(url: string, schema: string | undefined): Promise<void> {
  const spec = JSON.parse(process.env.CANCEL_SPEC ?? '{}') as CancelSpec;
  const store = await openStore({ url, ...(schema ? { schema } : {}) });
  const registry = labRegistry(SHARED);
  registry.registerProtectionPlugin(blockingPlugin(spec));
  const worker = createWorker({ store, registry, options: { tickMs: 20, leaseMs: 1500 } });
  worker.start();
  for (;;) {
    const live = await store.db.selectFrom('operations').select('id').where('status', 'not in', ['done', 'error']).execute();
    if (live.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.stop();
  await store.close();
}

if (process.argv[1]?.endsWith('cancel-fixture.ts')) {
  main(process.argv[2]!, process.argv[3]).catch((err: unknown) => {
    process.stderr.write(`cancel fixture: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  });
}
