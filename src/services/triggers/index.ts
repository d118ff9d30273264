/**
 * Triggers: when scheduled operations run. Only time triggers exist (Karbor's one type); their properties
 * are validated here once, so the scheduler can trust what it reads back from the store.
 */
import type { Caller, ListQuery } from '../../model/caller.js';
import { canSee } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import { scheduledOperations, triggers, type TriggerRecord } from '../../store/index.js';
import { storedTime } from '../../util/clock.js';
import { isUuid, newId } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';
import { contains, eq, toPageQuery, withMarker } from '../paging.js';
import { checkTriggerProperties } from './schedule.js';

export interface TriggerInput {
  readonly name: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface TriggerChanges {
  readonly name?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

export interface TriggerService {
  create(caller: Caller, input: TriggerInput): Promise<TriggerRecord>;
  list(caller: Caller, q: ListQuery): Promise<TriggerRecord[]>;
  get(caller: Caller, id: string): Promise<TriggerRecord>;
  update(caller: Caller, id: string, changes: TriggerChanges): Promise<TriggerRecord>;
  remove(caller: Caller, id: string): Promise<void>;
}

export const TRIGGER_FILTERS = ['name', 'type', 'properties'] as const;
export const TRIGGER_SORT_KEYS = ['id', 'name', 'created_at'] as const;

export function triggerService(deps: ServiceDeps): TriggerService {
  const { store, config, clock } = deps;

  const load = async (caller: Caller, id: string): Promise<TriggerRecord> => {
    if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid trigger id ${id}: a trigger id is a UUID.`);
    const trigger = await triggers.getTrigger(store.db, id);
    // Another project's trigger is reported exactly like a missing one, so ids cannot be probed.
    if (!trigger || !canSee(caller, trigger.projectId)) throw notFound('trigger', id);
    return trigger;
  };

  const checkName = (name: string) => {
    if (!name.trim()) throw new HoardError('invalid_trigger', 'The trigger name must not be blank.');
  };

  return {
    async create(caller, input) {
      checkName(input.name);
      if (input.type !== 'time') throw new HoardError('invalid_trigger', `Invalid trigger type ${JSON.stringify(input.type)}: the only trigger type is "time".`);
      const properties = checkTriggerProperties(input.properties, config.triggers, clock.now());
      const now = storedTime(clock.now());
      const trigger: TriggerRecord = { id: newId(), projectId: caller.projectId, name: input.name, type: 'time', properties, createdAt: now, updatedAt: now };
      await triggers.insertTrigger(store.db, trigger);
      return trigger;
    },

    list(caller, q) {
      const page = toPageQuery(caller, q, { name: contains('name'), type: eq('type'), properties: contains('properties') });
      return withMarker(q.marker, () => triggers.listTriggers(store.db, page));
    },

    get: load,

    async update(caller, id, changes) {
      const trigger = await load(caller, id);
      if (changes.name !== undefined) checkName(changes.name);
      // Karbor's CLI always sends `properties`, as {} when only renaming; an empty object changes nothing.
      const replace = changes.properties !== undefined && Object.keys(changes.properties).length > 0;
      const next: TriggerRecord = {
        ...trigger,
        name: changes.name ?? trigger.name,
        properties: replace ? checkTriggerProperties(changes.properties!, config.triggers, clock.now()) : trigger.properties,
        updatedAt: storedTime(clock.now()),
      };
      await triggers.updateTriggerRow(store.db, next);
      return next;
    },

    async remove(caller, id) {
      await load(caller, id);
      await store.db.transaction().execute(async (trx) => {
        const users = await scheduledOperations.operationIdsUsingTrigger(trx, id);
        if (users.length > 0) {
          throw new HoardError('trigger_in_use', `Trigger ${id} is used by scheduled operation(s) ${users.join(', ')}; delete them first.`);
        }
        await triggers.deleteTriggerRow(trx, id);
      });
    },
  };
}
