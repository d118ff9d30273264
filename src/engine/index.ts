/**
 * The protection engine: a durable workflow over a plan's resource graph. Services submit operations
 * (protect, restore, delete); each submission is one transaction that creates the subject row in its
 * transient state together with a journaled operation. Workers (createWorker, run by the protection
 * role) claim operations under a lease and run Karbor's four hooks per resource in Karbor's order.
 *
 * Invariants: every submitted operation reaches an end state (`available`|`error`, `success`|`fail`,
 * `deleted`|`error-deleting`) even across crashes, because the journal says where it was; a hook is never
 * re-run after a crash unless its plugin declared it resumable, and a persisted poll handle is polled,
 * not re-created; a prepareBegin that was undone is never undone twice.
 */
import { HoardError } from '../model/errors.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { CheckpointRecord, PlanRecord, RestoreRecord, Store, VerificationRecord } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import { storedTime } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { buildGraph, deserializeGraph, serializeGraph } from './graph/index.js';
import { resolvePlugins, type ParameterMap } from './operations/model.js';
import { checkTarget } from './operations/restore-target.js';
import type { RestoreAuth } from '../plugins/sdk/index.js';
import { operationProgress, type OperationProgress } from './operations/progress.js';
import { planResource, submitCopy, submitDelete, submitProtect, submitRestore, submitVerify } from './operations/submit.js';

export { createWorker, type Worker, type WorkerDeps } from './worker.js';
export { DEFAULT_ENGINE_OPTIONS, engineOptions, type EngineOptions } from './options.js';
export { providerBanks, type BankSpec, type ProviderBanks } from './bank-data.js';
export { databaseSink, type CheckpointRecordSink, type CheckpointManifest, type ResourceRecord } from './sink.js';
export type { OperationProgress, ResourceProgress } from './operations/progress.js';
// User cancellation (cancel.ts): the API records a request, the worker holding the operation honours it.
export { cancelOperation, cancelReason, type CancelAnswer, type CancelRequest, type CancelTarget } from './operations/cancel.js';

/** ProviderRef is what the engine needs of a provider: its id and its plugins, in order. */
export interface ProviderRef { readonly id: string; readonly plugins: readonly string[] }

/** ProtectRequest is a validated checkpoint creation. */
export interface ProtectRequest {
  readonly projectId: string;
  readonly provider: ProviderRef;
  readonly plan: Pick<PlanRecord, 'id' | 'name' | 'providerId' | 'parameters' | 'resources'>;
  readonly extraInfo: Record<string, unknown> | null;
}

/**
 * RestoreRequest is a validated restore of an `available` checkpoint. `restoreTarget` (a URL; null or
 * blank: in place) must be declared by every resource's plugin (restore-target.ts); `restoreAuth` is
 * kept, apart from the restore row, only while the restore runs and only when there is a target.
 */
export interface RestoreRequest {
  readonly projectId: string;
  readonly provider: ProviderRef;
  readonly checkpoint: CheckpointRecord;
  readonly restoreTarget: string | null;
  readonly restoreAuth?: RestoreAuth | null;
  readonly parameters: ParameterMap;
}

/**
 * CopyRequest copies `available` checkpoints of one plan from their provider into another provider's
 * bank; each becomes a new checkpoint of the destination provider.
 */
export interface CopyRequest {
  readonly projectId: string;
  readonly source: ProviderRef;
  readonly destination: ProviderRef;
  readonly checkpoints: readonly CheckpointRecord[];
}

/** CopyPair names a copied checkpoint and its copy, as Karbor's copy response lists them. */
export interface CopyPair { readonly source: string; readonly copy: string }

/**
 * Engine is the services' door to the protection engine. protect and restore build and check
 * everything first (graph, cycle, a runnable plugin per resource) and write nothing when that fails;
 * deleteCheckpoint refuses (invalid_state) a checkpoint that stopped being deletable meanwhile.
 */
export interface Engine {
  protect(req: ProtectRequest): Promise<CheckpointRecord>;
  restore(req: RestoreRequest): Promise<RestoreRecord>;
  /** verify reads a checkpoint's data back through each resource's plugin, writing nothing. */
  verify(req: VerifyRequest): Promise<VerificationRecord>;
  deleteCheckpoint(provider: ProviderRef, checkpoint: CheckpointRecord): Promise<void>;
  /**
   * copy submits one copy operation per checkpoint, all or nothing: every graph must be copyable by the
   * source provider's plugins and restorable by the destination's, or nothing is written.
   */
  copy(req: CopyRequest): Promise<CopyPair[]>;
  progress(by: { checkpointId: string } | { restoreId: string } | { verificationId: string }): Promise<OperationProgress | undefined>;
}

/** VerifyRequest is a validated verification of an `available` checkpoint. */
export type VerifyRequest = Omit<RestoreRequest, 'restoreTarget' | 'restoreAuth'>;

/** EngineDeps: the metadata store, the plugins and the clock. */
export interface EngineDeps {
  readonly store: Store;
  readonly registry: PluginRegistry;
  readonly clock: Clock;
}

/** createEngine builds the Engine; it holds no state besides its dependencies. */
export function createEngine(deps: EngineDeps): Engine {
  return {
    protect: (req) => protect(deps, req),
    restore: (req) => restore(deps, req),
    verify: (req) => verify(deps, req),
    deleteCheckpoint: (provider, cp) => deleteCheckpoint(deps, provider, cp),
    copy: (req) => copy(deps, req),
    progress: (by) => operationProgress(deps.store, by),
  };
}

async function protect(deps: EngineDeps, req: ProtectRequest): Promise<CheckpointRecord> {
  const ctx = { projectId: req.projectId, parameters: {} };
  const graph = await buildGraph(req.plan.resources.map(planResource), (r) => deps.registry.dependents(ctx, r));
  const plugins = resolvePlugins(deps.registry, req.provider.plugins, graph, 'protect');
  const now = storedTime(deps.clock.now());
  const checkpoint: CheckpointRecord = {
    id: newId(), projectId: req.projectId, providerId: req.provider.id, planId: req.plan.id, status: 'protecting',
    protectionPlan: {
      id: req.plan.id, name: req.plan.name, providerId: req.plan.providerId,
      resources: req.plan.resources.map((r) => ({ id: r.id, type: r.type, name: r.name, extraInfo: r.extraInfo ? JSON.stringify(r.extraInfo) : null })),
    },
    resourceGraph: serializeGraph(graph), extraInfo: req.extraInfo, createdAt: now, updatedAt: now,
  };
  const subject = { projectId: req.projectId, providerId: req.provider.id, planId: req.plan.id, checkpointId: checkpoint.id };
  // A scheduled run's own log (services/scheduler) carries scheduled_operation_id and this checkpoint's id;
  // this log stays the protection's, so that filtering by the operation lists each run once.
  await submitProtect(deps.store, checkpoint, { kind: 'protect', subject, graph, plugins, parameters: req.plan.parameters, log: { type: 'protect', status: 'protecting' } });
  return checkpoint;
}

async function restore(deps: EngineDeps, req: RestoreRequest): Promise<RestoreRecord> {
  const graph = deserializeGraph(req.checkpoint.resourceGraph ?? '[{}, []]');
  const plugins = resolvePlugins(deps.registry, req.provider.plugins, graph, 'restore');
  const target = checkTarget(deps.registry, graph, plugins, req.restoreTarget, req.restoreAuth ?? null);
  const now = storedTime(deps.clock.now());
  const record: RestoreRecord = {
    id: newId(), projectId: req.projectId, providerId: req.provider.id, checkpointId: req.checkpoint.id, restoreTarget: target.target,
    parameters: req.parameters as RestoreRecord['parameters'], status: 'in_progress', resourcesStatus: {}, resourcesReason: {}, createdAt: now, updatedAt: now,
  };
  const subject = { projectId: req.projectId, providerId: req.provider.id, planId: req.checkpoint.planId, checkpointId: req.checkpoint.id, restoreId: record.id };
  await submitRestore(deps.store, record, { kind: 'restore', subject, graph, plugins, parameters: req.parameters, log: { type: 'restore', status: 'in_progress' } }, target.auth);
  return record;
}

async function verify(deps: EngineDeps, req: VerifyRequest): Promise<VerificationRecord> {
  const graph = deserializeGraph(req.checkpoint.resourceGraph ?? '[{}, []]');
  const plugins = resolvePlugins(deps.registry, req.provider.plugins, graph, 'verify');
  const now = storedTime(deps.clock.now());
  const record: VerificationRecord = {
    id: newId(), projectId: req.projectId, providerId: req.provider.id, checkpointId: req.checkpoint.id,
    parameters: req.parameters as VerificationRecord['parameters'], status: 'in_progress', resourcesStatus: {}, resourcesReason: {}, createdAt: now, updatedAt: now,
  };
  const subject = { projectId: req.projectId, providerId: req.provider.id, planId: req.checkpoint.planId, checkpointId: req.checkpoint.id, verificationId: record.id };
  await submitVerify(deps.store, record, { kind: 'verify', subject, graph, plugins, parameters: req.parameters, log: { type: 'verify', status: 'in_progress' } });
  return record;
}

async function copy(deps: EngineDeps, req: CopyRequest): Promise<CopyPair[]> {
  const now = storedTime(deps.clock.now());
  const copies = req.checkpoints.map((cp) => {
    const graph = deserializeGraph(cp.resourceGraph ?? '[{}, []]');
    const plugins = resolvePlugins(deps.registry, req.source.plugins, graph, 'copy');
    // A copy the destination could not restore or delete is no copy: refuse before writing anything.
    resolvePlugins(deps.registry, req.destination.plugins, graph, 'restore');
    const checkpoint: CheckpointRecord = {
      id: newId(), projectId: cp.projectId, providerId: req.destination.id, planId: cp.planId, status: 'wait_copying',
      protectionPlan: cp.protectionPlan, resourceGraph: cp.resourceGraph,
      extraInfo: {
        ...(cp.extraInfo ?? {}), created_by: 'copy', copy_status: 'wait_copying',
        copy_from: { provider_id: cp.providerId, checkpoint_id: cp.id, created_at: cp.createdAt },
      },
      createdAt: now, updatedAt: now,
    };
    const subject = { projectId: cp.projectId, providerId: req.destination.id, planId: cp.planId, checkpointId: checkpoint.id };
    return { checkpoint, submission: { kind: 'copy' as const, subject, graph, plugins, parameters: {}, log: { type: 'copy' as const, status: 'wait_copying' } } };
  });
  await submitCopy(deps.store, copies);
  return copies.map((c, i) => ({ source: req.checkpoints[i]!.id, copy: c.checkpoint.id }));
}

async function deleteCheckpoint(deps: EngineDeps, provider: ProviderRef, cp: CheckpointRecord): Promise<void> {
  const graph = deserializeGraph(cp.resourceGraph ?? '[{}, []]');
  const plugins = resolvePlugins(deps.registry, provider.plugins, graph, 'delete');
  const subject = { projectId: cp.projectId, providerId: provider.id, planId: cp.planId, checkpointId: cp.id };
  const id = await submitDelete(deps.store, { kind: 'delete', subject, graph, plugins, parameters: {}, log: { type: 'delete', status: 'deleting' } }, storedTime(deps.clock.now()));
  if (id === undefined) throw new HoardError('invalid_state', `Checkpoint ${cp.id} is no longer available or error (another request changed it); only an available or error checkpoint can be deleted.`);
}
