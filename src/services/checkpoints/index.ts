/**
 * Checkpoints: one protection run of a plan, indexed per provider. Reads and state resets work on the
 * checkpoint index; taking and deleting a checkpoint are validated here and submitted to the protection
 * engine, which writes the `protecting` (or `deleting`) row and its journaled operation in one
 * transaction, so no checkpoint is ever left in a transient state behind an error. A provider whose
 * plugin has no behaviour yet is refused with 503 (engine_unavailable) before anything is written.
 */
import type { Kysely } from 'kysely';
import type { CopyPair, Engine, OperationProgress } from '../../engine/index.js';

export type { OperationProgress } from '../../engine/index.js';
import type { Caller, ListQuery } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { checkpoints, type CheckpointRecord, type CheckpointStatus, type Database, type PageQuery } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import { isUuid } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { eq, toPageQuery, withMarker } from '../paging.js';
import type { PlanService } from '../plans/index.js';
import type { ProviderService } from '../providers/index.js';
import { enforce } from '../quotas/limits.js';

export interface CheckpointInput {
  readonly plan_id: string;
  readonly extraInfo?: Record<string, unknown> | null;
}

/** CopyInput is Karbor's copy action: a plan, and parameters naming where to copy (Hoard's keys). */
export interface CopyInput {
  readonly plan_id: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** CopyOutcome is what a copy request started: the copied checkpoints and their new copies. */
export interface CopyOutcome {
  readonly destinationProviderId: string;
  readonly pairs: readonly CopyPair[];
}

export interface CheckpointService {
  /**
   * copy copies a plan's `available` checkpoints of provider `providerId` into the bank of
   * parameters.destination_provider_id (only parameters.checkpoint_id, when given), skipping those
   * that already have a copy there that is not failed or deleted.
   */
  copy(caller: Caller, providerId: string, input: CopyInput): Promise<CopyOutcome>;
  list(caller: Caller, providerId: string, q: ListQuery): Promise<CheckpointRecord[]>;
  get(caller: Caller, providerId: string, id: string): Promise<CheckpointRecord>;
  create(caller: Caller, providerId: string, input: CheckpointInput): Promise<CheckpointRecord>;
  remove(caller: Caller, providerId: string, id: string): Promise<void>;
  resetState(caller: Caller, providerId: string, id: string, state: 'available' | 'error'): Promise<void>;
  /** progress is the newest engine operation's status, reason and progress for a visible checkpoint. */
  progress(caller: Caller, providerId: string, id: string): Promise<OperationProgress | undefined>;
}

export const CHECKPOINT_FILTERS = ['plan_id', 'start_date', 'end_date', 'status', 'project_id'] as const;

/** Karbor allows a reset from these states only: never while the engine is working on the checkpoint. */
const RESETTABLE: readonly CheckpointStatus[] = ['available', 'error', 'copying', 'wait_copying'];
const DELETABLE: readonly CheckpointStatus[] = ['available', 'error'];
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** engineUnavailable is the answer for an operation the protection engine cannot run in this build. */
export function engineUnavailable(what: string): HoardError {
  return new HoardError('engine_unavailable', `${what} is not available in this build: the protection engine is not installed yet. The request was valid; nothing was changed.`);
}

/**
 * visibleCheckpoint loads a checkpoint of one provider for a caller: 400 for a malformed id, 404 when the
 * provider's index has no such checkpoint, 403 when it belongs to another project (Karbor's intent:
 * checkpoint ids are not secret, their contents are).
 */
export async function visibleCheckpoint(db: Kysely<Database>, caller: Caller, providerId: string, id: string): Promise<CheckpointRecord> {
  if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid checkpoint id ${id}: a checkpoint id is a UUID.`);
  const cp = await checkpoints.getCheckpoint(db, id);
  if (!cp || cp.providerId !== providerId) throw notFound('checkpoint', id);
  if (cp.projectId !== caller.projectId && !caller.isAdmin) {
    throw new HoardError('forbidden', `Checkpoint ${id} belongs to another project; only its project or an admin may use it.`);
  }
  return cp;
}

export function checkpointService(deps: ServiceDeps, providers: ProviderService, plans: PlanService, engine: Engine): CheckpointService {
  const { store, config, clock } = deps;

  const load = (caller: Caller, providerId: string, id: string): Promise<CheckpointRecord> => {
    providers.get(providerId);
    return visibleCheckpoint(store.db, caller, providerId, id);
  };

  return {
    list(caller, providerId, q) {
      providers.get(providerId);
      const page = listPage(caller, providerId, q);
      return withMarker(q.marker, () => checkpoints.listCheckpoints(store.db, page));
    },

    get: load,

    async create(caller, providerId, input) {
      const provider = providers.get(providerId);
      const plan = await plans.get(caller, input.plan_id);
      if (plan.providerId !== provider.id) {
        throw new HoardError('invalid_field', `Plan ${plan.id} belongs to provider ${plan.providerId}, not ${provider.id}; take its checkpoints under /providers/${plan.providerId}/checkpoints.`);
      }
      await enforce(store.db, config, caller.projectId, 'checkpoints', () => checkpoints.countCheckpoints(store.db, caller.projectId));
      // Karbor records who asked; the client's own extra info is kept beside it.
      const extraInfo = { created_by: 'manual', ...(input.extraInfo ?? {}) };
      return engine.protect({ projectId: caller.projectId, provider, plan, extraInfo });
    },

    async copy(caller, providerId, input) {
      const source = providers.get(providerId);
      const plan = await plans.get(caller, input.plan_id);
      const known = new Set(['destination_provider_id', 'checkpoint_id']);
      const unknown = Object.keys(input.parameters).filter((k) => !known.has(k));
      if (unknown.length > 0) throw new HoardError('invalid_field', `Unknown copy parameter ${unknown.join(', ')}; a copy takes destination_provider_id and, optionally, checkpoint_id.`);
      const to = input.parameters.destination_provider_id;
      if (typeof to !== 'string') throw new HoardError('invalid_field', 'A copy needs parameters.destination_provider_id: the provider whose bank receives the copies.');
      const destination = providers.get(to);
      if (destination.id === source.id) throw new HoardError('invalid_field', `The destination provider ${to} is the provider the checkpoints are in; copy them to another provider's bank.`);
      const only = input.parameters.checkpoint_id;
      if (only !== undefined && (typeof only !== 'string' || !isUuid(only))) throw new HoardError('invalid_field', `parameters.checkpoint_id must be a checkpoint id (a UUID), not ${JSON.stringify(only)}.`);
      let chosen: CheckpointRecord[];
      if (only !== undefined) {
        const cp = await load(caller, providerId, only);
        if (cp.planId !== plan.id) throw new HoardError('invalid_field', `Checkpoint ${only} belongs to plan ${cp.planId}, not ${plan.id}.`);
        if (cp.status !== 'available') throw new HoardError('invalid_state', `Checkpoint ${only} is ${cp.status}; only an available checkpoint can be copied.`);
        chosen = [cp];
      } else {
        chosen = (await checkpoints.listCheckpoints(store.db, {
          filters: [{ op: 'eq', column: 'provider_id', value: source.id }, { op: 'eq', column: 'plan_id', value: plan.id }, { op: 'eq', column: 'status', value: 'available' }],
          sort: [{ key: 'created_at', dir: 'asc' }], limit: 100_000,
        })).filter((cp) => cp.projectId === caller.projectId || caller.isAdmin);
      }
      const copied = await checkpoints.copiesOf(store.db, destination.id, plan.id, chosen.map((c) => c.id));
      const todo = chosen.filter((c) => !copied.has(c.id));
      if (todo.length > 0) {
        // Copies are checkpoints of the destination: they count against the checkpoint quota.
        await enforce(store.db, config, caller.projectId, 'checkpoints', async () => (await checkpoints.countCheckpoints(store.db, caller.projectId)) + todo.length - 1);
      }
      const pairs = todo.length > 0 ? await engine.copy({ projectId: caller.projectId, source, destination, checkpoints: todo }) : [];
      return { destinationProviderId: destination.id, pairs };
    },

    async remove(caller, providerId, id) {
      const cp = await load(caller, providerId, id);
      if (!DELETABLE.includes(cp.status)) {
        throw new HoardError('invalid_state', `Checkpoint ${id} is ${cp.status}; only an available or error checkpoint can be deleted.`);
      }
      if (cp.pinned) throw new HoardError('invalid_state', `Checkpoint ${id} is pinned; unpin it (hoard checkpoint unpin ${id}) before deleting it.`);
      await engine.deleteCheckpoint(providers.get(providerId), cp);
    },

    async progress(caller, providerId, id) {
      await load(caller, providerId, id);
      return engine.progress({ checkpointId: id });
    },

    async resetState(caller, providerId, id, state) {
      const cp = await load(caller, providerId, id);
      const refuse = (status: string) => new HoardError('invalid_state', `Checkpoint ${id} is ${status}; its state can be reset only from ${RESETTABLE.join(', ')}.`);
      if (!RESETTABLE.includes(cp.status)) throw refuse(cp.status);
      if (!(await checkpoints.setCheckpointStatus(store.db, id, RESETTABLE, state, storedTime(clock.now())))) {
        const now = await checkpoints.getCheckpoint(store.db, id);
        throw refuse(now?.status ?? 'gone');
      }
    },
  };
}

/** listPage is the checkpoint list query: the provider from the URL, the caller's scope, and the date range. */
function listPage(caller: Caller, providerId: string, q: ListQuery): PageQuery {
  const { plan_id: planId, start_date: start, end_date: end } = q.filters;
  if (planId !== undefined && !isUuid(planId)) throw new HoardError('invalid_filter', `plan_id ${JSON.stringify(planId)} is not a plan id (a UUID).`);
  const from = start === undefined ? undefined : parseDate('start_date', start);
  const to = end === undefined ? undefined : parseDate('end_date', end);
  if (from && to && from > to) throw new HoardError('invalid_filter', `start_date ${start} is after end_date ${end}.`);
  const page = toPageQuery(caller, q, {
    plan_id: eq('plan_id'),
    status: eq('status'),
    // created_at is ISO text, so a date prefix compares correctly in both engines.
    start_date: (v) => ({ op: 'gte', column: 'created_at', value: v }),
    // end_date is inclusive, as a user reading "until 2026-01-31" expects.
    end_date: () => ({ op: 'lt', column: 'created_at', value: nextDay(to!) }),
  });
  return { ...page, filters: [...page.filters, { op: 'eq', column: 'provider_id', value: providerId }] };
}

function parseDate(name: string, v: string): Date {
  const m = DATE_RE.exec(v);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches impossible dates.
  if (!d || d.toISOString().slice(0, 10) !== v) throw new HoardError('invalid_filter', `${name} must be a date written YYYY-MM-DD, not ${JSON.stringify(v.slice(0, 40))}.`);
  return d;
}

function nextDay(d: Date): string {
  return new Date(d.getTime() + 86_400_000).toISOString().slice(0, 10);
}
