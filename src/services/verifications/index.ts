/**
 * Verifications check that a checkpoint's data can be read back: the engine runs each resource's
 * plugin verify (the directory plugin re-reads and authenticates every byte of its snapshot), with
 * per-resource status and reason, like a restore that writes nothing. Parameters are checked against
 * the provider's verify_schema: a type whose plugin cannot verify accepts no parameters at all.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { verifications, type VerificationRecord } from '../../store/index.js';
import { isUuid } from '../../util/ids.js';
import type { Engine, OperationProgress } from '../../engine/index.js';
import type { ServiceDeps } from '../context.js';
import { checkParameters, type ParameterMap } from '../parameters.js';
import { eq, toPageQuery, withMarker } from '../paging.js';
import type { ProviderService } from '../providers/index.js';
import { requestedProvider, usableCheckpoint } from '../restores/index.js';

export interface VerificationInput {
  readonly provider_id: string;
  readonly checkpoint_id: string;
  readonly parameters?: ParameterMap;
}

export interface VerificationService {
  create(caller: Caller, input: VerificationInput): Promise<VerificationRecord>;
  list(caller: Caller, q: ListQuery): Promise<VerificationRecord[]>;
  get(caller: Caller, id: string): Promise<VerificationRecord>;
  /** progress is the verify operation's status, reason and progress. */
  progress(caller: Caller, id: string): Promise<OperationProgress | undefined>;
}

export const VERIFICATION_FILTERS = ['status', 'project_id'] as const;

export function verificationService(deps: ServiceDeps, providers: ProviderService, engine: Engine): VerificationService {
  const { store } = deps;
  const service: VerificationService = {
    async create(caller, input) {
      const provider = requestedProvider(providers, input.provider_id);
      const parameters = checkParameters(input.parameters ?? {}, provider.extendedInfoSchema.verify_schema, 'verify');
      const checkpoint = await usableCheckpoint(deps, caller, provider.id, input.checkpoint_id);
      return engine.verify({ projectId: caller.projectId, provider, checkpoint, parameters });
    },

    list(caller, q) {
      const page = toPageQuery(caller, q, { status: eq('status') });
      return withMarker(q.marker, () => verifications.listVerifications(store.db, page));
    },

    async get(caller, id) {
      if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid verification id ${id}: a verification id is a UUID.`);
      const v = await verifications.getVerification(store.db, id);
      if (!v || !canSee(caller, v.projectId)) throw notFound('verification', id);
      return v;
    },

    async progress(caller, id) {
      await service.get(caller, id);
      return engine.progress({ verificationId: id });
    },
  };
  return service;
}
