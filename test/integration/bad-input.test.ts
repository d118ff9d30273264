/**
 * Bad input on every endpoint: malformed JSON, wrong types, unknown fields, oversized bodies, invalid
 * ids, hostile path segments and query strings. Each must get a 4xx Karbor fault with a message, never
 * a 500, and must change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { populateProject, snapshot, type ProjectObjects } from '../helpers/fixtures.js';

let h: TestHoard;
let o: ProjectObjects;
let token: string;
let before: string;
const CP = `/providers/${DEFAULT_PROVIDER_ID}/checkpoints`;

interface Write { method: 'POST' | 'PUT'; path: () => string; body: () => Record<string, unknown> }

/** Valid requests; each test below breaks one thing about them. Valid bodies themselves are never sent. */
const writes: Write[] = [
  { method: 'POST', path: () => '/plans', body: () => ({ plan: { name: 'n', description: 'd', provider_id: DEFAULT_PROVIDER_ID, resources: [{ id: 'x', type: 'Hoard::FileSystem::Directory', name: 'x' }], parameters: {} } }) },
  { method: 'PUT', path: () => `/plans/${o.plan}`, body: () => ({ plan: { name: 'n', description: 'd', status: 'suspended' } }) },
  { method: 'POST', path: () => '/triggers', body: () => ({ trigger_info: { name: 'n', type: 'time', properties: { format: 'crontab', pattern: '0 4 * * *', window: 900 } } }) },
  { method: 'PUT', path: () => `/triggers/${o.trigger}`, body: () => ({ trigger_info: { name: 'n', properties: { format: 'crontab', pattern: '0 5 * * *', window: 900 } } }) },
  { method: 'POST', path: () => '/scheduled_operations', body: () => ({ scheduled_operation: { name: 'n', description: 'd', operation_type: 'protect', trigger_id: o.trigger, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: o.plan } } }) },
  { method: 'POST', path: () => CP, body: () => ({ checkpoint: { plan_id: o.plan, 'extra-info': { a: 'b' } } }) },
  { method: 'PUT', path: () => `${CP}/${o.checkpoint}`, body: () => ({ 'os-resetState': { state: 'available' } }) },
  { method: 'POST', path: () => '/restores', body: () => ({ restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: o.checkpoint, restore_target: null, restore_auth: null, parameters: {} } }) },
  { method: 'POST', path: () => '/verifications', body: () => ({ verification: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: o.checkpoint, parameters: {} } }) },
  { method: 'PUT', path: () => `/quotas/${o.project}`, body: () => ({ quota: { plans: 40, checkpoints: -1 } }) },
  { method: 'PUT', path: () => '/quota_classes/default', body: () => ({ quota_class: { plans: 40, checkpoints: -1 } }) },
];

const reads = (): string[] => [
  '/providers', `/providers/${DEFAULT_PROVIDER_ID}`, '/protectables', '/protectables/Hoard::FileSystem::Directory',
  '/protectables/Hoard::FileSystem::Directory/instances', '/plans', `/plans/${o.plan}`, CP, `${CP}/${o.checkpoint}`,
  '/restores', `/restores/${o.restore}`, '/verifications', `/verifications/${o.verification}`, '/triggers', `/triggers/${o.trigger}`,
  '/scheduled_operations', `/scheduled_operations/${o.scheduledOperation}`, '/operation_logs', `/operation_logs/${o.operationLog}`,
  `/quotas/${o.project}`, `/quotas/${o.project}/detail`, `/quotas/${o.project}/defaults`, '/quota_classes/default', '/os-services',
];

const lists = (): string[] => ['/providers', '/plans', CP, '/restores', '/verifications', '/triggers', '/scheduled_operations', '/operation_logs',
  '/protectables/Hoard::FileSystem::Directory/instances'];

async function expectFault(method: string, path: string, opts: Parameters<TestHoard['api']>[2] = {}): Promise<void> {
  const r = await h.api(method, `/v1/${o.project}${path}`, { token, ...opts });
  const what = `${method} ${path.slice(0, 120)} → ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.headers.get('content-type'), what).toContain('application/json');
  const values = Object.values((r.body ?? {}) as Record<string, { code: number; message: string }>);
  expect(values.length, what).toBe(1);
  expect(values[0]!.code, what).toBe(r.status);
  expect(typeof values[0]!.message === 'string' && values[0]!.message.length > 5, what).toBe(true);
}

/** wrongType swaps a value for one of another JSON type. */
function wrongType(v: unknown): unknown {
  if (typeof v === 'string') return 12345;
  if (typeof v === 'number') return 'twelve';
  if (typeof v === 'boolean') return 'yes';
  if (v === null) return 5;
  if (Array.isArray(v)) return { not: 'a list' };
  return 7;
}

beforeAll(async () => {
  h = await startHoard();
  o = await populateProject(h, 'gamma');
  token = await h.token('gamma', 'admin');
  before = await snapshot(h);
});
afterAll(() => h.close());

describe('bodies', () => {
  it.each(writes.map((w) => [`${w.method} ${w.path.toString().slice(6, 60)}`, w] as const))('%s: malformed JSON, wrong media type, oversize, empty', async (_n, w) => {
    await expectFault(w.method, w.path(), { raw: '{"x": ' });
    await expectFault(w.method, w.path(), { raw: '[1, 2' });
    await expectFault(w.method, w.path(), { raw: '{"__proto__": {"admin": true}}' });
    await expectFault(w.method, w.path(), { raw: JSON.stringify(w.body()), headers: { 'Content-Type': 'text/plain' } });
    await expectFault(w.method, w.path(), { raw: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }) });
    await expectFault(w.method, w.path(), { raw: '' });
    await expectFault(w.method, w.path(), { body: null });
    await expectFault(w.method, w.path(), { body: [] });
    await expectFault(w.method, w.path(), { body: 'a string' });
    await expectFault(w.method, w.path(), { body: {} });
  });

  it.each(writes.map((w) => [`${w.method} ${w.path.toString().slice(6, 60)}`, w] as const))('%s: unknown fields and wrong types, field by field', async (_n, w) => {
    const body = w.body();
    const [wrapper, inner] = Object.entries(body)[0]!;
    await expectFault(w.method, w.path(), { body: { ...body, bogus: 1 } });
    await expectFault(w.method, w.path(), { body: { [wrapper]: { ...(inner as object), bogus_field: 1 } } });
    await expectFault(w.method, w.path(), { body: { [wrapper]: wrongType(inner) } });
    for (const key of Object.keys(inner as object)) {
      const broken = { ...(inner as Record<string, unknown>), [key]: wrongType((inner as Record<string, unknown>)[key]) };
      await expectFault(w.method, w.path(), { body: { [wrapper]: broken } });
    }
  });
});

describe('ids and paths', () => {
  const hostile = ['not-a-uuid', 'x'.repeat(600), '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%27%3B%20DROP%20TABLE%20plans%3B--', '%00', '%E2%98%83', '%ZZ', '00000000-0000-4000-8000-000000000000'];
  it('every by-id route refuses hostile or unknown ids', async () => {
    const byId = [['GET', '/plans/'], ['PUT', '/plans/'], ['DELETE', '/plans/'], ['GET', '/triggers/'], ['DELETE', '/triggers/'],
      ['GET', '/scheduled_operations/'], ['DELETE', '/scheduled_operations/'], ['GET', `${CP}/`], ['DELETE', `${CP}/`],
      ['GET', '/restores/'], ['GET', '/verifications/'], ['GET', '/operation_logs/'], ['GET', '/providers/'], ['GET', '/quotas/'],
      ['GET', '/quota_classes/'], ['GET', '/protectables/'], ['GET', '/protectables/Hoard::FileSystem::Directory/instances/'],
      ['GET', `/providers/${'%2e%2e'}/checkpoints/`], ['PUT', '/os-services/']] as const;
    for (const [method, prefix] of byId) {
      // Quota paths take any project or class name, so only malformed ones are wrong there.
      const ids = prefix.startsWith('/quota') ? hostile.filter((x) => x !== 'not-a-uuid' && !x.startsWith('0000')) : hostile;
      for (const id of ids) {
        const body = method === 'PUT' ? { body: prefix === '/os-services/' ? { status: 'disabled' } : { plan: { name: 'x' } } } : {};
        await expectFault(method, `${prefix}${id}`, body);
      }
    }
  });

  it('hostile project segments and unknown routes', async () => {
    for (const p of ['..%2f..', 'x'.repeat(600), '%00', 'a%2Fb', "'"]) {
      const r = await h.api('GET', `/v1/${p}/plans`, { token });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    await expectFault('GET', '/nothing-here');
    await expectFault('PATCH', '/plans');
    await expectFault('GET', '/plans/detail');
  });
});

describe('query strings', () => {
  const bad = ['limit=-1', 'limit=abc', 'limit=0', 'limit=1e3', 'marker=%27%3B--', 'marker=00000000-0000-4000-8000-000000000000', 'sort=bogus:asc',
    'sort=name:sideways', 'sort_key=name&sort=name:asc', 'no_such_filter=1', 'all_tenants=maybe', 'limit=1&limit=2', `name=${'x'.repeat(2000)}`];
  it.each([['lists']])('every list refuses bad paging, sorting and filters (%s)', async () => {
    for (const path of lists()) {
      for (const q of bad) await expectFault('GET', `${path}?${q}`);
    }
  });

  it('bad protectable parameters are refused', async () => {
    await expectFault('GET', "/protectables/Hoard::FileSystem::Directory/instances?parameters=%7Bnot+json");
    await expectFault('GET', '/protectables/Hoard::FileSystem::Directory/instances?parameters=%5B1%2C2%5D');
  });
});

describe('reads', () => {
  it('every read still answers after all of the above, and nothing changed', async () => {
    for (const path of reads()) {
      const r = await h.api('GET', `/v1/${o.project}${path}`, { token });
      expect(r.status, `${path}: ${r.text.slice(0, 200)}`).toBe(200);
    }
    expect(await snapshot(h)).toBe(before);
  });
});
