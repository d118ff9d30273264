/**
 * Tenancy: with two projects holding one of everything, project A's token can neither list, read,
 * change nor delete B's objects, through A's URL or B's; admins see both only with all_tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { populateProject, snapshot, type ProjectObjects } from '../helpers/fixtures.js';

let h: TestHoard;
let a: ProjectObjects;
let b: ProjectObjects;
let admin: string;
const CP = `/providers/${DEFAULT_PROVIDER_ID}/checkpoints`;

const lists: [string, string][] = [
  ['/plans', 'plans'], ['/triggers', 'triggers'], ['/scheduled_operations', 'operations'], [CP, 'checkpoints'],
  ['/restores', 'restores'], ['/verifications', 'verifications'], ['/operation_logs', 'operation_logs'],
];

const ids = (o: ProjectObjects) => [o.plan, o.trigger, o.scheduledOperation, o.checkpoint, o.restore, o.verification, o.operationLog];

beforeAll(async () => {
  h = await startHoard();
  a = await populateProject(h, 'alpha');
  b = await populateProject(h, 'beta');
  admin = await h.token('ops', 'admin');
});
afterAll(() => h.close());

describe('a member of project A', () => {
  it.each(lists)('does not see B in %s, even asking for all tenants', async (path, key) => {
    for (const q of ['', '?all_tenants=1', '?all_tenants=True', `?project_id=${b.project}`]) {
      const r = await h.api('GET', `/v1/alpha${path}${q}`, { token: a.token });
      if (q.startsWith('?project_id') && r.status === 400) continue; // a filter this collection does not offer
      expect(r.status, `${path}${q}: ${r.text}`).toBe(200);
      const listed = (r.body[key] as { id: string }[]).map((x) => x.id);
      expect(listed.some((id) => ids(b).includes(id)), `${path}${q} leaked B`).toBe(false);
      expect(listed.some((id) => ids(a).includes(id)), `${path}${q} lost A's own`).toBe(true);
    }
  });

  it('cannot read, change or delete B\'s objects through its own URL, and nothing of B changes', async () => {
    const before = await snapshot(h);
    const attempts: [string, string, unknown?][] = [
      ['GET', `/plans/${b.plan}`], ['PUT', `/plans/${b.plan}`, { plan: { name: 'taken' } }], ['DELETE', `/plans/${b.plan}`],
      ['GET', `/triggers/${b.trigger}`], ['PUT', `/triggers/${b.trigger}`, { trigger_info: { name: 'taken' } }], ['DELETE', `/triggers/${b.trigger}`],
      ['GET', `/scheduled_operations/${b.scheduledOperation}`], ['DELETE', `/scheduled_operations/${b.scheduledOperation}`],
      ['GET', `${CP}/${b.checkpoint}`], ['DELETE', `${CP}/${b.checkpoint}`], ['PUT', `${CP}/${b.checkpoint}`, { 'os-resetState': { state: 'error' } }],
      ['GET', `/restores/${b.restore}`], ['GET', `/verifications/${b.verification}`], ['GET', `/operation_logs/${b.operationLog}`],
      ['POST', CP, { checkpoint: { plan_id: b.plan } }],
      ['POST', '/restores', { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: b.checkpoint, parameters: {} } }],
      ['POST', '/verifications', { verification: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: b.checkpoint, parameters: {} } }],
      ['POST', '/scheduled_operations', { scheduled_operation: { name: 'x', operation_type: 'protect', trigger_id: b.trigger, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: a.plan } } }],
      ['POST', '/scheduled_operations', { scheduled_operation: { name: 'x', operation_type: 'protect', trigger_id: a.trigger, operation_definition: { provider_id: DEFAULT_PROVIDER_ID, plan_id: b.plan } } }],
      ['GET', `/quotas/${b.project}`], ['PUT', `/quotas/${b.project}`, { quota: { plans: 1000 } }], ['DELETE', `/quotas/${b.project}`],
    ];
    for (const [method, path, body] of attempts) {
      const r = await h.api(method, `/v1/alpha${path}`, { token: a.token, ...(body ? { body } : {}) });
      // A foreign id inside a body is refused like an unknown one (400/404); by path it is 403/404.
      const allowed = method === 'POST' ? [400, 403, 404] : [403, 404];
      expect(allowed, `${method} ${path} answered ${r.status} ${r.text}`).toContain(r.status);
      const fault = Object.values(r.body as Record<string, { code: number; message: string }>)[0]!;
      expect(fault.code).toBe(r.status);
    }
    expect(await snapshot(h)).toBe(before);
  });

  it('is refused on every route of B\'s URL', async () => {
    const before = await snapshot(h);
    const reads = [...lists.map(([p]) => p), '/providers', '/protectables'];
    const objects = [`/plans/${b.plan}`, `/triggers/${b.trigger}`, `/scheduled_operations/${b.scheduledOperation}`, `${CP}/${b.checkpoint}`, `/quotas/${b.project}`];
    const attempts = [...reads.map((p) => ['GET', p]), ...objects.flatMap((p) => [['GET', p], ['DELETE', p]])];
    for (const [method, path] of attempts) {
      const r = await h.api(method!, `/v1/beta${path}`, { token: a.token });
      expect(r.status, `${method} /v1/beta${path}`).toBe(403);
      expect(r.body.forbidden.message).toContain('alpha');
    }
    const put = await h.api('PUT', `/v1/beta/plans/${b.plan}`, { token: a.token, body: { plan: { name: 'taken' } } });
    expect(put.status).toBe(403);
    expect(await snapshot(h)).toBe(before);
  });
});

describe('an admin', () => {
  it.each(lists)('sees other projects in %s only with all_tenants', async (path, key) => {
    const own = await h.api('GET', `/v1/ops${path}`, { token: admin });
    expect(own.status).toBe(200);
    expect((own.body[key] as unknown[]).length).toBe(0);
    const all = await h.api('GET', `/v1/ops${path}?all_tenants=1`, { token: admin });
    expect(all.status).toBe(200);
    const listed = (all.body[key] as { id: string }[]).map((x) => x.id);
    expect(listed.some((id) => ids(a).includes(id))).toBe(true);
    expect(listed.some((id) => ids(b).includes(id))).toBe(true);
  });
});
