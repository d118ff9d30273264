/**
 * Crash fixture (STYLE §11): a protection worker in its own process, on a SQLite file, with a plugin
 * that SIGKILLs its own process at a chosen hook. Every hook, poll and compensate call is appended
 * synchronously to a log file first, so the test can count calls across the killed and the restarted
 * process. Run: node --import tsx test/engine/crash-fixture.ts <db> ; spec in CRASH_SPEC (JSON).
 */
import { appendFileSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { Type } from '@sinclair/typebox';
import { createWorker } from '../../src/engine/index.js';
import { HOOKS, NO_CAPABILITIES, SDK_VERSION, type HookContext, type HookName, type OperationKind, type ProtectionPlugin, type ResourceOperation } from '../../src/plugins/sdk/index.js';
import { openStore } from '../../src/store/index.js';
import { labRegistry, SHARED } from './lab.js';

/** CrashSpec: where to die (`kind:key:hook`, or `kind:key:poll`), what is resumable, which hook hands out a handle. */
export interface CrashSpec {
  readonly log: string;
  /** The SQLite file, read synchronously just before the kill to log which tasks the journal has done. */
  readonly db?: string;
  readonly killAt?: string;
  readonly resumable?: readonly HookName[];
  /** `kind:key:hook` whose hook returns a handle to poll; the poll says done from the second call on. */
  readonly handleAt?: string;
}

/** crashPlugin is the fixture plugin; the same code runs in the test process (to submit) and the fixture. */
export function crashPlugin(spec: CrashSpec): ProtectionPlugin {
  const note = (kind: OperationKind, ctx: HookContext, what: string, extra: object = {}) => {
    const at = `${kind}:${ctx.resource.type}#${ctx.resource.id}:${what}`;
    appendFileSync(spec.log, `${JSON.stringify({ at, pid: process.pid, ...extra })}\n`);
    if (spec.killAt === at) {
      if (spec.db) appendFileSync(spec.log, `${JSON.stringify({ at: 'journal-done-at-kill', pid: process.pid, done: doneTasks(spec.db) })}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    return at;
  };
  let polls = 0;
  const operation = (kind: OperationKind): ResourceOperation => ({
    ...Object.fromEntries(HOOKS.map((h) => [h, async (ctx: HookContext) => (note(kind, ctx, h) === spec.handleAt ? { handle: { job: `${ctx.resource.id}-job` } } : undefined)])),
    poll: async (ctx, _hook, handle) => {
      note(kind, ctx, 'poll', { handle });
      return ++polls >= 2 ? { state: 'done' } : { state: 'running', progress: { itemsDone: 1, itemsTotal: 2 } };
    },
    compensate: async (ctx) => { note(kind, ctx, 'compensate'); },
    resumable: spec.resumable ?? [],
  });
  return {
    name: 'hoard.io/crash', sdkVersion: SDK_VERSION, resourceTypes: ['*'], capabilities: NO_CAPABILITIES,
    schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
    operation: (kind: OperationKind) => operation(kind),
  };
}

function doneTasks(db: string): string[] {
  const conn = new SQLite(db, { readonly: true });
  try {
    return (conn.prepare("SELECT resource_key, hook FROM operation_tasks WHERE state = 'done'").all() as { resource_key: string; hook: string }[]).map((r) => `${r.resource_key}:${r.hook}`);
  } finally {
    conn.close();
  }
}

async function main(db: string): Promise<void> {
  const spec = JSON.parse(process.env.CRASH_SPEC ?? '{}') as CrashSpec;
  const store = await openStore({ url: `sqlite:${db}` });
  const registry = labRegistry(SHARED);
  registry.registerProtectionPlugin(crashPlugin(spec));
  const worker = createWorker({ store, registry, options: { tickMs: 20, leaseMs: 1000, retryBackoff: { initialMs: 5, maxMs: 20 }, pollBackoff: { initialMs: 5, maxMs: 20 } } });
  worker.start();
  for (;;) {
    const live = await store.db.selectFrom('operations').select('id').where('status', 'not in', ['done', 'error']).execute();
    if (live.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.stop();
  await store.close();
}

if (process.argv[1]?.endsWith('crash-fixture.ts')) {
  main(process.argv[2]!).catch((err: unknown) => {
    process.stderr.write(`crash fixture: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  });
}
