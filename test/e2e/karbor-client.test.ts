/**
 * The real Karbor CLI (Debian's python3-karborclient) against a running Hoard: every command a user
 * types for providers, protectables and plans, asserting on what the command prints.
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
const run = (...args: string[]) => karbor(endpoint, token, args);

beforeAll(async () => {
  h = await startHoard();
  await mkdir(join(h.root, 'photos'));
  await mkdir(join(h.root, 'mail'));
  token = await h.token('demo', 'member');
  endpoint = `${h.url}/v1/demo`;
});
afterAll(() => h.close());

describe('providers', () => {
  it('provider-list shows the configured providers', async () => {
    const r = await run('provider-list');
    expect(r.code).toBe(0);
    const rows = tableRows(r.stdout);
    expect(rows.map((x) => x.Id).sort()).toEqual([DEFAULT_PROVIDER_ID, NOOP_PROVIDER_ID].sort());
    expect(rows.find((x) => x.Id === DEFAULT_PROVIDER_ID)?.Name).toBe('Hoard File System Provider');
  });

  it('provider-show prints the extended info schema with the directory options', async () => {
    const r = await run('provider-show', DEFAULT_PROVIDER_ID);
    expect(r.code).toBe(0);
    const p = propertyTable(r.stdout);
    expect(p.name).toBe('Hoard File System Provider');
    expect(p.extended_info_schema).toContain('Hoard::FileSystem::Directory');
    expect(p.extended_info_schema).toContain('restore_path');
  });

  it('provider-show of an unknown provider fails with 404', async () => {
    const r = await run('provider-show', '00000000-0000-4000-8000-000000000000');
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain('(HTTP 404)');
  });
});

describe('protectables', () => {
  it('protectable-list and protectable-show name the directory type', async () => {
    const list = await run('protectable-list');
    expect(tableRows(list.stdout).map((x) => x['Protectable type'])).toEqual(['Hoard::FileSystem::Directory']);
    const show = propertyTable((await run('protectable-show', 'Hoard::FileSystem::Directory')).stdout);
    expect(show.name).toBe('Hoard::FileSystem::Directory');
    expect(show.dependent_types).toBe('[]');
  });

  it('protectable-list-instances lists the root and the directories under it', async () => {
    const r = await run('protectable-list-instances', 'Hoard::FileSystem::Directory');
    expect(r.code).toBe(0);
    const names = tableRows(r.stdout).map((x) => x.Name).sort();
    expect(names).toEqual([h.root, join(h.root, 'mail'), join(h.root, 'photos')].sort());
  });

  it('protectable-show-instance shows one directory by id, and 404 for an unknown one', async () => {
    const id = directoryId(join(h.root, 'photos'));
    const r = await run('protectable-show-instance', 'Hoard::FileSystem::Directory', id);
    expect(r.code).toBe(0);
    const p = propertyTable(r.stdout);
    expect(p.id).toBe(id);
    expect(p.name).toBe(join(h.root, 'photos'));
    const missing = await run('protectable-show-instance', 'Hoard::FileSystem::Directory', '11111111-1111-4111-8111-111111111111');
    expect(missing.stderr + missing.stdout).toContain('(HTTP 404)');
  });
});

describe('plans', () => {
  const photos = () => `${directoryId(join(h.root, 'photos'))}=Hoard::FileSystem::Directory=${join(h.root, 'photos')}`;
  const mail = () => `${directoryId(join(h.root, 'mail'))}=Hoard::FileSystem::Directory=${join(h.root, 'mail')}`;

  it('plan-create, plan-show, plan-list, plan-update and plan-delete round-trip through the store', async () => {
    const created = await run('plan-create', 'nightly', DEFAULT_PROVIDER_ID, photos(),
      '--parameters', 'resource_type=Hoard::FileSystem::Directory,one_file_system=true', '--description', 'photos every night');
    expect(created.code, created.stderr).toBe(0);
    const plan = propertyTable(created.stdout);
    expect(plan.name).toBe('nightly');
    expect(plan.status).toBe('suspended');
    expect(plan.provider_id).toBe(DEFAULT_PROVIDER_ID);
    // The CLI sends "true" as a string; Hoard keeps the schema's type.
    expect(plan.parameters).toContain('"one_file_system": true');

    const shown = propertyTable((await run('plan-show', plan.id!)).stdout);
    expect(shown.description).toBe('photos every night');
    expect(shown.resources).toContain(join(h.root, 'photos'));

    const listed = tableRows((await run('plan-list')).stdout);
    expect(listed.map((x) => x.Id)).toContain(plan.id);

    const renamed = await run('plan-update', plan.id!, '--name', 'nightly-2', '--resources', mail());
    expect(renamed.code, renamed.stderr).toBe(0);
    const after = propertyTable(renamed.stdout);
    expect(after.name).toBe('nightly-2');
    expect(after.resources).toContain(join(h.root, 'mail'));
    expect(after.resources).not.toContain(join(h.root, 'photos'));

    const started = propertyTable((await run('plan-update', plan.id!, '--status', 'started')).stdout);
    expect(started.status).toBe('started');
    const refused = await run('plan-update', plan.id!, '--name', 'while-started');
    expect(refused.stderr + refused.stdout).toContain('(HTTP 400)');
    expect(propertyTable((await run('plan-show', plan.id!)).stdout).name).toBe('nightly-2');

    const del = await run('plan-delete', plan.id!);
    expect(del.code, del.stderr).toBe(0);
    const gone = await run('plan-show', plan.id!);
    expect(gone.stderr + gone.stdout).toContain('(HTTP 404)');
  });

  it('plan-create refuses a resource that does not exist and a provider that does not protect it', async () => {
    const bogus = await run('plan-create', 'x', DEFAULT_PROVIDER_ID, '22222222-2222-4222-8222-222222222222=Hoard::FileSystem::Directory=/nope');
    expect(bogus.code).not.toBe(0);
    const unknownProvider = await run('plan-create', 'x', '33333333-3333-4333-8333-333333333333', photos());
    expect(unknownProvider.stderr + unknownProvider.stdout).toContain('(HTTP 400)');
    expect(tableRows((await run('plan-list')).stdout)).toEqual([]);
  });

  it('plan-list pages with --limit and --marker and sorts', async () => {
    const ids: string[] = [];
    for (const n of ['a', 'b', 'c']) {
      ids.push(propertyTable((await run('plan-create', `p-${n}`, DEFAULT_PROVIDER_ID, photos())).stdout).id!);
    }
    const page1 = tableRows((await run('plan-list', '--limit', '2', '--sort', 'name:asc')).stdout).map((x) => x.Name);
    expect(page1).toEqual(['p-a', 'p-b']);
    const page2 = tableRows((await run('plan-list', '--limit', '2', '--sort', 'name:asc', '--marker', ids[1]!)).stdout).map((x) => x.Name);
    expect(page2).toEqual(['p-c']);
    for (const id of ids) await run('plan-delete', id);
  });
});
