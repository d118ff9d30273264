/**
 * End to end with the real Karbor CLI and real time: an every-minute crontab trigger and a protect
 * operation created with `karbor`, a running scheduler and protection role, and within two minutes a
 * checkpoint created by the schedule, with an operation log saying so. Waits are generous polls, never
 * timing assertions.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOOP_PROVIDER_ID } from '../../src/config/index.js';
import { DIRECTORY_TYPE, directoryId } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startScheduler, type SchedulerRole } from '../../src/roles/scheduler.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable } from '../helpers/karbor.js';

let h: TestHoard;
let token: string;
let protection: ProtectionRole;
let scheduler: SchedulerRole;

beforeAll(async () => {
  // Karbor's devstack lowers the trigger limits the same way so that a minutely schedule is allowed.
  h = await startHoard({ config: (c) => ({ ...c, triggers: { ...c.triggers, minWindow: 20, maxWindow: 30, minInterval: 60 } }) });
  token = await h.token('demo', 'member');
  protection = startProtection(h.hoard, { tickMs: 200 });
  scheduler = startScheduler(h.hoard, { options: { pollMs: 500 } });
});
afterAll(async () => {
  await scheduler?.stop();
  await protection?.stop();
  await h?.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, seconds: number): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting ${seconds} s for ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

it('a minutely protect created with the karbor CLI fires and leaves a checkpoint and an operation log', async () => {
  const dir = join(h.root, 'photos');
  await mkdir(dir);
  const endpoint = `${h.url}/v1/demo`;
  const run = async (...args: string[]) => {
    const r = await karbor(endpoint, token, args);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    return propertyTable(r.stdout);
  };
  const plan = await h.api('POST', '/v1/demo/plans', {
    token, body: { plan: { name: 'photos', provider_id: NOOP_PROVIDER_ID, resources: [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }] } },
  });
  expect(plan.status, plan.text).toBe(200);
  const planId: string = plan.body.plan.id;
  await run('plan-update', planId, '--status', 'started');

  const trigger = await run('trigger-create', 'every-minute', 'time', 'format=crontab,pattern=* * * * *,window=20');
  const op = await run('scheduledoperation-create', 'minutely', 'protect', trigger.id!, `provider_id=${NOOP_PROVIDER_ID},plan_id=${planId}`);

  const cp = await until('a checkpoint created by the schedule', async () => {
    const list = await h.api('GET', `/v1/demo/providers/${NOOP_PROVIDER_ID}/checkpoints?plan_id=${planId}`, { token });
    return (list.body.checkpoints as { id: string; extra_info: unknown }[]).find((c) => String(c.extra_info).includes('scheduled_operation'));
  }, 150);

  const shown = await run('checkpoint-show', NOOP_PROVIDER_ID, cp.id);
  const extra = JSON.parse(shown.extra_info!);
  expect(extra).toMatchObject({ created_by: 'scheduled_operation', scheduled_operation_id: op.id, trigger_id: trigger.id });
  expect(Date.parse(extra.due_at)).not.toBeNaN();

  const logs = await h.api('GET', `/v1/demo/operation_logs?plan_id=${planId}`, { token });
  const mine = (logs.body.operation_logs as { id: string; scheduled_operation_id: string | null; checkpoint_id: string | null }[])
    .filter((l) => l.scheduled_operation_id === op.id && l.checkpoint_id === cp.id);
  expect(mine).toHaveLength(1);
  const log = await run('operationlog-show', mine[0]!.id);
  expect(log).toMatchObject({ status: 'success', checkpoint_id: cp.id, scheduled_operation_id: op.id });
  expect(JSON.parse(log.extra_info!)).toMatchObject({ reason: 'on_time', due_at: extra.due_at });

  // The No-Op checkpoint goes on to `available` through the protection role.
  await until('the checkpoint to become available', async () => {
    const r = await h.api('GET', `/v1/demo/providers/${NOOP_PROVIDER_ID}/checkpoints/${cp.id}`, { token });
    return r.body.checkpoint.status === 'available' ? true : undefined;
  }, 60);
}, 240_000);
