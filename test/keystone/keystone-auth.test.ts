/**
 * Keystone mode against a real Keystone (test/openstack/keystone.sh start): tokens Keystone issues are
 * accepted and mapped to the right project and admin flag; forged, revoked, expired and unscoped tokens
 * are refused with Karbor's 401 fault; a token never reaches another project; an unreachable or wrong
 * Keystone is a 503. Proved over HTTP and with the real karbor CLI. No part of Keystone is simulated.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId } from '../../src/plugins/file-tree/index.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable, tableRows, type CliResult } from '../helpers/karbor.js';
import { FIXTURES, KeystoneClient, type IssuedToken } from '../helpers/keystone.js';

const KEYSTONE_URL = process.env.HOARD_TEST_KEYSTONE_URL;
const DIR = 'Hoard::FileSystem::Directory';

const TITLE = KEYSTONE_URL
  ? `keystone auth against the real Keystone at ${KEYSTONE_URL}`
  : 'keystone auth (SKIPPED: HOARD_TEST_KEYSTONE_URL is unset; run HOARD_TEST_KEYSTONE_URL=$(bash test/openstack/keystone.sh start) npx vitest run test/keystone)';

// Skipped suites are easy to miss in a summary line, so say why once on stderr too.
if (!KEYSTONE_URL) console.warn(TITLE);

describe.skipIf(!KEYSTONE_URL)(TITLE, () => {
  let ks: KeystoneClient;
  /** Asks Keystone on every request, so revocation shows at once. */
  let h: TestHoard;
  /** Keeps validations for 300 s, Hoard's default, to show what the cache does and does not allow. */
  let cached: TestHoard;
  let alpha: IssuedToken;
  let beta: IssuedToken;
  let admin: IssuedToken;
  let alphaProject: string;
  let betaProject: string;
  let alphaPlanId: string;
  let betaPlanId: string;
  const disposers: (() => Promise<void>)[] = [];

  const resource = (dir: string) => ({ id: directoryId(dir), type: DIR, name: dir });
  const createPlan = (project: string, token: string, name: string, dir: string) =>
    h.api('POST', `/v1/${project}/plans`, { token, body: { plan: { name, provider_id: DEFAULT_PROVIDER_ID, resources: [resource(dir)] } } });
  const planIds = async (t: TestHoard, project: string, token: string, query = '') => {
    const r = await t.api('GET', `/v1/${project}/plans${query}`, { token });
    expect(r.status, r.text).toBe(200);
    return (r.body.plans as { id: string }[]).map((p) => p.id).sort();
  };
  const cli = (project: string, token: string, ...args: string[]) => karbor(`${h.url}/v1/${project}`, token, args);
  /** expectFault checks Karbor's fault body exactly: one key named after the status, code and message inside. */
  const expectFault = (r: { status: number; body: any; text: string }, status: number, name: string) => {
    expect(r.status, r.text).toBe(status);
    expect(Object.keys(r.body ?? {})).toEqual([name]);
    expect(r.body[name].code).toBe(status);
    expect(typeof r.body[name].message).toBe('string');
    expect(r.body[name].message.length).toBeGreaterThan(0);
  };

  /** The CLI reports a 401 in its own words ("Authentication failed") followed by Hoard's fault body. */
  const expectCli401 = (r: CliResult) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain('Authentication failed');
    expect(r.stderr + r.stdout).toContain('"unauthorized":{"code":401');
  };

  beforeAll(async () => {
    ks = new KeystoneClient(KEYSTONE_URL!);
    // The URL is set, so a Keystone that does not answer is a failure, not a reason to skip.
    await ks.ping();
    [alpha, beta, admin] = await Promise.all([
      ks.login(FIXTURES.users.alphaMember, FIXTURES.projects.alpha),
      ks.login(FIXTURES.users.betaMember, FIXTURES.projects.beta),
      ks.login(FIXTURES.users.admin, FIXTURES.projects.alpha),
    ]);
    alphaProject = alpha.projectId!;
    betaProject = beta.projectId!;
    h = await startHoard({
      strategy: 'keystone', keystoneUrl: KEYSTONE_URL,
      config: (c) => ({ ...c, auth: { ...c.auth, keystone: { ...c.auth.keystone, cacheSeconds: 0 } } }),
    });
    cached = await startHoard({
      strategy: 'keystone', keystoneUrl: KEYSTONE_URL,
      config: (c) => ({ ...c, auth: { ...c.auth, keystone: { ...c.auth.keystone, cacheSeconds: 300 } } }),
    });
    for (const d of ['alpha', 'beta', 'cli']) await mkdir(join(h.root, d));
    // One plan per project up front, so every test below can run on its own (vitest -t).
    const [a, b] = await Promise.all([
      createPlan(alphaProject, alpha.token, 'alpha-plan', join(h.root, 'alpha')),
      createPlan(betaProject, beta.token, 'beta-plan', join(h.root, 'beta')),
    ]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    alphaPlanId = a.body.plan.id;
    betaPlanId = b.body.plan.id;
  });
  afterAll(async () => {
    for (const d of disposers) await d().catch(() => undefined);
    await h?.close();
    await cached?.close();
  });

  it('the fixtures are what the other tests assume: distinct projects, a member without admin, an admin', () => {
    expect(alphaProject).toMatch(/^[0-9a-f]{32}$/);
    expect(betaProject).not.toBe(alphaProject);
    expect(admin.projectId).toBe(alphaProject);
    expect(alpha.roles).toContain('member');
    expect(alpha.roles).not.toContain('admin');
    expect(admin.roles).toContain('admin');
  });

  describe('a member token', () => {
    it('lists and creates plans in its own project over HTTP, owned by the Keystone project', async () => {
      const before = await planIds(h, alphaProject, alpha.token);
      expect(before).toContain(alphaPlanId);
      expect(before).not.toContain(betaPlanId);
      const r = await createPlan(alphaProject, alpha.token, 'alpha-http', join(h.root, 'alpha'));
      expect(r.status, r.text).toBe(200);
      expect(r.body.plan.project_id).toBe(alphaProject);
      expect(await planIds(h, alphaProject, alpha.token)).toEqual([...before, r.body.plan.id].sort());
    });

    it('lists and creates plans with the real karbor CLI', async () => {
      const before = await planIds(h, alphaProject, alpha.token);
      const dir = join(h.root, 'cli');
      const created = await cli(alphaProject, alpha.token, 'plan-create', 'alpha-cli', DEFAULT_PROVIDER_ID, `${directoryId(dir)}=${DIR}=${dir}`);
      expect(created.code, created.stderr).toBe(0);
      const plan = propertyTable(created.stdout);
      expect(plan.name).toBe('alpha-cli');
      expect(plan.project_id).toBe(alphaProject);
      const listed = await cli(alphaProject, alpha.token, 'plan-list');
      expect(listed.code, listed.stderr).toBe(0);
      expect(tableRows(listed.stdout).map((x) => x.Id).sort()).toEqual([...before, plan.id!].sort());
    });

    it('is refused with 403 on another project URL and changes nothing there', async () => {
      const betaBefore = await planIds(h, betaProject, beta.token);
      expect(betaBefore).toEqual([betaPlanId]);
      expectFault(await h.api('GET', `/v1/${betaProject}/plans`, { token: alpha.token }), 403, 'forbidden');
      expectFault(await createPlan(betaProject, alpha.token, 'intruder', join(h.root, 'alpha')), 403, 'forbidden');
      expectFault(await h.api('DELETE', `/v1/${betaProject}/plans/${betaPlanId}`, { token: alpha.token }), 403, 'forbidden');
      const [createCli, listCli] = await Promise.all([
        cli(betaProject, alpha.token, 'plan-create', 'intruder-cli', DEFAULT_PROVIDER_ID, `${directoryId(join(h.root, 'alpha'))}=${DIR}=${join(h.root, 'alpha')}`),
        cli(betaProject, alpha.token, 'plan-list'),
      ]);
      for (const r of [createCli, listCli]) {
        expect(r.code).not.toBe(0);
        expect(r.stderr + r.stdout).toContain('(HTTP 403)');
      }
      expect(await planIds(h, betaProject, beta.token)).toEqual(betaBefore);
    });

    it('ignores all_tenants: a member still sees only its own project', async () => {
      const own = await planIds(h, alphaProject, alpha.token);
      expect(own).toContain(alphaPlanId);
      expect(await planIds(h, alphaProject, alpha.token, '?all_tenants=1')).toEqual(own);
      const viaCli = await cli(alphaProject, alpha.token, 'plan-list', '--all-tenants', '1');
      expect(viaCli.code, viaCli.stderr).toBe(0);
      expect(tableRows(viaCli.stdout).map((x) => x.Id).sort()).toEqual(own);
    });
  });

  describe('a token with the Keystone admin role', () => {
    it('is an admin: all_tenants=1 shows the other project plan, without it only its own project', async () => {
      const alphaPlans = await planIds(h, alphaProject, alpha.token);
      const all = await planIds(h, alphaProject, admin.token, '?all_tenants=1');
      expect(all).toEqual([...alphaPlans, betaPlanId].sort());
      expect(await planIds(h, alphaProject, admin.token)).toEqual(alphaPlans);
      const viaCli = await cli(alphaProject, admin.token, 'plan-list', '--all-tenants', '1');
      expect(viaCli.code, viaCli.stderr).toBe(0);
      expect(tableRows(viaCli.stdout).map((x) => x.Id)).toContain(betaPlanId);
    });

    it('still may not use another project URL (admins reach other projects with all_tenants)', async () => {
      expectFault(await h.api('GET', `/v1/${betaProject}/plans`, { token: admin.token }), 403, 'forbidden');
    });
  });

  describe('refused tokens', () => {
    const forged = {
      'a random string': () => `forged-${randomBytes(16).toString('hex')}`,
      // Fernet tokens are url-safe base64 starting with the version byte 0x80 ("gAAAAA…").
      'a fernet-like string': () => `gAAAAAB${randomBytes(150).toString('base64url')}`,
    };
    for (const [what, make] of Object.entries(forged)) {
      it(`a forged token (${what}) is 401 with Karbor's fault body, over HTTP and in the CLI`, async () => {
        const token = make();
        expect(await ks.validate(token)).toBe(401);
        const r = await h.api('GET', `/v1/${alphaProject}/plans`, { token });
        expectFault(r, 401, 'unauthorized');
        expectFault(await createPlan(alphaProject, token, 'forged', join(h.root, 'alpha')), 401, 'unauthorized');
        const viaCli = await cli(alphaProject, token, 'plan-list');
        expect(viaCli.code).not.toBe(0);
        expectCli401(viaCli);
      });
    }

    it('a token that cannot be a Keystone token at all is 401 without asking Keystone', async () => {
      expectFault(await h.api('GET', `/v1/${alphaProject}/plans`, { token: 'x'.repeat(9000) }), 401, 'unauthorized');
    });

    it('a revoked token is 401 at once without a cache; a Hoard with a cache keeps the validation it already holds', async () => {
      const t = await ks.login(FIXTURES.users.alphaMember, FIXTURES.projects.alpha);
      expect((await h.api('GET', `/v1/${alphaProject}/plans`, { token: t.token })).status).toBe(200);
      expect((await cached.api('GET', `/v1/${alphaProject}/plans`, { token: t.token })).status).toBe(200);
      await ks.revoke(t.token);
      expect(await ks.validate(t.token)).toBe(401);
      const r = await h.api('GET', `/v1/${alphaProject}/plans`, { token: t.token });
      expectFault(r, 401, 'unauthorized');
      const viaCli = await cli(alphaProject, t.token, 'plan-list');
      expectCli401(viaCli);
      // The documented trade-off of auth.keystone.cacheSeconds: a validation Hoard already holds is reused.
      expect((await cached.api('GET', `/v1/${alphaProject}/plans`, { token: t.token })).status).toBe(200);
    });

    it('an expired token is 401, even on a Hoard that cached it while it was valid', async () => {
      const owner = await ks.login(FIXTURES.users.alphaMember, FIXTURES.projects.alpha);
      const t = await ks.shortLivedToken(owner, 8);
      disposers.push(t.dispose);
      expect(t.projectId).toBe(alphaProject);
      expect(t.expiresAt.getTime() - Date.now()).toBeLessThan(9_000);
      expect((await h.api('GET', `/v1/${alphaProject}/plans`, { token: t.token })).status).toBe(200);
      expect((await cached.api('GET', `/v1/${alphaProject}/plans`, { token: t.token })).status).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, t.expiresAt.getTime() - Date.now()) + 1_500));
      expect(await ks.validate(t.token)).toBe(401);
      expectFault(await h.api('GET', `/v1/${alphaProject}/plans`, { token: t.token }), 401, 'unauthorized');
      expectFault(await cached.api('GET', `/v1/${alphaProject}/plans`, { token: t.token }), 401, 'unauthorized');
      const viaCli = await cli(alphaProject, t.token, 'plan-list');
      expectCli401(viaCli);
    });

    it('an unscoped token is 401 and the message says it must be project-scoped', async () => {
      const t = await ks.login(FIXTURES.users.alphaMember);
      expect(t.projectId).toBeUndefined();
      expect(await ks.validate(t.token)).toBe(200);
      const r = await h.api('GET', `/v1/${alphaProject}/plans`, { token: t.token });
      expectFault(r, 401, 'unauthorized');
      expect(r.body.unauthorized.message).toMatch(/project-scoped/);
      const viaCli = await cli(alphaProject, t.token, 'plan-list');
      expectCli401(viaCli);
      expect(viaCli.stderr + viaCli.stdout).toMatch(/project-scoped/);
    });
  });

  describe('Keystone unavailable', () => {
    it('a closed port is 503, never 500, over HTTP and in the CLI', async () => {
      const port = await closedPort();
      const down = await startHoard({ strategy: 'keystone', keystoneUrl: `http://127.0.0.1:${port}` });
      try {
        const r = await down.api('GET', `/v1/${alphaProject}/plans`, { token: alpha.token });
        expectFault(r, 503, 'serviceUnavailable');
        expect(r.body.serviceUnavailable.message).toContain(`127.0.0.1:${port}`);
        expect(r.text).not.toContain(alpha.token);
        const viaCli = await karbor(`${down.url}/v1/${alphaProject}`, alpha.token, ['plan-list']);
        expect(viaCli.code).not.toBe(0);
        expect(viaCli.stderr + viaCli.stdout).toContain('(HTTP 503)');
      } finally {
        await down.close();
      }
    });

    it('a URL that is not Keystone (a server answering 404) is 503, not a 401 blaming the token', async () => {
      // Hoard itself serves 404 for /v3/auth/tokens: a real HTTP server that is not Keystone.
      const wrong = await startHoard({ strategy: 'keystone', keystoneUrl: h.url });
      try {
        expectFault(await wrong.api('GET', `/v1/${alphaProject}/plans`, { token: alpha.token }), 503, 'serviceUnavailable');
      } finally {
        await wrong.close();
      }
    });
  });
});

/** closedPort returns a loopback port that nothing listens on (it was bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}
