/**
 * Configuration: one optional file (YAML or JSON, `--config` or HOARD_CONFIG) plus HOARD_* environment
 * overrides. With neither, Hoard listens on 127.0.0.1:8799 with SQLite and a file-system bank under ./var.
 * Invalid configuration stops the process at start with a message naming the key, never later.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HoardError } from '../model/errors.js';

export type AuthStrategy = 'local' | 'noauth' | 'keystone';

export interface ProviderConfig {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Protection plugins by resource type; the first plugin registered for a type when omitted. */
  readonly plugins: readonly string[];
  readonly bank: BankConfig;
  readonly enabled: boolean;
}

/**
 * A provider's bank: a directory (`fs`), an S3 bucket or a Swift container, with an optional key prefix.
 * `passphrase` (or HOARD_BANK_PASSPHRASE) opens it; without one, the key file does (`<path>.key` for a
 * directory, `keyFile` or `<dataDir>/bank-<provider id>.key` for object stores), created on first use.
 * Either must be kept safe and backed up apart from the bank. Secrets may be written `env:NAME` to read
 * them from the environment instead of the file.
 */
export type BankConfig =
  | { readonly type: 'fs'; readonly path: string; readonly passphrase?: string }
  | {
    readonly type: 's3'; readonly bucket: string; readonly prefix: string; readonly endpoint?: string; readonly region?: string;
    readonly accessKeyId?: string; readonly secretAccessKey?: string; readonly forcePathStyle?: boolean;
    readonly keyFile: string; readonly passphrase?: string;
  }
  | {
    readonly type: 'swift'; readonly authUrl: string; readonly username: string; readonly password: string; readonly projectName: string;
    readonly userDomainId?: string; readonly projectDomainId?: string; readonly region?: string; readonly container: string; readonly prefix: string;
    readonly keyFile: string; readonly passphrase?: string;
  };

/** bankLabel names a bank in messages: its directory or its object-store URL-ish location (never a secret). */
export function bankLabel(b: BankConfig): string {
  switch (b.type) {
    case 'fs': return b.path;
    case 's3': return `s3://${b.bucket}/${b.prefix}`;
    case 'swift': return `swift://${b.container}/${b.prefix}`;
  }
}

/** bankKeyFile is where a bank's key file lives when no passphrase is configured. */
export function bankKeyFile(b: BankConfig): string {
  return b.type === 'fs' ? `${b.path}.key` : b.keyFile;
}

export interface Config {
  readonly listen: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  /** A postgres:// URL selects PostgreSQL; otherwise SQLite at `<dataDir>/hoard.db` (or this path). */
  readonly database: { readonly url: string };
  readonly auth: {
    readonly strategy: AuthStrategy;
    readonly keystone: { readonly url: string; readonly cacheSeconds: number; readonly adminRoles: readonly string[] };
  };
  readonly api: { readonly maxLimit: number; readonly bodyLimitBytes: number; readonly publicUrl: string };
  readonly providers: readonly ProviderConfig[];
  readonly protectables: { readonly directory: { readonly roots: readonly string[] } };
  readonly quotas: { readonly plans: number; readonly checkpoints: number };
  readonly triggers: { readonly minWindow: number; readonly maxWindow: number; readonly minInterval: number; readonly defaultFormat: 'calendar' | 'crontab' };
  readonly services: { readonly heartbeatSeconds: number; readonly downAfterSeconds: number };
  readonly scheduler: SchedulerConfig;
}

/**
 * SchedulerConfig tunes the scheduler role (docs/scheduler.md, "Settings"); times are seconds. The role
 * turns it into the scheduler's options; every key is optional in the file.
 */
export interface SchedulerConfig {
  /** tickSeconds is the longest the loop sleeps between ticks; it wakes earlier for a run due sooner. */
  readonly tickSeconds: number;
  /** refreshSeconds is how often the schedulable operations are re-read and stale claims swept. */
  readonly refreshSeconds: number;
  /** jitter spreads runs due at the same instant: at most maxSeconds, and at most windowFraction of the trigger's window. */
  readonly jitter: { readonly maxSeconds: number; readonly windowFraction: number };
  /** misfire is the policy of operations whose operation_definition names none. */
  readonly misfire: 'run-once' | 'skip';
  /** batch is how many runs are claimed, fired and recorded together. */
  readonly batch: number;
  /** concurrency is how many checkpoint submissions run at once. */
  readonly concurrency: number;
  /** slotSeconds is how long a plan slot outlives a scheduler that died while starting a run. */
  readonly slotSeconds: number;
  /** staleClaimSeconds: a run still claimed after this long lost its scheduler and is reported abandoned. */
  readonly staleClaimSeconds: number;
}

export const DEFAULT_PROVIDER_ID = 'c8b3a1de-8f5e-4b56-9d1b-6f1f0e1a0b01';
export const NOOP_PROVIDER_ID = 'b766f37c-d011-4026-8228-28730d734a3f';

type Json = Record<string, unknown>;

export function defaultConfig(dataDir = 'var'): Config {
  const dir = resolve(dataDir);
  return {
    listen: { host: '127.0.0.1', port: 8799 },
    dataDir: dir,
    database: { url: '' },
    auth: { strategy: 'local', keystone: { url: '', cacheSeconds: 300, adminRoles: ['admin'] } },
    api: { maxLimit: 1000, bodyLimitBytes: 1024 * 1024, publicUrl: '' },
    providers: [
      {
        id: DEFAULT_PROVIDER_ID,
        name: 'Hoard File System Provider',
        description: 'Protects directories into the local file-system bank',
        plugins: ['hoard.io/directory'],
        bank: { type: 'fs', path: resolve(dir, 'bank') },
        enabled: true,
      },
      {
        id: NOOP_PROVIDER_ID,
        name: 'No-Op Provider',
        description: 'Accepts every resource type and stores nothing; for testing plans and schedules',
        plugins: ['hoard.io/noop'],
        bank: { type: 'fs', path: resolve(dir, 'bank-noop') },
        enabled: true,
      },
    ],
    protectables: { directory: { roots: [] } },
    quotas: { plans: 50, checkpoints: -1 },
    triggers: { minWindow: 900, maxWindow: 1800, minInterval: 3600, defaultFormat: 'calendar' },
    services: { heartbeatSeconds: 10, downAfterSeconds: 60 },
    scheduler: {
      tickSeconds: 1, refreshSeconds: 5, jitter: { maxSeconds: 300, windowFraction: 0.25 }, misfire: 'run-once',
      batch: 200, concurrency: 8, slotSeconds: 60, staleClaimSeconds: 300,
    },
  };
}

/** loadConfig reads the file (if any), applies HOARD_* overrides and checks the result. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const file = path ?? env.HOARD_CONFIG;
  const fromFile: Json = file ? readConfigFile(file) : {};
  const dataDir = str(env.HOARD_DATA_DIR) ?? str(fromFile.dataDir) ?? 'var';
  const base = defaultConfig(dataDir);
  const merged = mergeFile(base, fromFile, env);
  return validate(applyEnv(merged, env));
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HoardError('bad_request', `Cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HoardError('bad_request', `Configuration file ${file} must hold a mapping at the top level`);
  }
  return parsed as Json;
}

function mergeFile(base: Config, f: Json, env: NodeJS.ProcessEnv): Config {
  const obj = (k: string): Json => (isObj(f[k]) ? (f[k] as Json) : {});
  const auth = obj('auth');
  const keystone = isObj(auth.keystone) ? (auth.keystone as Json) : {};
  const providers = Array.isArray(f.providers)
    ? (f.providers as Json[]).map((p, i) => providerFrom(p, i, base.dataDir, env))
    : base.providers;
  const directory = isObj(obj('protectables').directory) ? (obj('protectables').directory as Json) : {};
  return {
    listen: { ...base.listen, ...pick(obj('listen'), ['host', 'port']) },
    dataDir: base.dataDir,
    database: { url: str(obj('database').url) ?? base.database.url },
    auth: {
      strategy: (str(auth.strategy) as AuthStrategy | undefined) ?? base.auth.strategy,
      keystone: { ...base.auth.keystone, ...pick(keystone, ['url', 'cacheSeconds', 'adminRoles']) },
    },
    api: { ...base.api, ...pick(obj('api'), ['maxLimit', 'bodyLimitBytes', 'publicUrl']) },
    providers,
    protectables: { directory: { roots: Array.isArray(directory.roots) ? directory.roots.map(String) : base.protectables.directory.roots } },
    quotas: { ...base.quotas, ...pick(obj('quotas'), ['plans', 'checkpoints']) },
    triggers: { ...base.triggers, ...pick(obj('triggers'), ['minWindow', 'maxWindow', 'minInterval', 'defaultFormat']) },
    services: { ...base.services, ...pick(obj('services'), ['heartbeatSeconds', 'downAfterSeconds']) },
    scheduler: schedulerFrom(f.scheduler, base.scheduler),
  } as Config;
}

/** SCHEDULER_LIMITS bound each scheduler setting: [min, max, integer?]; a value outside is refused naming its key. */
const SCHEDULER_LIMITS = {
  tickSeconds: [0.05, 60, false], refreshSeconds: [0.1, 3600, false], batch: [1, 10_000, true], concurrency: [1, 256, true],
  slotSeconds: [1, 3600, false], staleClaimSeconds: [60, 86_400, false],
  'jitter.maxSeconds': [0, 86_400, false], 'jitter.windowFraction': [0, 0.9, false],
} as const;

/**
 * schedulerFrom reads and checks the `scheduler` section. Unlike older sections it refuses unknown keys:
 * a misspelt tuning key would otherwise be ignored without a word.
 */
function schedulerFrom(v: unknown, base: SchedulerConfig): SchedulerConfig {
  const fail = (key: string, why: string): never => {
    throw new HoardError('bad_request', `Invalid configuration: ${key ? `scheduler.${key}` : 'scheduler'} ${why}`);
  };
  if (v === undefined || v === null) return base;
  if (!isObj(v)) return fail('', 'must be a mapping of scheduler settings');
  const jitter = v.jitter === undefined ? {} : isObj(v.jitter) ? v.jitter : fail('jitter', 'must be a mapping with maxSeconds and windowFraction');
  const keys = [...Object.keys(v).filter((k) => k !== 'jitter'), ...Object.keys(jitter).map((k) => `jitter.${k}`)];
  for (const key of keys) {
    if (key !== 'misfire' && !(key in SCHEDULER_LIMITS)) fail(key, `is not a scheduler setting; the settings are ${[...Object.keys(SCHEDULER_LIMITS), 'misfire'].join(', ')}`);
  }
  const num = (key: keyof typeof SCHEDULER_LIMITS, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const [min, max, integer] = SCHEDULER_LIMITS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      fail(key, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return value as number;
  };
  if (v.misfire !== undefined && v.misfire !== 'run-once' && v.misfire !== 'skip') fail('misfire', `must be run-once or skip (got ${JSON.stringify(v.misfire)})`);
  return {
    tickSeconds: num('tickSeconds', v.tickSeconds, base.tickSeconds),
    refreshSeconds: num('refreshSeconds', v.refreshSeconds, base.refreshSeconds),
    jitter: { maxSeconds: num('jitter.maxSeconds', jitter.maxSeconds, base.jitter.maxSeconds), windowFraction: num('jitter.windowFraction', jitter.windowFraction, base.jitter.windowFraction) },
    misfire: (v.misfire as SchedulerConfig['misfire'] | undefined) ?? base.misfire,
    batch: num('batch', v.batch, base.batch),
    concurrency: num('concurrency', v.concurrency, base.concurrency),
    slotSeconds: num('slotSeconds', v.slotSeconds, base.slotSeconds),
    staleClaimSeconds: num('staleClaimSeconds', v.staleClaimSeconds, base.staleClaimSeconds),
  };
}

function providerFrom(p: Json, i: number, dataDir: string, env: NodeJS.ProcessEnv): ProviderConfig {
  if (!isObj(p)) throw new HoardError('bad_request', `providers[${i}] must be a mapping`);
  const bank = isObj(p.bank) ? (p.bank as Json) : {};
  return {
    id: String(p.id ?? ''),
    name: String(p.name ?? ''),
    description: String(p.description ?? ''),
    plugins: Array.isArray(p.plugins) ? p.plugins.map(String) : [],
    bank: bankFrom(bank, i, String(p.id ?? ''), dataDir, env),
    enabled: p.enabled !== false,
  };
}

function bankFrom(b: Json, i: number, providerId: string, dataDir: string, env: NodeJS.ProcessEnv): BankConfig {
  const key = (k: string) => `providers[${i}].bank.${k}`;
  const need = (k: string): string => {
    const v = secretOrStr(b[k], key(k), env);
    if (v === undefined) throw new HoardError('bad_request', `Invalid configuration: ${key(k)} is required for a ${String(b.type)} bank`);
    return v;
  };
  const opt = (k: string): Record<string, string> => {
    const v = secretOrStr(b[k], key(k), env);
    return v === undefined ? {} : { [k]: v };
  };
  const passphrase = opt('passphrase');
  const type = b.type === undefined ? 'fs' : b.type;
  switch (type) {
    case 'fs':
      return { type: 'fs', path: resolve(dataDir, String(b.path ?? `bank-${i}`)), ...passphrase };
    case 's3':
      return {
        type: 's3', bucket: need('bucket'), prefix: str(b.prefix) ?? '', ...opt('endpoint'), ...opt('region'), ...opt('accessKeyId'), ...opt('secretAccessKey'),
        ...(b.forcePathStyle === undefined ? {} : { forcePathStyle: b.forcePathStyle === true }),
        keyFile: resolve(dataDir, str(b.keyFile) ?? `bank-${providerId || i}.key`), ...passphrase,
      };
    case 'swift':
      return {
        type: 'swift', authUrl: need('authUrl'), username: need('username'), password: need('password'), projectName: need('projectName'),
        ...opt('userDomainId'), ...opt('projectDomainId'), ...opt('region'), container: need('container'), prefix: str(b.prefix) ?? '',
        keyFile: resolve(dataDir, str(b.keyFile) ?? `bank-${providerId || i}.key`), ...passphrase,
      };
    default:
      throw new HoardError('bad_request', `Invalid configuration: ${key('type')} must be fs, s3 or swift (got ${JSON.stringify(type)})`);
  }
}

/** secretOrStr reads a string setting; `env:NAME` takes it from the environment (and must be set). */
function secretOrStr(v: unknown, key: string, env: NodeJS.ProcessEnv): string | undefined {
  const s = str(v);
  if (s === undefined || !s.startsWith('env:')) return s;
  const name = s.slice(4);
  const value = env[name];
  if (value === undefined || value === '') throw new HoardError('bad_request', `Invalid configuration: ${key} names the environment variable ${name}, which is not set`);
  return value;
}

function applyEnv(c: Config, env: NodeJS.ProcessEnv): Config {
  const port = env.HOARD_LISTEN_PORT ?? env.HOARD_PORT;
  const roots = str(env.HOARD_DIRECTORY_ROOTS);
  const passphrase = str(env.HOARD_BANK_PASSPHRASE);
  return {
    ...c,
    // HOARD_BANK_PASSPHRASE keys every bank whose configuration names no passphrase.
    providers: passphrase ? c.providers.map((p) => (p.bank.passphrase ? p : { ...p, bank: { ...p.bank, passphrase } })) : c.providers,
    listen: { host: str(env.HOARD_LISTEN_HOST) ?? c.listen.host, port: port !== undefined && port !== '' ? Number(port) : c.listen.port },
    database: { url: str(env.HOARD_DATABASE_URL) ?? c.database.url },
    auth: {
      strategy: (str(env.HOARD_AUTH_STRATEGY) as AuthStrategy | undefined) ?? c.auth.strategy,
      keystone: { ...c.auth.keystone, url: str(env.HOARD_KEYSTONE_URL) ?? c.auth.keystone.url },
    },
    api: { ...c.api, publicUrl: str(env.HOARD_PUBLIC_URL) ?? c.api.publicUrl },
    protectables: { directory: { roots: roots ? roots.split(':').filter(Boolean) : c.protectables.directory.roots } },
  };
}

function validate(c: Config): Config {
  const fail = (key: string, why: string): never => {
    throw new HoardError('bad_request', `Invalid configuration: ${key} ${why}`);
  };
  if (!Number.isInteger(c.listen.port) || c.listen.port < 0 || c.listen.port > 65535) fail('listen.port', 'must be a port number');
  if (!['local', 'noauth', 'keystone'].includes(c.auth.strategy)) fail('auth.strategy', 'must be local, noauth or keystone');
  if (c.auth.strategy === 'keystone' && !c.auth.keystone.url) fail('auth.keystone.url', 'is required with the keystone strategy');
  if (c.database.url && !/^(postgres|postgresql):\/\//.test(c.database.url) && !c.database.url.startsWith('sqlite:')) {
    fail('database.url', 'must be a postgres:// URL or sqlite:<path>');
  }
  if (!Number.isInteger(c.api.maxLimit) || c.api.maxLimit < 1) fail('api.maxLimit', 'must be a positive integer');
  const ids = new Set<string>();
  c.providers.forEach((p, i) => {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(p.id)) fail(`providers[${i}].id`, 'must be a UUID');
    if (ids.has(p.id)) fail(`providers[${i}].id`, 'is used twice');
    ids.add(p.id);
    if (!p.name.trim()) fail(`providers[${i}].name`, 'must not be empty');
  });
  const t = c.triggers;
  if (!(t.minWindow > 0 && t.minWindow <= t.maxWindow)) fail('triggers.minWindow', 'must be positive and not above maxWindow');
  if (!(t.minInterval > 0)) fail('triggers.minInterval', 'must be positive');
  if (t.defaultFormat !== 'calendar' && t.defaultFormat !== 'crontab') fail('triggers.defaultFormat', 'must be calendar or crontab');
  return c;
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function pick(o: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
