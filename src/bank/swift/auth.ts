import { BankError } from '../backend.js';

/** SwiftAuthOptions are Keystone v3 password credentials scoped to the project that owns the container. */
export interface SwiftAuthOptions {
  /** authUrl is Keystone's v3 root, e.g. http://127.0.0.1:25000/v3. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  /** userDomainId and projectDomainId default to "default". */
  readonly userDomainId?: string;
  readonly projectDomainId?: string;
  /** region and interface pick the object-store endpoint from the catalog (default: any region, public). */
  readonly region?: string;
  readonly interface?: 'public' | 'internal' | 'admin';
  /** storageUrl overrides the catalog, e.g. for a proxy in front of Swift. */
  readonly storageUrl?: string;
}

/** SwiftSession is a token and the account URL it is good for. */
export interface SwiftSession {
  readonly token: string;
  readonly storageUrl: string;
  readonly expiresAt: number;
}

// Renew this long before Keystone's expiry, so a long upload does not start with a dying token.
const EARLY_MS = 120_000;

/**
 * KeystoneAuth keeps one Keystone token for a Swift backend. Concurrent callers share one login;
 * invalidate() after a 401 drops the token only if it is still the one that failed, so a burst of 401s
 * causes one new login. Bad credentials are `permanent` BankErrors, an unreachable Keystone `transient`;
 * messages name the user and project, never the password or the token.
 */
export class KeystoneAuth {
  private current: Promise<SwiftSession> | undefined;

  constructor(private readonly opts: SwiftAuthOptions) {}

  async session(): Promise<SwiftSession> {
    const cached = this.current;
    if (cached) {
      const s = await cached.catch(() => undefined);
      if (s && s.expiresAt - EARLY_MS > Date.now()) return s;
      // Another caller already started the next login while we waited: share it.
      if (this.current !== cached && this.current) return this.current;
    }
    const fresh = login(this.opts);
    this.current = fresh;
    // A failed login must not be cached: the next call tries again.
    fresh.catch(() => { if (this.current === fresh) this.current = undefined; });
    return fresh;
  }

  invalidate(token: string): void {
    void this.current?.then((s) => { if (s.token === token) this.current = undefined; }, () => undefined);
  }
}

async function login(o: SwiftAuthOptions): Promise<SwiftSession> {
  const who = `${o.username} in project ${o.projectName}`;
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: o.username, domain: { id: o.userDomainId ?? 'default' }, password: o.password } } },
      scope: { project: { name: o.projectName, domain: { id: o.projectDomainId ?? 'default' } } },
    },
  };
  let res: Response;
  try {
    res = await fetch(`${o.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
  } catch (err) {
    throw new BankError('transient', `Keystone at ${o.authUrl} is unreachable (${(err as Error).message}).`, { cause: err });
  }
  if (res.status === 401 || res.status === 403 || res.status === 400) {
    await res.body?.cancel();
    throw new BankError('permanent', `Keystone refused the credentials of ${who} (HTTP ${res.status}).`);
  }
  if (res.status !== 201) {
    await res.body?.cancel();
    throw new BankError('transient', `Keystone login of ${who} failed with HTTP ${res.status}.`);
  }
  const token = res.headers.get('x-subject-token') ?? '';
  const parsed = (await res.json()) as { token: { expires_at: string; catalog?: Catalog } };
  return { token, storageUrl: o.storageUrl ?? storageUrl(parsed.token.catalog ?? [], o, who), expiresAt: Date.parse(parsed.token.expires_at) };
}

type Catalog = { type: string; endpoints: { interface: string; region?: string; region_id?: string; url: string }[] }[];

function storageUrl(catalog: Catalog, o: SwiftAuthOptions, who: string): string {
  const want = o.interface ?? 'public';
  for (const service of catalog) {
    if (service.type !== 'object-store') continue;
    const ep = service.endpoints.find((e) => e.interface === want && (!o.region || e.region === o.region || e.region_id === o.region));
    if (ep) return ep.url.replace(/\/+$/, '');
  }
  throw new BankError('permanent', `The Keystone catalog of ${who} has no ${want} object-store endpoint${o.region ? ` in ${o.region}` : ''}.`);
}
