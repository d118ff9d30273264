/**
 * The real Karbor CLI (Debian's python3-karborclient) against a running Hoard: triggers and scheduled
 * operations as a user types them, asserting on what each command prints.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_ID, NOOP_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId } from '../../src/plugins/file-tree/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable, tableRows } from '../helpers/karbor.js';

let h: TestHoard;
let token: string;
let endpoint: string;
let planId: string;
const run = (...args: string[]) => karbor(endpoint, token, args);
const failed = (r: { stdout: string; stderr: string }) => r.stderr + r.stdout;
/** ids are the Id column of a list, without the blank cells of wrapped multi-line rows. */
const ids = (out: string) => tableRows(out).map((x) => x.Id).filter(Boolean);

beforeAll(async () => {
  h = await startHoard();
  await mkdir(join(h.root, 'photos'));
  token = await h.token('demo', 'member');
  endpoint = `${h.url}/v1/demo`;
  const photos = join(h.root, 'photos');
  const plan = await h.api('POST', '/v1/demo/plans', {
    token,
    body: { plan: { name: 'photos', provider_id: DEFAULT_PROVIDER_ID, resources: [{ id: directoryId(photos), type: 'Hoard::FileSystem::Directory', name: photos }] } },
  });
  expect(plan.status, plan.text).toBe(200);
  planId = plan.body.plan.id;
});
afterAll(() => h.close());

/** createTrigger runs trigger-create and returns the printed properties, failing on a non-zero exit. */
async function createTrigger(name: string, properties: string): Promise<Record<string, string>> {
  const r = await run('trigger-create', name, 'time', properties);
  expect(r.code, failed(r)).toBe(0);
  return propertyTable(r.stdout);
}

describe('triggers', () => {
  it('trigger-create with a crontab pattern prints the effective properties', async () => {
    const t = await createTrigger('nightly', 'format=crontab,pattern=0 2 * * *,start_time=2030-01-01 00:00:00,window=1200,timezone=Europe/Berlin');
    expect(t.name).toBe('nightly');
    expect(t.type).toBe('time');
    const props = JSON.parse(t.properties!);
    expect(props).toEqual({ format: 'crontab', pattern: '0 2 * * *', start_time: '2030-01-01 00:00:00', window: 1200, timezone: 'Europe/Berlin' });
  });

  it('trigger-create with a calendar pattern accepts \\n escapes, ISO times and defaults the window', async () => {
    const pattern = 'BEGIN:VEVENT\\nRRULE:FREQ=WEEKLY;INTERVAL=1;\\nEND:VEVENT';
    const t = await createTrigger('weekly', `format=calendar,pattern=${pattern},start_time=2030-01-01T06:00:00Z,end_time=2031-01-01T00:00:00`);
    const props = JSON.parse(t.properties!);
    expect(props).toMatchObject({ format: 'calendar', pattern, start_time: '2030-01-01 06:00:00', end_time: '2031-01-01 00:00:00', window: 900, timezone: 'UTC' });
  });

  it('trigger-create refuses what cannot be scheduled, naming the problem', async () => {
    const tooOften = await run('trigger-create', 'often', 'time', 'format=crontab,pattern=*/10 * * * *');
    expect(tooOften.code).not.toBe(0);
    expect(failed(tooOften)).toContain('(HTTP 400)');
    expect(failed(tooOften)).toContain('at least 3600 s apart');
    const badType = await run('trigger-create', 'event', 'event', 'format=crontab,pattern=0 2 * * *');
    expect(failed(badType)).toContain('the only trigger type is');
    const badWindow = await run('trigger-create', 'w', 'time', 'format=crontab,pattern=0 2 * * *,window=60');
    expect(failed(badWindow)).toContain('between 900 and 1800');
    const backwards = await run('trigger-create', 'b', 'time', 'format=crontab,pattern=0 2 * * *,start_time=2030-01-02 00:00:00,end_time=2030-01-01 00:00:00');
    expect(failed(backwards)).toContain('must be after start_time');
    // Checked over HTTP to keep this test inside the per-test timeout: each CLI run costs seconds.
    const names = (await h.api('GET', '/v1/demo/triggers', { token })).body.triggers.map((x: { name: string }) => x.name);
    expect(names).not.toContain('often');
    expect(names).not.toContain('event');
  });

  it('trigger-list filters by name and properties; trigger-show prints the trigger', async () => {
    const t = await createTrigger('hourly-ish', 'format=crontab,pattern=0 */2 * * *');
    const listed = tableRows((await run('trigger-list')).stdout);
    const row = listed.find((x) => x.Id === t.id);
    expect(row?.Name).toBe('hourly-ish');
    expect(row?.Type).toBe('time');
    expect(ids((await run('trigger-list', '--name', 'hourly')).stdout)).toEqual([t.id]);
    expect(ids((await run('trigger-list', '--properties', '*/2')).stdout)).toEqual([t.id]);
    const shown = propertyTable((await run('trigger-show', t.id!)).stdout);
    expect(shown.name).toBe('hourly-ish');
    expect(JSON.parse(shown.properties!).pattern).toBe('0 */2 * * *');
  });

  it('trigger-update renames, replaces the schedule, and refuses a schedule that fires too often', async () => {
    const t = await createTrigger('to-update', 'format=crontab,pattern=0 4 * * *');
    // Renaming alone keeps the schedule (the CLI still sends an empty properties object).
    const renamed = await run('trigger-update', t.id!, '--name', 'renamed');
    expect(renamed.code, failed(renamed)).toBe(0);
    expect(propertyTable(renamed.stdout).name).toBe('renamed');
    expect(JSON.parse(propertyTable(renamed.stdout).properties!).pattern).toBe('0 4 * * *');

    const rescheduled = await run('trigger-update', t.id!, '--properties', 'format=calendar,pattern=BEGIN:VEVENT\\nRRULE:FREQ=DAILY\\nEND:VEVENT,window=1800');
    expect(rescheduled.code, failed(rescheduled)).toBe(0);
    const props = JSON.parse(propertyTable(rescheduled.stdout).properties!);
    expect(props).toMatchObject({ format: 'calendar', window: 1800, timezone: 'UTC' });
    expect(props.start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const refused = await run('trigger-update', t.id!, '--properties', 'format=crontab,pattern=* * * * *');
    expect(failed(refused)).toContain('(HTTP 400)');
    const after = propertyTable((await run('trigger-show', t.id!)).stdout);
    expect(JSON.parse(after.properties!).format).toBe('calendar');
    expect(after.name).toBe('renamed');
  });

  it('trigger-delete removes a trigger', async () => {
    const t = await createTrigger('to-delete', 'format=crontab,pattern=0 5 * * *');
    const del = await run('trigger-delete', t.id!);
    expect(del.code, failed(del)).toBe(0);
    expect(failed(await run('trigger-show', t.id!))).toContain('(HTTP 404)');
  });

  it("another project's trigger is not found", async () => {
    const t = await createTrigger('private', 'format=crontab,pattern=0 3 * * *');
    const other = await h.token('other', 'member');
    const r = await karbor(`${h.url}/v1/other`, other, ['trigger-show', t.id!]);
    expect(failed(r)).toContain('(HTTP 404)');
    expect(tableRows((await karbor(`${h.url}/v1/other`, other, ['trigger-list'])).stdout)).toEqual([]);
  });
});

describe('scheduled operations', () => {
  let triggerId: string;
  let opId: string;
  const definition = () => `provider_id=${DEFAULT_PROVIDER_ID},plan_id=${planId}`;

  it('scheduledoperation-create prints the operation with its definition as sent', async () => {
    triggerId = (await createTrigger('for-ops', 'format=crontab,pattern=30 1 * * *')).id!;
    const created = await run('scheduledoperation-create', 'keep-7', 'retention_protect', triggerId, `${definition()},max_backups=7,retention_duration=30`);
    expect(created.code, failed(created)).toBe(0);
    const op = propertyTable(created.stdout);
    opId = op.id!;
    expect(op.name).toBe('keep-7');
    expect(op.operation_type).toBe('retention_protect');
    expect(op.trigger_id).toBe(triggerId);
    expect(op.enabled).toBe('True');
    expect(JSON.parse(op.operation_definition!)).toEqual({ provider_id: DEFAULT_PROVIDER_ID, plan_id: planId, max_backups: '7', retention_duration: '30' });
  });

  it('scheduledoperation-list filters by trigger and type; scheduledoperation-show prints one', async () => {
    const listed = tableRows((await run('scheduledoperation-list')).stdout);
    expect(listed.map((x) => [x.Id, x.Name])).toEqual([[opId, 'keep-7']]);
    expect(ids((await run('scheduledoperation-list', '--trigger_id', triggerId)).stdout)).toEqual([opId]);
    expect(ids((await run('scheduledoperation-list', '--operation_type', 'protect')).stdout)).toEqual([]);
    const shown = propertyTable((await run('scheduledoperation-show', opId)).stdout);
    expect(shown.name).toBe('keep-7');
    expect(JSON.parse(shown.operation_definition!).plan_id).toBe(planId);
  });

  it('trigger-delete fails with 424 naming the operation while the trigger is in use', async () => {
    const inUse = await run('trigger-delete', triggerId);
    expect(inUse.code).not.toBe(0);
    expect(failed(inUse)).toContain('(HTTP 424)');
    expect(failed(inUse)).toContain(opId);
    expect(propertyTable((await run('trigger-show', triggerId)).stdout).id).toBe(triggerId);
  });

  it('scheduledoperation-delete removes the operation, after which the trigger can go', async () => {
    const del = await run('scheduledoperation-delete', opId);
    expect(del.code, failed(del)).toBe(0);
    expect(failed(await run('scheduledoperation-show', opId))).toContain('(HTTP 404)');
    expect(ids((await run('scheduledoperation-list')).stdout)).toEqual([]);
    expect((await run('trigger-delete', triggerId)).code).toBe(0);
  });

  it('scheduledoperation-create refuses a plan of another provider, an unknown plan and an unknown trigger', async () => {
    const t = await createTrigger('for-refusals', 'format=crontab,pattern=45 1 * * *');
    const wrongProvider = await run('scheduledoperation-create', 'x', 'protect', t.id!, `provider_id=${NOOP_PROVIDER_ID},plan_id=${planId}`);
    expect(failed(wrongProvider)).toContain('(HTTP 400)');
    expect(failed(wrongProvider)).toContain(`uses provider ${DEFAULT_PROVIDER_ID}`);
    const noPlan = await run('scheduledoperation-create', 'x', 'protect', t.id!, `provider_id=${DEFAULT_PROVIDER_ID},plan_id=44444444-4444-4444-8444-444444444444`);
    expect(failed(noPlan)).toContain('could not be found');
    expect(failed(noPlan)).toContain('(HTTP 400)');
    const noTrigger = await run('scheduledoperation-create', 'x', 'protect', '55555555-5555-4555-8555-555555555555', definition());
    expect(failed(noTrigger)).toContain('(HTTP 404)');
    const badRetention = await run('scheduledoperation-create', 'x', 'retention_protect', t.id!, `${definition()},max_backups=many`);
    expect(failed(badRetention)).toContain('max_backups');
    expect(ids((await run('scheduledoperation-list')).stdout)).toEqual([]);
  });

  it('a plan used by an operation cannot be deleted', async () => {
    const t = await h.api('POST', '/v1/demo/triggers', { token, body: { trigger_info: { name: 'guard', type: 'time', properties: { format: 'crontab', pattern: '15 1 * * *' } } } });
    expect(t.status, t.text).toBe(200);
    const ok = await run('scheduledoperation-create', 'guard', 'protect', t.body.trigger_info.id, definition());
    expect(ok.code, failed(ok)).toBe(0);
    expect(failed(await run('plan-delete', planId))).toContain('(HTTP 409)');
  });
});
