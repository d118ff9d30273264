import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import {
  type BankBackend, type IntentStore, KEY_RE, type ObjectInfo, putIfAbsentByIntent, checkKey, checkMetadata, checkPrefix, checkRange, rangePastEnd, statInOrder,
} from '../backend.js';
import { type S3Failure, classify, isS3Conflict, isS3NotFound, isS3Permanent, nameOf, statusOf } from './errors.js';

/** S3BackendOptions configures s3Backend; give either a ready `client` or endpoint, region and credentials. */
export interface S3BackendOptions {
  readonly bucket: string;
  /** prefix puts the bank under a "folder" of the bucket; `/` is appended when missing. */
  readonly prefix?: string;
  readonly client?: S3Client;
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** forcePathStyle addresses buckets as /bucket (default true: Swift's s3api and most S3 clones need it). */
  readonly forcePathStyle?: boolean;
  /** conditionalWrites: `native` sends If-None-Match: * (AWS S3 since 2024); `intents` uses the protocol in
   * backend.ts (putIfAbsentByIntent); `auto` (default) tries native and switches to intents on 501 NotImplemented. */
  readonly conditionalWrites?: 'auto' | 'native' | 'intents';
}

/** S3Backend is a BankBackend on one S3 bucket, plus bucket creation for setup tools and tests. */
export interface S3Backend extends BankBackend {
  /** ensureBucket creates the bucket if it does not exist; idempotent. */
  ensureBucket(): Promise<void>;
}

interface Ctx {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  mode: 'auto' | 'native' | 'intents';
}

/**
 * s3Backend stores a bank in an S3 bucket, one S3 object per bank object, metadata as x-amz-meta-*.
 * S3 PUTs are atomic per object. `ifAbsent` is exact with native conditional writes, and with the
 * intent protocol under its stated assumptions. list() issues one HEAD per object for its metadata.
 * The SDK's own retries are off (maxAttempts 1) unless a client is passed: retrying belongs to retry().
 * Every error is a classified BankError whose cause is the SDK error; credentials are never in messages.
 */
export function s3Backend(opts: S3BackendOptions): S3Backend {
  const ctx: Ctx = { client: opts.client ?? makeClient(opts), bucket: opts.bucket, prefix: normalizePrefix(opts.prefix), mode: opts.conditionalWrites ?? 'auto' };
  return {
    put: (key, data, o) => put(ctx, key, data, o ?? {}),
    get: (key, range) => get(ctx, key, range),
    stat: (key) => stat(ctx, key),
    list: (prefix, o) => list(ctx, prefix, o?.after),
    remove: (key) => remove(ctx, key),
    ensureBucket: () => ensureBucket(ctx),
    isNotFound: isS3NotFound,
    isConflict: isS3Conflict,
    isPermanent: isS3Permanent,
  };
}

function makeClient(opts: S3BackendOptions): S3Client {
  return new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials,
    forcePathStyle: opts.forcePathStyle ?? true,
    maxAttempts: 1,
    // Checksum trailers (aws-chunked uploads) are newer than many S3-compatible servers, Swift's included.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

async function send<T>(what: string, key: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw classify(err, key, what);
  }
}

async function put(ctx: Ctx, key: string, data: Uint8Array, o: { metadata?: Record<string, string>; ifAbsent?: boolean }): Promise<void> {
  checkKey(key);
  checkMetadata(o.metadata);
  const write = (ifNoneMatch?: string) => ctx.client.send(new PutObjectCommand({
    Bucket: ctx.bucket, Key: ctx.prefix + key, Body: data, ContentLength: data.length, Metadata: o.metadata, IfNoneMatch: ifNoneMatch,
    ContentType: 'application/octet-stream',
  }));
  if (!o.ifAbsent) {
    await send('PUT', key, () => write());
    return;
  }
  if (ctx.mode !== 'intents') {
    try {
      await send('PUT', key, () => write('*'));
      return;
    } catch (err) {
      if (ctx.mode === 'native' || ((err as Error).cause as S3Failure | undefined)?.name !== 'NotImplemented') throw err;
      ctx.mode = 'intents';
    }
  }
  await putIfAbsentByIntent(intentStore(ctx), `${ctx.prefix}~ifabsent/${key}/`, key, async () => { await send('PUT', key, () => write()); });
}

function intentStore(ctx: Ctx): IntentStore {
  return {
    exists: (key) => stat(ctx, key).then(() => true, (err: unknown) => (isS3NotFound(err) ? false : Promise.reject(err))),
    putMarker: (name) => send('PUT', name, () => ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: name, Body: new Uint8Array(0) }))).then(() => undefined),
    deleteMarker: (name) => send('DELETE', name, () => ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: name }))).then(() => undefined),
    listMarkers: async (prefix) => {
      const out: string[] = [];
      for await (const name of rawNames(ctx, prefix, undefined)) out.push(name);
      return out;
    },
  };
}

async function get(ctx: Ctx, key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
  checkKey(key);
  checkRange(range);
  if (range?.length === 0) return emptyRange(ctx, key, range.offset);
  const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
  try {
    return await confirmMissing(async () => {
      const res = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, Range }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    });
  } catch (err) {
    // 416 means the range starts at or past the end; at the end exactly, the answer is no bytes.
    if (range && nameOf(err) === 'InvalidRange') return emptyRange(ctx, key, range.offset);
    throw classify(err, key, 'GET');
  }
}

/**
 * confirmMissing asks once more, 50 ms after a 404: Swift's object server can answer 404 for an object
 * that is being overwritten (its old file is unlinked between listing and opening), and the contract
 * promises readers the old or the new object. The cost falls only on reads of missing keys.
 */
async function confirmMissing<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (statusOf(err) !== 404 || nameOf(err) === 'NoSuchBucket') throw err;
    await new Promise((r) => setTimeout(r, 50));
    return op();
  }
}

async function emptyRange(ctx: Ctx, key: string, offset: number): Promise<Uint8Array> {
  const { size } = await stat(ctx, key);
  if (offset > size) throw rangePastEnd(key, offset, size);
  return new Uint8Array(0);
}

async function stat(ctx: Ctx, key: string): Promise<ObjectInfo> {
  checkKey(key);
  const res = await send('HEAD', key, () => confirmMissing(() => ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }))));
  return { key, size: res.ContentLength ?? 0, metadata: { ...(res.Metadata ?? {}) } };
}

function list(ctx: Ctx, prefix: string, after: string | undefined): AsyncIterable<ObjectInfo> {
  checkPrefix(prefix);
  return statInOrder(bankKeys(ctx, prefix, after), (k) => stat(ctx, k), isS3NotFound);
}

async function* bankKeys(ctx: Ctx, prefix: string, after: string | undefined): AsyncGenerator<string> {
  for await (const name of rawNames(ctx, ctx.prefix + prefix, after === undefined ? undefined : ctx.prefix + after)) {
    const key = name.slice(ctx.prefix.length);
    // Intent markers and foreign objects in a shared bucket are not bank objects.
    if (KEY_RE.test(key)) yield key;
  }
}

async function* rawNames(ctx: Ctx, prefix: string, startAfter: string | undefined): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await send('LIST', prefix || '/', () => ctx.client.send(new ListObjectsV2Command({
      Bucket: ctx.bucket, Prefix: prefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token,
    })));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) yield o.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function remove(ctx: Ctx, key: string): Promise<void> {
  checkKey(key);
  try {
    await send('DELETE', key, () => ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key })));
  } catch (err) {
    if (!isS3NotFound(err)) throw err;
  }
}

async function ensureBucket(ctx: Ctx): Promise<void> {
  try {
    await ctx.client.send(new CreateBucketCommand({ Bucket: ctx.bucket }));
  } catch (err) {
    const name = nameOf(err);
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw classify(err, ctx.bucket, 'CREATE BUCKET');
  }
}
