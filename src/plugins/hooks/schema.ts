/**
 * The hook spec as it appears in plan parameters: `{ pre: [...], post: [...] }`, each hook one of three
 * kinds (`local`, `sql`, `ssh`) with `onError`, `timeoutSeconds` and, for post hooks, `when`.
 *
 * Secrets (passwords, private keys, env values) are strings: `env:NAME` reads Hoard's environment,
 * `file:/path` reads a file on the Hoard host (trailing newline dropped), `inline:...` is a literal that
 * would otherwise look like a reference, and anything else is the literal value itself.
 */
import { Type, type Static } from '@sinclair/typebox';

const Secret = Type.String({ minLength: 1, description: 'a literal, or env:NAME, file:/path, inline:literal' });
const EnvName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });
const Env = Type.Record(EnvName, Secret, { description: 'environment variables; values may be secret references' });

const common = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'shown in logs and status' })),
  onError: Type.Optional(Type.Union([Type.Literal('fail'), Type.Literal('continue')], { default: 'fail' })),
  timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 300 })),
  when: Type.Optional(Type.Union([Type.Literal('always'), Type.Literal('onSuccess'), Type.Literal('onFailure')], {
    default: 'always', description: 'post hooks only: run after any outcome, only after success, or only after failure',
  })),
  maxOutputBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 65_536 })),
};

export const LocalHookSchema = Type.Object({
  kind: Type.Literal('local'),
  ...common,
  command: Type.Array(Type.String(), { minItems: 1, description: 'argv; with shell: true, a single shell command line' }),
  shell: Type.Optional(Type.Boolean({ default: false })),
  env: Type.Optional(Env),
  inheritEnv: Type.Optional(Type.Boolean({ default: false, description: "pass Hoard's whole environment, not only PATH, HOME, LANG, TZ" })),
  cwd: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false });

export const SqlConnectionSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  user: Type.String({ minLength: 1 }),
  password: Type.Optional(Secret),
  database: Type.Optional(Type.String({ minLength: 1 })),
  tls: Type.Optional(Type.Boolean({ default: false, description: 'TLS with certificate verification' })),
  tlsCa: Type.Optional(Secret),
}, { additionalProperties: false });

export const SqlHookSchema = Type.Object({
  kind: Type.Literal('sql'),
  ...common,
  driver: Type.Optional(Type.Union([Type.Literal('postgres'), Type.Literal('mysql')])),
  connection: Type.Optional(SqlConnectionSchema),
  statement: Type.String({ minLength: 1, description: 'one statement; no multi-statement strings' }),
  session: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_.-]{1,64}$',
    description: 'a pre hook opens (or reuses) this named connection and keeps it open; a post hook naming it runs on it, and the session closes after its last post hook',
  })),
}, { additionalProperties: false });

export const SshHostKeySchema = Type.Union([
  Type.Object({ fingerprint: Type.String({ pattern: '^SHA256:[A-Za-z0-9+/]{43}=?$' }) }, { additionalProperties: false }),
  Type.Object({ knownHosts: Type.String({ minLength: 1, description: 'known_hosts lines (plain or hashed)' }) }, { additionalProperties: false }),
]);

export const SshHookSchema = Type.Object({
  kind: Type.Literal('ssh'),
  ...common,
  host: Type.String({ minLength: 1 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, default: 22 })),
  user: Type.String({ minLength: 1 }),
  hostKey: SshHostKeySchema,
  auth: Type.Object({
    privateKey: Type.Optional(Secret),
    passphrase: Type.Optional(Secret),
    password: Type.Optional(Secret),
  }, { additionalProperties: false }),
  script: Type.String({ minLength: 1, description: 'uploaded to a private temp dir and run; start it with #! or set interpreter' }),
  interpreter: Type.Optional(Type.String({ minLength: 1 })),
  args: Type.Optional(Type.Array(Type.String())),
  env: Type.Optional(Env),
  tempDir: Type.Optional(Type.String({ pattern: '^/', default: '/tmp' })),
}, { additionalProperties: false });

export const HookSchema = Type.Union([LocalHookSchema, SqlHookSchema, SshHookSchema]);

/** HookSpecSchema is the plan parameter: hooks run in list order; post hooks run even after failures. */
export const HookSpecSchema = Type.Object({
  pre: Type.Optional(Type.Array(HookSchema)),
  post: Type.Optional(Type.Array(HookSchema)),
}, { additionalProperties: false });

export type LocalHook = Static<typeof LocalHookSchema>;
export type SqlHook = Static<typeof SqlHookSchema>;
export type SqlConnection = Static<typeof SqlConnectionSchema>;
export type SshHook = Static<typeof SshHookSchema>;
export type Hook = Static<typeof HookSchema>;
export type HookSpec = Static<typeof HookSpecSchema>;
