/**
 * The public plugin SDK. A plugin is data plus functions: a Protectable finds resources of one type and
 * their dependents; a ProtectionPlugin declares which types it protects, its capabilities and the JSON
 * Schemas of its options, restore parameters and saved info. Built-in plugins use only this module,
 * and a plugin never receives the bank or the database, only what its context hands it.
 */
import type { TSchema } from '@sinclair/typebox';

/** SDK_VERSION is the plugin interface version this build implements; plugins declare what they need. */
export const SDK_VERSION = 1;

/** A resource as Karbor names it: type, id, name and optional plugin-defined extra info. */
export interface Resource {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly extraInfo?: Readonly<Record<string, unknown>> | null;
}

export interface ProtectableContext {
  readonly projectId: string;
  /** Query parameters the caller passed (`?parameters=` on the Karbor API), already parsed. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** Protectable lists and describes resources of one type and names the resources each parent holds. */
export interface Protectable {
  readonly sdkVersion: number;
  readonly resourceType: string;
  /** Types whose instances can hold this type's instances (Karbor's parent resource types). */
  readonly parentTypes: readonly string[];
  list(ctx: ProtectableContext): Promise<readonly Resource[]>;
  /** show returns undefined when the resource does not exist or is not visible to the project. */
  show(ctx: ProtectableContext, id: string): Promise<Resource | undefined>;
  /** dependents returns the resources of this type that `parent` holds. */
  dependents(ctx: ProtectableContext, parent: Resource): Promise<readonly Resource[]>;
}

export interface Capabilities {
  readonly incremental: boolean;
  readonly granularRestore: boolean;
  readonly verify: boolean;
  readonly copy: boolean;
  readonly quiesce: boolean;
}

/** ProtectionPluginDescriptor is what a protection plugin declares; the registry checks it. */
export interface ProtectionPluginDescriptor {
  /** Namespaced, e.g. `hoard.io/directory`. */
  readonly name: string;
  readonly sdkVersion: number;
  /** Resource types protected; `*` means every registered type (the no-op plugin). */
  readonly resourceTypes: readonly string[];
  readonly capabilities: Capabilities;
  readonly schemas: {
    readonly options: TSchema;
    readonly restore: TSchema;
    readonly savedInfo: TSchema;
    readonly verify?: TSchema;
  };
  /**
   * restoreTargets lists the URL schemes of Karbor's `restore_target` this plugin can restore to instead
   * of in place (the directory plugin: `['sftp', 'ssh']`); `'*'` takes any target (a plugin that writes
   * nothing, such as the no-op one). Absent or empty: the plugin restores only in place.
   *
   * Why the engine, not each plugin, enforces it: a plugin that never looked at the target would restore
   * in place, over the very data the caller asked to leave alone. So a restore naming a target some
   * resource's plugin does not declare is refused when it is asked (400, nothing written), and a worker
   * whose plugin lacks the scheme (another build than the API's) fails that resource before any hook runs.
   */
  readonly restoreTargets?: readonly string[];
}

export const NO_CAPABILITIES: Capabilities = { incremental: false, granularRestore: false, verify: false, copy: false, quiesce: false };

/** The operations the engine runs over a resource graph. */
export type OperationKind = 'protect' | 'restore' | 'delete' | 'verify' | 'copy';

/** Karbor's four hooks, run per resource in the order ARCHITECTURE.md decision 2 fixes. */
export type HookName = 'prepareBegin' | 'prepareFinish' | 'main' | 'complete';
export const HOOKS: readonly HookName[] = ['prepareBegin', 'prepareFinish', 'main', 'complete'];

/** Json is what a plugin may persist: handles, metadata, saved info. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

export interface Progress {
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  readonly itemsDone?: number;
  readonly itemsTotal?: number;
}

/**
 * RestoreAuth is Karbor's `restore_auth` as the API accepted it: `{type: 'password', username, password}`
 * or `{type: 'ssh', username, private_key?, password?, passphrase?, host_key}`. It holds secrets, so a
 * plugin never puts any part of it in a reason, message, log or metadata, and never keeps it: the engine
 * deletes it when the restore ends.
 */
export type RestoreAuth = Readonly<Record<string, unknown>>;

/** RestoreTarget is where a restore was asked to write instead of in place, and with which credentials. */
export interface RestoreTarget {
  /** target is Karbor's `restore_target` as accepted (a URL whose scheme the plugin declared), e.g. `sftp://backup@db2:22`. */
  readonly target: string;
  /** auth is the restore's `restore_auth`, or null when the caller sent none. */
  readonly auth: RestoreAuth | null;
}

/** ConflictPolicy is what a restore does with an existing target: refuse, keep what is there, or replace it. */
export type ConflictPolicy = 'fail' | 'skip' | 'overwrite';

/**
 * DataHandle is a plugin's narrow door to its provider's bank: save a directory tree as a snapshot,
 * write a snapshot back, forget one. Progress of these calls flows into the hook's progress; the
 * repository itself (keys, packs, indexes) stays with the engine. Calls reject with a clear error when
 * the provider has no bank configured.
 */
export interface DataHandle {
  /** backupTree saves directory `path` as a new snapshot; `parent` (an earlier snapshot of it) makes it incremental. */
  /**
   * `exclude` leaves out paths matching any glob pattern (see util/globs: no slash matches a name at any
   * depth, a slash anchors at the top, a trailing slash matches directories only); `oneFileSystem`
   * keeps mount points below `path` as empty directories.
   */
  backupTree(path: string, opts?: { readonly parent?: string; readonly exclude?: readonly string[]; readonly oneFileSystem?: boolean }): Promise<{ readonly snapshot: string; readonly files: number; readonly bytes: number }>;
  /** restoreTree writes a snapshot's tree into directory `target` (created when missing) under the conflict policy. */
  /** `include` (granular restore) writes only paths matching a pattern, with the directories leading to them. */
  restoreTree(snapshot: string, target: string, opts: { readonly conflict: ConflictPolicy; readonly include?: readonly string[] }): Promise<{ readonly files: number; readonly bytes: number }>;
  /** forget removes a snapshot; forgetting one that is already gone succeeds. Space is reclaimed by a later prune. */
  forget(snapshot: string): Promise<void>;
  /**
   * verifyTree reads back every byte of a snapshot's tree and authenticates it, writing nothing; it
   * names each file (path inside the tree) whose data is missing or damaged instead of stopping at the first.
   */
  verifyTree(snapshot: string): Promise<{ readonly files: number; readonly bytes: number; readonly damaged: readonly string[] }>;
  /**
   * copyTree (copy operations only) copies a snapshot's tree from the bank of the checkpoint being
   * copied into this operation's bank, as a new snapshot there. `parent` names an earlier copy of the same
   * source (its source snapshot and the snapshot it became), which makes the copy incremental; a
   * parent that is not such a pair is ignored. Every byte is authenticated as it is read.
   */
  copyTree(snapshot: string, opts?: { readonly parent?: { readonly source: string; readonly copy: string } }): Promise<{ readonly snapshot: string; readonly files: number; readonly bytes: number }>;
}

/**
 * HookContext is everything a hook may touch: its resource, merged parameters (`Type` then `Type#id`),
 * this resource's metadata in the checkpoint, the restore's shared old→new id map, progress reporting
 * an abort signal (cancellation and per-hook timeouts) and a narrow data handle. Never the bank or the database.
 */
export interface HookContext {
  readonly operation: { readonly id: string; readonly kind: OperationKind; readonly checkpointId: string; readonly projectId: string };
  readonly resource: Resource;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  /**
   * metadata is this resource's plugin-defined record in the checkpoint (written by protect, read by the
   * others); `previous` reads its record in the newest earlier `available` checkpoint of the same plan
   * and provider (undefined when there is none): what an incremental protect starts from.
   */
  readonly metadata: {
    get(): Promise<Json | undefined>;
    set(value: Json): Promise<void>;
    previous(): Promise<Json | undefined>;
    /** source (copy operations only) reads this resource's record in the checkpoint being copied. */
    source(): Promise<Json | undefined>;
  };
  /** newResources maps original resource ids to restored ones; shared by every resource of a restore. */
  readonly newResources: Map<string, string>;
  /** data reaches the provider's bank through DataHandle only. */
  readonly data: DataHandle;
  progress(p: Progress): void;
  /** setStatus records a restore/verify per-resource status and reason (Karbor's resources_status). */
  setStatus(status: string, reason?: string): void;
  /**
   * restoreTarget (restore operations) answers where the caller asked this restore to write and with
   * which credentials, or undefined when it restores in place (and for every other kind). Karbor hands
   * its restore hooks the Restore object for the same reason. It is a call, not a field, because the
   * credentials live in the database only while the restore runs (the worker may be another process
   * than the API) and are read only by a hook that asks; a context that gets logged holds none.
   */
  restoreTarget?(): Promise<RestoreTarget | undefined>;
}

/** HookResult: nothing when the hook finished its work, or a handle to long work the engine must poll. */
export type HookResult = void | { readonly handle: Json };

export type PollResult =
  | { readonly state: 'running'; readonly progress?: Progress }
  | { readonly state: 'done' }
  | { readonly state: 'failed'; readonly reason: string };

/**
 * ResourceOperation is one plugin's behaviour for one operation kind on one resource type.
 * - A hook that starts long external work returns `{handle}`; the engine persists it, calls `poll`
 *   with backoff until done, and after a restart polls the same handle instead of running the hook again.
 * - `resumable` names hooks that are safe to run again from the start after a crash (idempotent);
 *   a hook found interrupted that is neither resumable nor polled ends the operation in error.
 * - `compensate` undoes what prepareBegin did (unquiesce, resume a flushed database) and runs when the
 *   operation fails after this resource's prepareBegin succeeded and before its complete did, also after
 *   a crash. It must be idempotent.
 */
export interface ResourceOperation {
  prepareBegin?(ctx: HookContext): Promise<HookResult>;
  prepareFinish?(ctx: HookContext): Promise<HookResult>;
  main?(ctx: HookContext): Promise<HookResult>;
  complete?(ctx: HookContext): Promise<HookResult>;
  poll?(ctx: HookContext, hook: HookName, handle: Json): Promise<PollResult>;
  compensate?(ctx: HookContext): Promise<void>;
  readonly resumable?: readonly HookName[];
}

/** ProtectionPlugin is a descriptor plus behaviour: the operation to run for a kind and resource type. */
export interface ProtectionPlugin extends ProtectionPluginDescriptor {
  operation(kind: OperationKind, resourceType: string): ResourceOperation | undefined;
  /**
   * checkRestoreTarget (plugins that declare restoreTargets) checks a target of a declared scheme and its
   * credentials when the restore is asked, before anything is written: it answers why they cannot work
   * (the request is refused with a 400), or undefined. It runs in the API process, must not connect
   * anywhere, and its answer must not quote the credentials.
   */
  checkRestoreTarget?(target: URL, auth: RestoreAuth | null): string | undefined;
}

/**
 * RetryLater is how a hook or poll says "this failed for a reason that will pass" (a busy backend, a
 * rate limit); the engine retries the hook with exponential backoff up to its retry budget, and a poll
 * simply polls again. `afterMs` asks for a minimum wait before the next attempt.
 */
export class RetryLater extends Error {
  readonly afterMs: number | undefined;
  constructor(message: string, options?: { afterMs?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryLater';
    this.afterMs = options?.afterMs;
  }
}

/**
 * Unrecoverable says that trying again cannot help (bad credentials, a resource that no longer exists);
 * the engine fails the resource at once with this message as its reason. Any other error is treated
 * the same way: only RetryLater is retried.
 */
export class Unrecoverable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Unrecoverable';
  }
}
