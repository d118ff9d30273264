/**
 * Fixture objects for cross-collection tests: one of everything in a project, created through the API
 * where the API can create it, and written into the store the way the protection engine will write it
 * where it cannot yet (checkpoints, restores, verifications, operation logs).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import type { TestHoard } from './hoard.js';

export interface ProjectObjects {
  readonly project: string;
  readonly token: string;
  readonly plan: string;
  readonly trigger: string;
  readonly scheduledOperation: string;
  readonly checkpoint: string;
  readonly restore: string;
  readonly verification: string;
  readonly operationLog: string;
}

const must = (what: string, r: { status: number; text: string }) => {
  if (r.status !== 200) throw new Error(`creating ${what} failed: ${r.status} ${r.text}`);
};

export async function populateProject(h: TestHoard, project: string): Promise<ProjectObjects> {
  const token = await h.token(project, 'member');
  const dir = join(h.root, `${project}-data`);
  await mkdir(dir, { recursive: true });
  const plan = await h.api('POST', `/v1/${project}/plans`, {
    token,
    body: { plan: { name: `${project} plan`, provider_id: DEFAULT_PROVIDER_ID, resources: [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }], parameters: {} } },
  });
  must('plan', plan);
  const trigger = await h.api('POST', `/v1/${project}/triggers`, {
    token,
    body: { trigger_info: { name: `${project} daily`, type: 'time', properties: { format: 'crontab', pattern: '0 3 * * *', window: 900 } } },
  });
  must('trigger', trigger);
  const op = await h.api('POST', `/v1/${project}/scheduled_operations`, {
    token,
    body: { scheduled_operation: { name: `${project} nightly`, operation_type: 'protect', trigger_id: trigger.body.trigger_info.id, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: plan.body.plan.id } } },
  });
  must('scheduled operation', op);
  const now = new Date().toISOString();
  const db = h.hoard.store.db;
  const checkpoint = randomUUID();
  await db.insertInto('checkpoints').values({
    id: checkpoint, project_id: project, provider_id: DEFAULT_PROVIDER_ID, plan_id: plan.body.plan.id, status: 'available',
    protection_plan: JSON.stringify({ id: plan.body.plan.id, name: `${project} plan`, provider_id: DEFAULT_PROVIDER_ID, resources: [] }),
    resource_graph: '[{}, []]', extra_info: JSON.stringify({ created_by: 'manual' }), created_at: now, updated_at: now,
  }).execute();
  const restore = randomUUID();
  await db.insertInto('restores').values({
    id: restore, project_id: project, provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpoint, restore_target: null,
    parameters: '{}', status: 'success', resources_status: '{}', resources_reason: '{}', created_at: now, updated_at: now,
  }).execute();
  const verification = randomUUID();
  await db.insertInto('verifications').values({
    id: verification, project_id: project, provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpoint,
    parameters: '{}', status: 'success', resources_status: '{}', resources_reason: '{}', created_at: now, updated_at: now,
  }).execute();
  const operationLog = randomUUID();
  await db.insertInto('operation_logs').values({
    id: operationLog, project_id: project, operation_type: 'protect', checkpoint_id: checkpoint, plan_id: plan.body.plan.id,
    provider_id: DEFAULT_PROVIDER_ID, restore_id: null, scheduled_operation_id: null, status: 'available',
    started_at: now, ended_at: now, error_info: null, extra_info: null, created_at: now,
  }).execute();
  return {
    project, token, plan: plan.body.plan.id, trigger: trigger.body.trigger_info.id, scheduledOperation: op.body.scheduled_operation.id,
    checkpoint, restore, verification, operationLog,
  };
}

/** snapshot reads every table, so a test can prove a refused request changed nothing. */
export async function snapshot(h: TestHoard): Promise<string> {
  const tables = ['projects', 'tokens', 'plans', 'plan_resources', 'triggers', 'scheduled_operations', 'operation_logs',
    'quotas', 'quota_classes', 'checkpoints', 'restores', 'verifications'] as const;
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await h.hoard.store.db.selectFrom(t).selectAll().orderBy(t === 'quotas' ? 'project_id' : t === 'quota_classes' ? 'class_name' : t === 'plan_resources' ? 'plan_id' : 'id').execute();
  // services rows carry heartbeats that move on their own; compare what a request could change.
  out.services = await h.hoard.store.db.selectFrom('services').select(['id', 'host', 'binary', 'disabled', 'disabled_reason']).orderBy('id').execute();
  return JSON.stringify(out);
}
