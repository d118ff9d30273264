import { createHash } from 'node:crypto';
import {
  type BankBackend, BankError, type IntentStore, KEY_RE, type ObjectInfo, putIfAbsentByIntent, checkKey, checkMetadata, checkPrefix, checkRange, rangePastEnd, statInOrder,
} from '../backend.js';
import { KeystoneAuth, type SwiftAuthOptions, type SwiftSession } from './auth.js';
import { isSwiftConflict, isSwiftNotFound, isSwiftPermanent, networkError, statusError } from './errors.js';

export { KeystoneAuth, type SwiftAuthOptions, type SwiftSession } from './auth.js';

/** SwiftTokenSource hands out tokens; KeystoneAuth is the real one, shareable by several backends. */
export interface SwiftTokenSource {
  session(): Promise<SwiftSession>;
  /** invalidate is called with a token Swift answered 401 to. */
  invalidate(token: string): void;
}

/** SwiftBackendOptions names the container (and optional prefix in it) and how to log in. */
export interface SwiftBackendOptions extends SwiftAuthOptions {
  readonly container: string;
  /** prefix puts the bank under a pseudo-folder of the container; `/` is appended when missing. */
  readonly prefix?: string;
  /** auth replaces the backend's own KeystoneAuth, e.g. to share one login among containers. */
  readonly auth?: SwiftTokenSource;
}

/** SwiftBackend is a BankBackend on one Swift container, plus container creation for setup and tests. */
export interface SwiftBackend extends BankBackend {
  /** ensureContainer creates the container if it does not exist; idempotent. */
  ensureContainer(): Promise<void>;
}

interface Ctx {
  readonly auth: SwiftTokenSource;
  readonly container: string;
  readonly prefix: string;
}

const PAGE = 1000;
const META = 'x-object-meta-';

/**
 * swiftBackend stores a bank in a Swift container through Swift's native API with Keystone v3 password
 * auth: one Swift object per bank object, metadata as X-Object-Meta-*, an ETag (MD5) on every PUT so
 * Swift rejects bytes damaged in transit. PUTs are atomic per object. `ifAbsent` sends
 * `If-None-Match: *` inside the intent protocol (putIfAbsentByIntent in backend.ts), because Swift alone
 * lets two racing PUTs both pass the header. A 401 logs in again once per request.
 * list() pages with `marker` and issues one HEAD per object for its metadata. Errors are classified
 * BankErrors; neither messages nor causes carry the password or the token.
 */
export function swiftBackend(opts: SwiftBackendOptions): SwiftBackend {
  const ctx: Ctx = { auth: opts.auth ?? new KeystoneAuth(opts), container: opts.container, prefix: opts.prefix ? opts.prefix.replace(/\/?$/, '/') : '' };
  return {
    put: (key, data, o) => put(ctx, key, data, o ?? {}),
    get: (key, range) => get(ctx, key, range),
    stat: (key) => stat(ctx, key),
    list: (prefix, o) => list(ctx, prefix, o?.after),
    remove: (key) => remove(ctx, key),
    ensureContainer: () => ensureContainer(ctx),
    isNotFound: isSwiftNotFound,
    isConflict: isSwiftConflict,
    isPermanent: isSwiftPermanent,
  };
}

interface Req {
  readonly method: string;
  readonly name?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

/** request sends one Swift request with a valid token, logging in again once if Swift answers 401. */
async function request(ctx: Ctx, r: Req, what: string, key: string): Promise<Response> {
  const path = [ctx.container, ...(r.name === undefined ? [] : r.name.split('/'))].map(encodeURIComponent).join('/');
  const query = r.query ? `?${new URLSearchParams(r.query).toString()}` : '';
  for (let attempt = 1; ; attempt++) {
    const session = await ctx.auth.session();
    let res: Response;
    try {
      res = await fetch(`${session.storageUrl}/${path}${query}`, { method: r.method, headers: { ...r.headers, 'X-Auth-Token': session.token }, body: r.body });
    } catch (err) {
      throw networkError(err, what, key);
    }
    if (res.status !== 401 || attempt > 1) return res;
    await res.body?.cancel();
    ctx.auth.invalidate(session.token);
  }
}

async function put(ctx: Ctx, key: string, data: Uint8Array, o: { metadata?: Record<string, string>; ifAbsent?: boolean }): Promise<void> {
  checkKey(key);
  checkMetadata(o.metadata);
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', ETag: createHash('md5').update(data).digest('hex') };
  for (const [name, value] of Object.entries(o.metadata ?? {})) headers[META + name] = value;
  const write = async () => {
    const res = await request(ctx, { method: 'PUT', name: ctx.prefix + key, headers, body: data }, 'PUT', key);
    await res.body?.cancel();
    if (res.status !== 201) throw statusError(res, 'PUT', key);
  };
  if (!o.ifAbsent) return write();
  // Swift checks If-None-Match before the upload, so two racing PUTs can both pass it; the intent
  // protocol makes the race exclusive, and the header still stops writers that do not use it.
  headers['If-None-Match'] = '*';
  await putIfAbsentByIntent(intentStore(ctx), `${ctx.prefix}~ifabsent/${key}/`, key, write);
}

function intentStore(ctx: Ctx): IntentStore {
  const simple = async (method: string, name: string) => {
    const res = await request(ctx, { method, name, body: method === 'PUT' ? new Uint8Array(0) : undefined }, method, name);
    await res.body?.cancel();
    if (res.status >= 300 && !(method === 'DELETE' && res.status === 404)) throw statusError(res, method, name);
  };
  return {
    exists: (key) => stat(ctx, key).then(() => true, (err: unknown) => (isSwiftNotFound(err) ? false : Promise.reject(err))),
    putMarker: (name) => simple('PUT', name),
    deleteMarker: (name) => simple('DELETE', name),
    listMarkers: async (prefix) => {
      const out: string[] = [];
      for await (const name of rawNames(ctx, prefix, '')) out.push(name);
      return out;
    },
  };
}

async function get(ctx: Ctx, key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
  checkKey(key);
  checkRange(range);
  if (range?.length === 0) return emptyRange(ctx, key, range.offset);
  const headers: Record<string, string> = range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
  const res = await confirmMissing(() => request(ctx, { method: 'GET', name: ctx.prefix + key, headers }, 'GET', key));
  if (res.status === 200 || res.status === 206) return new Uint8Array(await res.arrayBuffer());
  await res.body?.cancel();
  // 416: the range starts at or past the end; at the end exactly, the answer is no bytes.
  if (res.status === 416 && range) return emptyRange(ctx, key, range.offset);
  throw statusError(res, 'GET', key, 'not-found');
}

async function emptyRange(ctx: Ctx, key: string, offset: number): Promise<Uint8Array> {
  const { size } = await stat(ctx, key);
  if (offset > size) throw rangePastEnd(key, offset, size);
  return new Uint8Array(0);
}

async function stat(ctx: Ctx, key: string): Promise<ObjectInfo> {
  checkKey(key);
  const res = await confirmMissing(() => request(ctx, { method: 'HEAD', name: ctx.prefix + key }, 'HEAD', key));
  await res.body?.cancel();
  if (res.status !== 200) throw statusError(res, 'HEAD', key, 'not-found');
  const metadata: Record<string, string> = {};
  res.headers.forEach((value, name) => { if (name.startsWith(META)) metadata[name.slice(META.length)] = value; });
  return { key, size: Number(res.headers.get('content-length') ?? 0), metadata };
}

/**
 * confirmMissing asks once more, 50 ms after a 404: Swift's object server can answer 404 for an object
 * that is being overwritten (its old file is unlinked between listing and opening), and the contract
 * promises readers the old or the new object. The cost falls only on reads of missing keys.
 */
async function confirmMissing(op: () => Promise<Response>): Promise<Response> {
  const first = await op();
  if (first.status !== 404) return first;
  await first.body?.cancel();
  await new Promise((r) => setTimeout(r, 50));
  return op();
}

function list(ctx: Ctx, prefix: string, after: string | undefined): AsyncIterable<ObjectInfo> {
  checkPrefix(prefix);
  return statInOrder(bankKeys(ctx, prefix, after), (k) => stat(ctx, k), isSwiftNotFound);
}

async function* bankKeys(ctx: Ctx, prefix: string, after: string | undefined): AsyncGenerator<string> {
  for await (const name of rawNames(ctx, ctx.prefix + prefix, after === undefined ? '' : ctx.prefix + after)) {
    const key = name.slice(ctx.prefix.length);
    // Intent markers and foreign objects in a shared container are not bank objects.
    if (KEY_RE.test(key)) yield key;
  }
}

async function* rawNames(ctx: Ctx, prefix: string, startMarker: string): AsyncGenerator<string> {
  let marker = startMarker;
  for (;;) {
    const query: Record<string, string> = { format: 'json', limit: String(PAGE), prefix };
    if (marker) query.marker = marker;
    const res = await request(ctx, { method: 'GET', query }, 'LIST', prefix || '/');
    if (res.status === 204) return;
    if (res.status !== 200) {
      await res.body?.cancel();
      throw statusError(res, 'LIST', prefix || '/');
    }
    const page = (await res.json()) as { name?: string }[];
    for (const o of page) if (o.name !== undefined) yield o.name;
    if (page.length < PAGE) return;
    marker = page.at(-1)?.name ?? '';
    if (!marker) throw new BankError('transient', 'Swift listing page ended without a name.');
  }
}

async function remove(ctx: Ctx, key: string): Promise<void> {
  checkKey(key);
  const res = await request(ctx, { method: 'DELETE', name: ctx.prefix + key }, 'DELETE', key);
  await res.body?.cancel();
  if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw statusError(res, 'DELETE', key);
}

async function ensureContainer(ctx: Ctx): Promise<void> {
  const res = await request(ctx, { method: 'PUT' }, 'PUT container', ctx.container);
  await res.body?.cancel();
  if (res.status !== 201 && res.status !== 202) throw statusError(res, 'PUT container', ctx.container);
}
