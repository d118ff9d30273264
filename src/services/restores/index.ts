/**
 * Restores bring a checkpoint's data back. Listing and showing read the restore table; a restore request
 * is validated in full (provider, parameters, restore_auth's shape, checkpoint visibility and state, and
 * in the engine the restore_target against every resource's plugin) and then submitted to the
 * protection engine, which writes the `in_progress` row and its journaled operation in one transaction,
 * so no restore is ever left `in_progress` behind an error, and a bad request writes nothing.
 *
 * `restore_auth`, given with a `restore_target`, is kept in its own table (restore_credentials) from
 * that transaction until the one that ends the restore, for the worker that runs it (maybe another
 * process); it is never returned, logged or written to an operation log. Without a target it
 * authenticates nothing and is not kept at all.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { restores, type CheckpointRecord, type RestoreRecord } from '../../store/index.js';
import { isUuid } from '../../util/ids.js';
import { visibleCheckpoint } from '../checkpoints/index.js';
import type { Engine, OperationProgress } from '../../engine/index.js';
import type { ServiceDeps } from '../context.js';
import { checkParameters, type ParameterMap } from '../parameters.js';
import { eq, toPageQuery, withMarker } from '../paging.js';
import type { Provider, ProviderService } from '../providers/index.js';
import { checkRestoreAuth, type RestoreAuthInput } from './auth.js';

export interface RestoreInput {
  readonly provider_id: string;
  readonly checkpoint_id: string;
  readonly restore_target?: string | null;
  /** restore_auth: credentials for the target; see the module comment for how long they are kept. */
  readonly restore_auth?: RestoreAuthInput | null;
  readonly parameters: ParameterMap;
}

export interface RestoreService {
  create(caller: Caller, input: RestoreInput): Promise<RestoreRecord>;
  list(caller: Caller, q: ListQuery): Promise<RestoreRecord[]>;
  get(caller: Caller, id: string): Promise<RestoreRecord>;
  /** progress is the restore operation's status, reason and progress. */
  progress(caller: Caller, id: string): Promise<OperationProgress | undefined>;
}

export const RESTORE_FILTERS = ['status', 'project_id'] as const;

/**
 * requestedProvider resolves a provider named in a request body: like plan create, an unknown one is a
 * bad request (400), not a missing URL resource.
 */
export function requestedProvider(providers: ProviderService, id: string): Provider {
  const p = isUuid(id) ? providers.find(id) : undefined;
  if (!p) throw new HoardError('provider_not_found_in_request', `The provider ${id} could not be found.`);
  return p;
}

/** usableCheckpoint checks what restore and verify both need: a visible checkpoint that is `available`. */
export async function usableCheckpoint(deps: ServiceDeps, caller: Caller, providerId: string, id: string): Promise<CheckpointRecord> {
  const cp = await visibleCheckpoint(deps.store.db, caller, providerId, id);
  if (cp.status !== 'available') {
    throw new HoardError('invalid_state', `Checkpoint ${id} is ${cp.status}; only an available checkpoint can be used.`);
  }
  return cp;
}

export function restoreService(deps: ServiceDeps, providers: ProviderService, engine: Engine): RestoreService {
  const { store } = deps;
  const service: RestoreService = {
    async create(caller, input) {
      const provider = requestedProvider(providers, input.provider_id);
      const parameters = checkParameters(input.parameters, provider.extendedInfoSchema.restore_schema, 'restore');
      const restoreAuth = checkRestoreAuth(input.restore_auth);
      const checkpoint = await usableCheckpoint(deps, caller, provider.id, input.checkpoint_id);
      return engine.restore({ projectId: caller.projectId, provider, checkpoint, restoreTarget: input.restore_target ?? null, restoreAuth, parameters });
    },

    list(caller, q) {
      const page = toPageQuery(caller, q, { status: eq('status') });
      return withMarker(q.marker, () => restores.listRestores(store.db, page));
    },

    async get(caller, id) {
      if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid restore id ${id}: a restore id is a UUID.`);
      const r = await restores.getRestore(store.db, id);
      // Another project's restore is reported exactly like a missing one, as Karbor does.
      if (!r || !canSee(caller, r.projectId)) throw notFound('restore', id);
      return r;
    },

    async progress(caller, id) {
      await service.get(caller, id);
      return engine.progress({ restoreId: id });
    },
  };
  return service;
}
