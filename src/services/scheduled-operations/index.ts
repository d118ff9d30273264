/**
 * Scheduled operations: run a protect (optionally with retention) of one plan whenever a trigger fires.
 * The plan and the trigger must belong to the caller's project, because the operation later acts with
 * the rights of the user who created it. Karbor has no update for them; Hoard adds enable and disable.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { plans, scheduledOperations, triggers, type ScheduledOperationRecord } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import { isUuid, newId } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { contains, eq, toPageQuery, withMarker } from '../paging.js';

export const OPERATION_TYPES = ['protect', 'retention_protect'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export interface ScheduledOperationInput {
  readonly name: string;
  readonly description?: string | null;
  readonly operation_type: string;
  readonly trigger_id: string;
  readonly operation_definition: Readonly<Record<string, unknown>>;
}

export interface ScheduledOperationService {
  create(caller: Caller, input: ScheduledOperationInput): Promise<ScheduledOperationRecord>;
  list(caller: Caller, q: ListQuery): Promise<ScheduledOperationRecord[]>;
  get(caller: Caller, id: string): Promise<ScheduledOperationRecord>;
  remove(caller: Caller, id: string): Promise<void>;
  /** enabledForTrigger lists, across all projects, the operations to run when the trigger fires. */
  enabledForTrigger(triggerId: string): Promise<ScheduledOperationRecord[]>;
  /**
   * setEnabled pauses or resumes an operation (a Hoard extension: Karbor cannot update one). When the
   * state changes its updated_at moves, and the scheduler counts due runs from there, so re-enabling
   * never fires a catch-up run for the time it was disabled; asking for the state it already has changes
   * nothing. A disabled operation never fires.
   */
  setEnabled(caller: Caller, id: string, enabled: boolean): Promise<ScheduledOperationRecord>;
}

/** MISFIRE_POLICIES say what one run missed while no scheduler ran does (operation_definition.misfire). */
export const MISFIRE_POLICIES = ['run-once', 'skip'] as const;
/** MisfirePolicy is one of MISFIRE_POLICIES; `run-once` is the default (docs/scheduler.md says why). */
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];

export const SCHEDULED_OPERATION_FILTERS = ['name', 'operation_type', 'trigger_id', 'operation_definition'] as const;
export const SCHEDULED_OPERATION_SORT_KEYS = ['id', 'name', 'created_at'] as const;

export function scheduledOperationService(deps: ServiceDeps): ScheduledOperationService {
  const { store, clock } = deps;

  const load = async (caller: Caller, id: string): Promise<ScheduledOperationRecord> => {
    if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid scheduled operation id ${id}: a scheduled operation id is a UUID.`);
    const op = await scheduledOperations.getOperation(store.db, id);
    if (!op || !canSee(caller, op.projectId)) throw notFound('scheduled operation', id);
    return op;
  };

  return {
    async create(caller, input) {
      if (!input.name.trim()) throw new HoardError('invalid_field', 'The scheduled operation name must not be blank.');
      const type = checkType(input.operation_type);
      const definition = checkDefinition(type, input.operation_definition);
      if (!isUuid(input.trigger_id)) throw new HoardError('invalid_id', `Invalid trigger id ${input.trigger_id}: a trigger id is a UUID.`);
      const now = storedTime(clock.now());
      const op: ScheduledOperationRecord = {
        id: newId(),
        projectId: caller.projectId,
        userId: caller.userId,
        name: input.name,
        description: input.description ?? null,
        operationType: type,
        triggerId: input.trigger_id,
        planId: definition.plan_id as string,
        operationDefinition: definition,
        enabled: true,
        createdAt: now,
        updatedAt: now,
      };
      await store.db.transaction().execute(async (trx) => {
        const trigger = await triggers.getTrigger(trx, input.trigger_id);
        if (!trigger || trigger.projectId !== caller.projectId) throw notFound('trigger', input.trigger_id);
        const plan = await plans.getPlan(trx, op.planId);
        if (!plan || plan.projectId !== caller.projectId) {
          throw new HoardError('invalid_operation_definition', `Plan ${op.planId} could not be found in project ${caller.projectId}.`);
        }
        if (plan.providerId !== definition.provider_id) {
          throw new HoardError('invalid_operation_definition', `Plan ${plan.id} uses provider ${plan.providerId}, not ${String(definition.provider_id)}; set provider_id to the plan's provider.`);
        }
        await scheduledOperations.insertOperation(trx, op);
      });
      return op;
    },

    list(caller, q) {
      const page = toPageQuery(caller, q, {
        name: contains('name'), operation_type: eq('operation_type'), trigger_id: eq('trigger_id'), operation_definition: contains('operation_definition'),
      });
      return withMarker(q.marker, () => scheduledOperations.listOperations(store.db, page));
    },

    get: load,

    async remove(caller, id) {
      await load(caller, id);
      await scheduledOperations.deleteOperationRow(store.db, id);
    },

    enabledForTrigger(triggerId) {
      return scheduledOperations.listEnabledByTrigger(store.db, triggerId);
    },

    async setEnabled(caller, id, enabled) {
      await load(caller, id);
      await scheduledOperations.setOperationEnabled(store.db, id, enabled, storedTime(clock.now()));
      // Read back: unchanged when it already was in that state, 404 when it was deleted meanwhile.
      return load(caller, id);
    },
  };
}

function checkType(v: string): OperationType {
  if ((OPERATION_TYPES as readonly string[]).includes(v)) return v as OperationType;
  throw new HoardError('invalid_field', `Invalid operation_type ${JSON.stringify(v)}: use "protect" or "retention_protect".`);
}

/** checkDefinition requires provider_id and plan_id as UUIDs and, for retention, integer limits. */
function checkDefinition(type: OperationType, def: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const bad = (why: string) => new HoardError('invalid_operation_definition', `Invalid operation_definition: ${why}.`);
  for (const key of ['provider_id', 'plan_id'] as const) {
    const v = def[key];
    if (v === undefined) throw bad(`${key} is required`);
    if (typeof v !== 'string' || !isUuid(v)) throw bad(`${key} ${JSON.stringify(v)} is not a UUID`);
  }
  const misfire = def.misfire;
  if (misfire !== undefined && !(MISFIRE_POLICIES as readonly unknown[]).includes(misfire)) {
    throw bad(`misfire ${JSON.stringify(misfire)} must be "run-once" (one catch-up run after downtime, the default) or "skip"`);
  }
  if (type === 'retention_protect') {
    for (const key of ['max_backups', 'retention_duration'] as const) {
      const v = def[key];
      // Karbor's CLI sends every value as text, so "7" is as good as 7.
      if (v !== undefined && !(Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v.trim())))) {
        throw bad(`${key} ${JSON.stringify(v)} must be an integer${key === 'retention_duration' ? ' number of days' : ''} (0 or less means unlimited)`);
      }
    }
  }
  return def;
}
