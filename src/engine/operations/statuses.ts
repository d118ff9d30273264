/**
 * Per-resource restore statuses (Karbor's resources_status / resources_reason), filled in by the engine
 * where a plugin did not report one: `available` once a resource's last hook is done, `error` with the
 * hook's reason when it failed, and — when the restore ends — `error` for every resource that never
 * ran because something it depends on failed. Every resource of a restore ends with a status.
 */
import { HOOKS, type HookName } from '../../plugins/sdk/index.js';
import { recordResourceStatus } from '../journal/index.js';
import { describe, reportsResources, statusSubject } from './model.js';
import { row, type Run } from './run-state.js';

/** afterTask records a restore resource's status once its outcome is known. */
export async function afterTask(run: Run, key: string, hook: HookName, ok: boolean): Promise<void> {
  if (!reportsResources(run.op.kind) || run.statusSet.has(key)) return;
  if (ok && hook !== 'complete') return;
  await setStatus(run, key, ok ? 'available' : 'error', ok ? undefined : `${hook} failed: ${row(run, key, hook).reason ?? 'unknown reason'}`);
}

/**
 * reportRemaining gives every resource still without a status one (a resumed run may not have seen it
 * finish): `available` when its last hook is done, otherwise `error` naming its failed hook or `cause`.
 */
export async function reportRemaining(run: Run, cause: string): Promise<void> {
  if (!reportsResources(run.op.kind)) return;
  for (const key of run.dag.keys) {
    if (run.statusSet.has(key)) continue;
    if (row(run, key, 'complete').state === 'done') {
      await setStatus(run, key, 'available', undefined);
      continue;
    }
    const failed = HOOKS.find((h) => row(run, key, h).state === 'failed');
    await setStatus(run, key, 'error', failed ? `${failed} failed: ${row(run, key, failed).reason}` : `${run.op.kind === 'verify' ? 'not verified' : 'not restored'}: ${cause}`);
  }
}

async function setStatus(run: Run, key: string, status: string, reason: string | undefined): Promise<void> {
  const r = run.op.graph.nodes.get(key)!.resource;
  run.statusSet.add(key);
  const statusKey = `${r.type}#${run.op.newResources.get(r.id) ?? r.id}`;
  await recordResourceStatus(run.deps.writer, run.deps.store, run.op.row.id, statusSubject(run.op.row), { key: statusKey, status, ...(reason ? { reason } : {}) });
}

/** failureReason is the operation's reason for a failed task: `Type id (name): hook failed: why`. */
export function failureReason(run: Run, key: string, hook: HookName): string {
  return `${describe(run.op.graph.nodes.get(key)!.resource)}: ${hook} failed: ${row(run, key, hook).reason ?? 'unknown reason'}`;
}
