import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MarkerNotFound, plans, scheduledOperations, triggers, type ScheduledOperationRecord, type Store, type TriggerRecord } from '../../src/store/index.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const id = (prefix: string, i: number) => `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`;
const at = (i: number) => `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`;

const trigger = (i: number, over: Partial<TriggerRecord> = {}): TriggerRecord => ({
  id: id('00000000', i),
  projectId: 'p1',
  name: `trigger ${i}`,
  type: 'time',
  properties: { format: 'crontab', pattern: `0 ${i} * * *`, start_time: '2026-01-01 00:00:00', window: 900, timezone: 'Europe/Berlin' },
  createdAt: at(i),
  updatedAt: at(i),
  ...over,
});

const operation = (i: number, triggerId: string, over: Partial<ScheduledOperationRecord> = {}): ScheduledOperationRecord => ({
  id: id('11111111', i),
  projectId: 'p1',
  userId: 'u1',
  name: `op ${i}`,
  description: i % 2 ? 'nightly' : null,
  operationType: 'retention_protect',
  triggerId,
  planId: id('22222222', 1),
  operationDefinition: { provider_id: id('33333333', 1), plan_id: id('22222222', 1), max_backups: 3, retention_duration: '7', note: true },
  enabled: true,
  createdAt: at(i),
  updatedAt: at(i),
  ...over,
});

describe.each(DIALECTS)('trigger and scheduled operation store on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await tempStore(dialect));
    await plans.insertPlan(store.db, {
      id: id('22222222', 1), projectId: 'p1', name: 'plan', description: null, providerId: id('33333333', 1), status: 'suspended',
      parameters: {}, resources: [], createdAt: at(0), updatedAt: at(0),
    });
  });
  afterEach(() => cleanup());

  it('keeps a trigger with its properties, updates and deletes it', async () => {
    await triggers.insertTrigger(store.db, trigger(1));
    expect(await triggers.getTrigger(store.db, trigger(1).id)).toEqual(trigger(1));
    const renamed = trigger(1, { name: 'renamed', properties: { ...trigger(1).properties, end_time: '2027-01-01 00:00:00', window: 1200 }, updatedAt: at(9) });
    await triggers.updateTriggerRow(store.db, renamed);
    expect(await triggers.getTrigger(store.db, renamed.id)).toEqual(renamed);
    await triggers.deleteTriggerRow(store.db, renamed.id);
    expect(await triggers.getTrigger(store.db, renamed.id)).toBeUndefined();
  });

  it('lists triggers by project, with property substring filters and keyset paging', async () => {
    for (let i = 1; i <= 5; i++) await triggers.insertTrigger(store.db, trigger(i, { projectId: i === 5 ? 'p2' : 'p1' }));
    const mine = { op: 'eq', column: 'project_id', value: 'p1' } as const;
    const page = (marker?: string) => triggers.listTriggers(store.db, { filters: [mine], sort: [{ key: 'created_at', dir: 'desc' }], marker, limit: 2 });
    const first = await page();
    expect(first.map((t) => t.name)).toEqual(['trigger 4', 'trigger 3']);
    expect((await page(first[1]!.id)).map((t) => t.name)).toEqual(['trigger 2', 'trigger 1']);
    await expect(page(trigger(5).id)).rejects.toBeInstanceOf(MarkerNotFound);
    const byPattern = await triggers.listTriggers(store.db, { filters: [mine, { op: 'contains', column: 'properties', value: '0 3 *' }], sort: [{ key: 'id', dir: 'asc' }], limit: 10 });
    expect(byPattern.map((t) => t.name)).toEqual(['trigger 3']);
  });

  it('keeps an operation definition with its value types and finds operations by trigger', async () => {
    await triggers.insertTrigger(store.db, trigger(1));
    await triggers.insertTrigger(store.db, trigger(2));
    await scheduledOperations.insertOperation(store.db, operation(1, trigger(1).id));
    await scheduledOperations.insertOperation(store.db, operation(2, trigger(1).id, { projectId: 'p2', enabled: false }));
    await scheduledOperations.insertOperation(store.db, operation(3, trigger(1).id, { projectId: 'p3' }));
    await scheduledOperations.insertOperation(store.db, operation(4, trigger(2).id));
    expect(await scheduledOperations.getOperation(store.db, operation(1, trigger(1).id).id)).toEqual(operation(1, trigger(1).id));
    // The scheduler's view: enabled operations of one trigger, whatever their project.
    const firing = await scheduledOperations.listEnabledByTrigger(store.db, trigger(1).id);
    expect(firing.map((o) => o.name)).toEqual(['op 1', 'op 3']);
    expect(await scheduledOperations.operationIdsUsingTrigger(store.db, trigger(1).id)).toEqual([1, 2, 3].map((i) => id('11111111', i)));
    const filtered = await scheduledOperations.listOperations(store.db, {
      filters: [{ op: 'eq', column: 'project_id', value: 'p1' }, { op: 'contains', column: 'operation_definition', value: '"max_backups":3' }],
      sort: [{ key: 'name', dir: 'asc' }], limit: 10,
    });
    expect(filtered.map((o) => o.name)).toEqual(['op 1', 'op 4']);
    await scheduledOperations.deleteOperationRow(store.db, operation(1, trigger(1).id).id);
    expect(await scheduledOperations.getOperation(store.db, operation(1, trigger(1).id).id)).toBeUndefined();
  });

  it('refuses to delete a trigger that an operation still references', async () => {
    await triggers.insertTrigger(store.db, trigger(1));
    await scheduledOperations.insertOperation(store.db, operation(1, trigger(1).id));
    await expect(triggers.deleteTriggerRow(store.db, trigger(1).id)).rejects.toThrow();
    expect(await triggers.getTrigger(store.db, trigger(1).id)).toEqual(trigger(1));
  });
});
