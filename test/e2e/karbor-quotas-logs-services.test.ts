/**
 * The real Karbor CLI against a running Hoard for quotas, quota classes, operation logs and os-services,
 * plus the plan quota enforced through the API. The legacy CLI needs `--tenant` on quota-show and
 * quota-defaults: without it the client calls a method its HTTPClient lacks and crashes before sending.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId } from '../../src/plugins/file-tree/index.js';
import { startHeartbeat, type Heartbeat } from '../../src/roles/heartbeat.js';
import { services as serviceRows } from '../../src/store/index.js';
import { karborTimestamp, storedTime } from '../../src/util/clock.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable, tableRows } from '../helpers/karbor.js';

const SLOW = { timeout: 240_000 };
const KARBOR_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

let h: TestHoard;
let member: string;
let admin: string;
const asMember = (...args: string[]) => karbor(`${h.url}/v1/demo`, member, args);
const asAdmin = (...args: string[]) => karbor(`${h.url}/v1/ops`, admin, args);
const failure = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

beforeAll(async () => {
  h = await startHoard();
  await mkdir(join(h.root, 'photos'));
  member = await h.token('demo', 'member');
  admin = await h.token('ops', 'admin');
});
afterAll(() => h.close());

const planBody = (name: string) => ({
  plan: {
    name, provider_id: DEFAULT_PROVIDER_ID, parameters: {},
    resources: [{ id: directoryId(join(h.root, 'photos')), type: 'Hoard::FileSystem::Directory', name: join(h.root, 'photos') }],
  },
});
const planCount = async (project: string, token: string) => (await h.api('GET', `/v1/${project}/plans`, { token })).body.plans.length as number;

describe('quotas', () => {
  it('quota-show, --detail and quota-defaults print the limits and the real usage', SLOW, async () => {
    await h.api('POST', '/v1/demo/plans', { token: member, body: planBody('counted') });
    const now = storedTime(new Date());
    const checkpoint = (id: string, status: string) => ({
      id, project_id: 'demo', provider_id: DEFAULT_PROVIDER_ID, plan_id: 'x', status, protection_plan: '{}',
      resource_graph: null, extra_info: null, created_at: now, updated_at: now,
    });
    // A deleted checkpoint no longer counts against the quota.
    await h.hoard.store.db.insertInto('checkpoints').values([checkpoint('cp-1', 'available'), checkpoint('cp-2', 'error'), checkpoint('cp-3', 'deleted')]).execute();

    expect(propertyTable((await asMember('quota-show', '--tenant', 'demo')).stdout)).toEqual({ checkpoints: '-1', id: 'demo', plans: '50' });
    expect(propertyTable((await asMember('quota-show', '--tenant', 'demo', '--detail')).stdout)).toEqual({
      checkpoints: 'in_use = 2\nlimit = -1\nreserved = 0', id: 'demo', plans: 'in_use = 1\nlimit = 50\nreserved = 0',
    });
    expect(propertyTable((await asMember('quota-defaults', '--tenant', 'demo')).stdout)).toMatchObject({ plans: '50', checkpoints: '-1' });
    expect(failure(await asMember('quota-show', '--tenant', 'ops'))).toContain('(HTTP 403)');
  });

  it('quota-update needs an admin, and the member then sees the new limit', SLOW, async () => {
    const refused = await asMember('quota-update', 'demo', '--plans', '7');
    expect(refused.code).not.toBe(0);
    expect(failure(refused)).toContain('(HTTP 403)');
    expect((await h.api('GET', '/v1/demo/quotas/demo', { token: member })).body.quota.plans).toBe(50);

    const updated = await asAdmin('quota-update', 'demo', '--plans', '7');
    expect(updated.code, updated.stderr).toBe(0);
    expect(propertyTable(updated.stdout)).toMatchObject({ plans: '7', checkpoints: '-1' });
    expect(propertyTable((await asMember('quota-show', '--tenant', 'demo')).stdout).plans).toBe('7');
  });

  it('quota-class-show and quota-class-update change the defaults of projects without their own quota', SLOW, async () => {
    expect(propertyTable((await asMember('quota-class-show', 'default')).stdout)).toEqual({ checkpoints: '-1', id: 'default', plans: '50' });
    expect(failure(await asMember('quota-class-update', 'default', '--plans', '5'))).toContain('(HTTP 403)');
    const updated = await asAdmin('quota-class-update', 'default', '--plans', '20');
    expect(propertyTable(updated.stdout)).toMatchObject({ plans: '20' });
    expect(propertyTable((await asAdmin('quota-defaults', '--tenant', 'ops')).stdout).plans).toBe('20');
    // A project with no quota of its own follows the class; one with its own limit keeps it.
    expect((await h.api('GET', '/v1/ops/quotas/fresh-project', { token: admin })).body.quota).toEqual({ plans: 20, checkpoints: -1, id: 'fresh-project' });
    expect((await h.api('GET', '/v1/demo/quotas/demo', { token: member })).body.quota.plans).toBe(7);
    await h.api('PUT', '/v1/ops/quota_classes/default', { token: admin, body: { quota_class: { plans: 50 } } });
  });

  it('refuses bad quota values, unknown keys and bad project ids; DELETE resets to the defaults', async () => {
    const put = (project: string, quota: unknown) => h.api('PUT', `/v1/ops/quotas/${project}`, { token: admin, body: { quota } });
    expect((await put('demo', { plans: -2 })).status).toBe(400);
    expect((await put('demo', { plans: 1.5 })).status).toBe(400);
    const unknown = await put('demo', { volumes: 3 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.badRequest.message).toContain('volumes');
    expect((await put('bad$project', { plans: 3 })).status).toBe(400);
    expect((await h.api('GET', '/v1/ops/quotas/bad$project', { token: admin })).status).toBe(400);
    expect((await h.api('GET', '/v1/demo/quotas/demo', { token: member })).body.quota.plans).toBe(7);

    expect((await h.api('DELETE', '/v1/demo/quotas/demo', { token: member })).status).toBe(403);
    const reset = await h.api('DELETE', '/v1/ops/quotas/demo', { token: admin });
    expect(reset.status).toBe(200);
    expect(reset.text).toBe('');
    expect((await h.api('GET', '/v1/demo/quotas/demo', { token: member })).body.quota).toEqual({ plans: 50, checkpoints: -1, id: 'demo' });
  });
});

describe('plan quota', () => {
  it('a third plan gets 413 overLimit once the quota is 2, and a quota below usage keeps existing plans', SLOW, async () => {
    const token = await h.token('tight', 'member');
    const set = async (plans: number) => (await h.api('PUT', '/v1/ops/quotas/tight', { token: admin, body: { quota: { plans } } })).status;
    expect(await set(2)).toBe(200);
    for (const n of ['one', 'two']) expect((await h.api('POST', '/v1/tight/plans', { token, body: planBody(n) })).status).toBe(200);

    const third = await h.api('POST', '/v1/tight/plans', { token, body: planBody('three') });
    expect(third.status).toBe(413);
    expect(third.body.overLimit).toMatchObject({ code: 413 });
    expect(third.body.overLimit.message).toContain('plans');
    expect(await planCount('tight', token)).toBe(2);

    // The CLI user sees the same refusal.
    const photos = `${directoryId(join(h.root, 'photos'))}=Hoard::FileSystem::Directory=${join(h.root, 'photos')}`;
    const cli = await karbor(`${h.url}/v1/tight`, token, ['plan-create', 'three', DEFAULT_PROVIDER_ID, photos]);
    expect(cli.code).not.toBe(0);
    expect(failure(cli)).toContain('(HTTP 413)');
    expect(await planCount('tight', token)).toBe(2);

    expect(await set(1)).toBe(200);
    expect(await planCount('tight', token)).toBe(2);
    expect((await h.api('GET', '/v1/tight/quotas/tight/detail', { token })).body.quota.plans).toEqual({ limit: 1, in_use: 2, reserved: 0 });
    expect((await h.api('POST', '/v1/tight/plans', { token, body: planBody('three') })).status).toBe(413);

    expect(await set(-1)).toBe(200);
    expect((await h.api('POST', '/v1/tight/plans', { token, body: planBody('three') })).status).toBe(200);
    expect(await planCount('tight', token)).toBe(3);
  });
});

describe('operation logs', () => {
  it('operationlog-list and operationlog-show print logs written by the protection engine, scoped to the project', SLOW, async () => {
    const logs = h.hoard.services.operationLogs;
    const ok = await logs.record({ projectId: 'demo', operationType: 'protect', status: 'protecting', planId: 'plan-1', checkpointId: 'cp-ok', providerId: DEFAULT_PROVIDER_ID });
    await logs.update(ok.id, { status: 'available' });
    const bad = await logs.record({ projectId: 'demo', operationType: 'restore', status: 'in_progress', checkpointId: 'cp-ok', restoreId: 'rs-1' });
    await logs.update(bad.id, { status: 'fail', errorInfo: 'target directory is read-only' });
    const running = await logs.record({ projectId: 'demo', operationType: 'protect', status: 'protecting', planId: 'plan-2', checkpointId: 'cp-run' });
    const foreign = await logs.record({ projectId: 'elsewhere', operationType: 'protect', status: 'protecting', planId: 'plan-x' });

    const listed = tableRows((await asMember('operationlog-list')).stdout);
    expect(listed.map((r) => r.Id).sort()).toEqual([ok.id, bad.id, running.id].sort());
    const failed = listed.find((r) => r.Id === bad.id)!;
    expect(failed).toMatchObject({ 'Operation Type': 'restore', Status: 'fail', 'Restore Id': 'rs-1', 'Error Info': 'target directory is read-only' });
    expect(failed['Started At']).toMatch(KARBOR_TIME);
    expect(failed['Ended At']).toMatch(KARBOR_TIME);
    expect(listed.find((r) => r.Id === running.id)!['Ended At']).toBe('-');

    expect(tableRows((await asMember('operationlog-list', '--status', 'fail')).stdout).map((r) => r.Id)).toEqual([bad.id]);

    const shown = propertyTable((await asMember('operationlog-show', ok.id)).stdout);
    expect(shown).toMatchObject({ id: ok.id, operation_type: 'protect', status: 'available', plan_id: 'plan-1', checkpoint_id: 'cp-ok', provider_id: DEFAULT_PROVIDER_ID, error_info: 'None' });
    expect(shown.started_at).toMatch(KARBOR_TIME);
    expect(shown.ended_at).toMatch(KARBOR_TIME);

    expect(failure(await asMember('operationlog-show', foreign.id))).toContain('(HTTP 404)');
    const all = tableRows((await asAdmin('operationlog-list', '--all-tenants', '1')).stdout).map((r) => r.Id);
    expect(all).toEqual(expect.arrayContaining([ok.id, foreign.id]));
    expect(tableRows((await asAdmin('operationlog-list', '--tenant', 'elsewhere')).stdout).map((r) => r.Id)).toEqual([foreign.id]);
  });

  it('filters the list by plan, checkpoint and operation type, and refuses unknown filters', async () => {
    const logs = h.hoard.services.operationLogs;
    const a = await logs.record({ projectId: 'filters', operationType: 'verify', status: 'in_progress', planId: 'pa', checkpointId: 'ca' });
    const b = await logs.record({ projectId: 'filters', operationType: 'protect', status: 'protecting', planId: 'pb', checkpointId: 'cb' });
    const token = await h.token('filters', 'member');
    const ids = async (q: string) => (await h.api('GET', `/v1/filters/operation_logs${q}`, { token })).body.operation_logs.map((l: { id: string }) => l.id);
    expect(await ids('?plan_id=pa')).toEqual([a.id]);
    expect(await ids('?checkpoint_id=cb')).toEqual([b.id]);
    expect(await ids('?operation_type=verify')).toEqual([a.id]);
    // A member cannot widen the scope with project_id; it stays their own project.
    expect(await ids('?project_id=demo')).toEqual(expect.arrayContaining([a.id, b.id]));
    const page = await h.api('GET', '/v1/filters/operation_logs?limit=1', { token });
    expect(page.body.operation_logs_links[0].href).toContain(`marker=${page.body.operation_logs[0].id}`);
    expect((await h.api('GET', '/v1/filters/operation_logs?volume_id=x', { token })).status).toBe(400);
    expect((await h.api('GET', '/v1/filters/operation_logs/not-a-uuid', { token })).status).toBe(400);
    await expect(logs.update('00000000-0000-4000-8000-000000000000', { status: 'error' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('os-services', () => {
  let hb: Heartbeat;
  beforeAll(async () => {
    hb = await startHeartbeat({ osServices: h.hoard.services.osServices, roles: ['api', 'protection', 'scheduler'], intervalSeconds: 3600, host: 'node-a' });
  });
  afterAll(() => hb.stop());
  const id = (role: 'api' | 'protection' | 'scheduler') => String(hb.ids.get(role));

  it('service-list shows every role up, and a role whose heartbeat is stale as down until it beats again', SLOW, async () => {
    await hb.beat();
    const rows = tableRows((await asAdmin('service-list')).stdout);
    expect(rows.map((r) => [r.Binary, r.Host, r.Status, r.State])).toEqual([
      ['hoard-api', 'node-a', 'enabled', 'up'], ['hoard-protection', 'node-a', 'enabled', 'up'], ['hoard-scheduler', 'node-a', 'enabled', 'up'],
    ]);
    expect(rows[0]!.Updated_at).toMatch(KARBOR_TIME);
    expect(failure(await asMember('service-list'))).toContain('(HTTP 403)');

    // The scheduler stopped beating two minutes ago (beyond services.downAfterSeconds).
    const stale = new Date(Date.now() - 120_000);
    await serviceRows.touchService(h.hoard.store.db, Number(id('scheduler')), storedTime(stale));
    const scheduler = tableRows((await asAdmin('service-list', '--binary', 'hoard-scheduler')).stdout);
    expect(scheduler).toEqual([expect.objectContaining({ Id: id('scheduler'), State: 'down', Updated_at: karborTimestamp(stale) })]);
    expect(tableRows((await asAdmin('service-list', '--host', 'node-b')).stdout)).toEqual([]);

    await hb.beat();
    expect(tableRows((await asAdmin('service-list', '--host', 'node-a', '--binary', 'hoard-scheduler')).stdout)[0]!.State).toBe('up');
  });

  it('service-disable and service-enable switch protection and scheduler, never the api', SLOW, async () => {
    const disabled = tableRows((await asAdmin('service-disable', '--reason', 'disk replacement', id('protection'))).stdout);
    expect(disabled).toEqual([expect.objectContaining({ Id: id('protection'), Status: 'disabled', 'Disabled Reason': 'disk replacement' })]);
    // A restart of the process keeps the admin's choice.
    await h.hoard.services.osServices.register('node-a', 'protection');
    expect(tableRows((await asAdmin('service-list', '--binary', 'hoard-protection')).stdout)[0]).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'disk replacement' });

    const enabled = tableRows((await asAdmin('service-enable', id('protection'))).stdout);
    expect(enabled).toEqual([expect.objectContaining({ Status: 'enabled', 'Disabled Reason': '-' })]);
    expect(tableRows((await asAdmin('service-disable', id('scheduler'))).stdout)[0]).toMatchObject({ Status: 'disabled', 'Disabled Reason': '-' });

    expect(failure(await asAdmin('service-disable', id('api')))).toContain('(HTTP 400)');
    expect(failure(await asAdmin('service-enable', '99999'))).toContain('(HTTP 404)');
    expect(failure(await asMember('service-enable', id('scheduler')))).toContain('(HTTP 403)');
  });

  it('answers the wire details of PUT: unwrapped body, reason only when disabling', async () => {
    const put = (sid: string, body: unknown) => h.api('PUT', `/v1/ops/os-services/${sid}`, { token: admin, body });
    expect((await put(id('scheduler'), { status: 'enabled', disabled_reason: 'why' })).status).toBe(400);
    expect((await put(id('scheduler'), { service: { status: 'enabled' } })).status).toBe(400);
    expect((await put('abc', { status: 'enabled' })).status).toBe(400);
    const ok = await put(id('scheduler'), { status: 'enabled' });
    expect(ok.status).toBe(200);
    expect(ok.body.service).toMatchObject({ id: Number(id('scheduler')), binary: 'hoard-scheduler', host: 'node-a', status: 'enabled', disabled_reason: null });
    expect((await h.api('GET', '/v1/ops/os-services?topic=x', { token: admin })).status).toBe(400);
  });

  it('the heartbeat timer keeps a role up and stops when told to', async () => {
    const timed = await startHeartbeat({ osServices: h.hoard.services.osServices, roles: ['protection'], intervalSeconds: 0.1, host: 'node-t' });
    const sid = timed.ids.get('protection')!;
    const old = storedTime(new Date(Date.now() - 120_000));
    const updatedAt = async () => (await serviceRows.getService(h.hoard.store.db, sid))!.updatedAt;
    const settle = () => new Promise((r) => setTimeout(r, 600));
    try {
      await serviceRows.touchService(h.hoard.store.db, sid, old);
      await settle();
      expect(await updatedAt()).not.toBe(old);
    } finally {
      timed.stop();
    }
    await settle();
    await serviceRows.touchService(h.hoard.store.db, sid, old);
    await settle();
    expect(await updatedAt()).toBe(old);
  });
});
