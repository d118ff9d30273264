/**
 * A client for the real Keystone that test/openstack/keystone.sh starts: password logins that return
 * project-scoped or unscoped tokens, revocation, and tokens that really expire a few seconds from now
 * (issued from an application credential that expires then). Everything goes over HTTP to
 * Keystone's v3 API; nothing is faked. Tokens and passwords are never logged or put into error messages.
 */
import { randomUUID } from 'node:crypto';

/** The fixtures keystone.sh creates in domain "default"; keep the two lists in step. */
export const FIXTURES = {
  projects: { alpha: 'hoard-alpha', beta: 'hoard-beta' },
  users: {
    alphaMember: 'hoard-alpha-member',
    betaMember: 'hoard-beta-member',
    /** Has Keystone's `admin` role on hoard-alpha. */
    admin: 'hoard-admin',
  },
  password: process.env.HOARD_TEST_KEYSTONE_PASSWORD ?? 'hoard-test-secret',
} as const;

/** What Keystone says about a token when it issues it. */
export interface IssuedToken {
  readonly token: string;
  readonly userId: string;
  /** Undefined for an unscoped token. */
  readonly projectId?: string;
  readonly roles: readonly string[];
  readonly expiresAt: Date;
}

interface TokenBody {
  token: { user: { id: string }; project?: { id: string }; roles?: { name: string }[]; expires_at: string };
}

/** KeystoneClient talks to one Keystone; `url` is its root (a trailing /v3 is tolerated). */
export class KeystoneClient {
  readonly base: string;

  constructor(url: string) {
    this.base = `${url.replace(/\/+$/, '').replace(/\/v3$/, '')}/v3`;
  }

  /** ping resolves when Keystone answers its version document, and throws a readable error otherwise. */
  async ping(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.base, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new Error(`Keystone at ${this.base} does not answer (${reason(err)}); start it with: bash test/openstack/keystone.sh start`);
    }
    if (!res.ok) throw new Error(`Keystone at ${this.base} answered ${res.status} to GET /v3`);
    await res.body?.cancel();
  }

  /** login authenticates a user of domain "default" by password, scoped to a project by name or unscoped. */
  login(user: string, project?: string, password: string = FIXTURES.password): Promise<IssuedToken> {
    return this.issue({
      identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
      ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
    }, `${user}${project ? ` on ${project}` : ''}`);
  }

  /** revoke revokes a token, using the token itself as the caller (a user may always revoke its own). */
  async revoke(token: string): Promise<void> {
    const res = await this.call('DELETE', '/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
    if (res.status !== 204) throw new Error(`Keystone refused to revoke the token: ${res.status} ${await res.text()}`);
  }

  /**
   * validate asks Keystone itself whether a token is valid now (the status of its self-validation:
   * 200 valid, 401/404 not); tests use it to show that Keystone and Hoard agree.
   */
  async validate(token: string): Promise<number> {
    const res = await this.call('GET', '/auth/tokens?nocatalog', { token, headers: { 'X-Subject-Token': token } });
    await res.body?.cancel();
    return res.status;
  }

  /**
   * shortLivedToken returns a token for `owner`'s user and project that Keystone stops accepting after
   * about `seconds`. It logs in with an application credential that expires then: Keystone caps the
   * expiry of a token issued from an application credential at the credential's own `expires_at` and
   * checks that expiry on every validation, even for a validation it has cached. (A trust's expiry does
   * not do this in Keystone Zed: a trust-scoped token keeps its 24 h expiry, and Keystone's token
   * cache keeps validating it after the trust has expired.) `dispose` deletes the credential.
   */
  async shortLivedToken(owner: IssuedToken, seconds: number): Promise<IssuedToken & { dispose(): Promise<void> }> {
    if (!owner.projectId) throw new Error('the owner token must be project-scoped');
    const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
    const created = await this.call('POST', `/users/${owner.userId}/application_credentials`, {
      token: owner.token,
      body: { application_credential: { name: `hoard-test-${randomUUID()}`, expires_at: expiresAt, description: 'Hoard keystone-auth test: expires in seconds' } },
    });
    if (created.status !== 201) throw new Error(`Keystone refused to create the application credential: ${created.status} ${await created.text()}`);
    const { application_credential: cred } = (await created.json()) as { application_credential: { id: string; secret: string } };
    const issued = await this.issue({ identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } }, 'an application credential');
    return {
      ...issued,
      dispose: async () => {
        const res = await this.call('DELETE', `/users/${owner.userId}/application_credentials/${cred.id}`, { token: owner.token });
        await res.body?.cancel();
      },
    };
  }

  private async issue(auth: unknown, who: string): Promise<IssuedToken> {
    const res = await this.call('POST', '/auth/tokens?nocatalog', { body: { auth } });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) throw new Error(`Keystone login failed for ${who}: ${res.status} ${await res.text()} (are the fixtures there? bash test/openstack/keystone.sh start)`);
    const { token: t } = (await res.json()) as TokenBody;
    return {
      token, userId: t.user.id, roles: (t.roles ?? []).map((r) => r.name), expiresAt: new Date(t.expires_at),
      ...(t.project ? { projectId: t.project.id } : {}),
    };
  }

  private async call(method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(o.headers ?? {}) };
    if (o.token) headers['X-Auth-Token'] = o.token;
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(this.base + path, {
      method, headers, signal: AbortSignal.timeout(30_000),
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
  }
}

function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
