/**
 * Journal and leases on both databases: each operation is claimed by exactly one of two competing
 * workers, a worker whose lease was taken over can no longer write, a transition the table does not
 * allow is refused without changing the row, and a group-committed batch gives every entry the answer
 * it would have had alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createEngine } from '../../src/engine/index.js';
import { finishTask, IllegalTransition, journalWriter, LeaseLost, startTask, TASK_TRANSITIONS } from '../../src/engine/journal/index.js';
import { Type } from '@sinclair/typebox';
import { NO_CAPABILITIES, SDK_VERSION } from '../../src/plugins/sdk/index.js';
import { claimOperations, getTasks } from '../../src/store/operations.js';
import type { Store } from '../../src/store/index.js';
import { systemClock } from '../../src/util/clock.js';
import { DIALECTS, tempStore } from '../helpers/store.js';
import { labRegistry, P, SHARED } from './lab.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)('journal and leases on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  afterEach(() => cleanup?.());

  const submit = async (n: number) => {
    ({ store, cleanup } = await tempStore(dialect));
    const registry = labRegistry(SHARED);
    registry.registerProtectionPlugin({
      name: 'hoard.io/lab', sdkVersion: SDK_VERSION, resourceTypes: ['*'], capabilities: NO_CAPABILITIES,
      schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) }, operation: () => ({}),
    });
    const engine = createEngine({ store, registry, clock: systemClock });
    const provider = { id: randomUUID(), plugins: ['hoard.io/lab'] };
    for (let i = 0; i < n; i++) {
      await engine.protect({ projectId: 'demo', provider, plan: { id: randomUUID(), name: 'p', providerId: provider.id, parameters: {}, resources: [{ ...P, extraInfo: null }] }, extraInfo: null });
    }
    return (await store.db.selectFrom('operations').select('id').execute()).map((r) => r.id);
  };

  it('gives each operation to exactly one of two workers claiming at once', async () => {
    const ids = await submit(6);
    const now = Date.now();
    const claim = (owner: string) => claimOperations(store.db, store.dialect, owner, iso(now), iso(now + 60_000), 6);
    const [a, b] = await Promise.all([claim('a'), claim('b')]);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    // Nothing is left to claim while the leases last.
    expect(await claimOperations(store.db, store.dialect, 'c', iso(now + 1), iso(now + 60_000), 6)).toEqual([]);
  });

  it('hands an expired lease to the next claimer and fences the old owner off', async () => {
    const [id] = await submit(1);
    const now = Date.now();
    expect(await claimOperations(store.db, store.dialect, 'old', iso(now), iso(now + 100), 1)).toEqual([id]);
    const task = { operationId: id!, resourceKey: (await getTasks(store.db, id!))[0]!.resource_key, hook: 'prepareBegin' };
    await startTask(journalWriter(store, 'old'), task);
    expect(await claimOperations(store.db, store.dialect, 'new', iso(now + 200), iso(now + 60_000), 1)).toEqual([id]);
    await expect(finishTask(journalWriter(store, 'old'), task)).rejects.toBeInstanceOf(LeaseLost);
    const row = (await getTasks(store.db, id!)).find((t) => t.resource_key === task.resourceKey && t.hook === 'prepareBegin');
    expect(row?.state).toBe('running');
    await finishTask(journalWriter(store, 'new'), task);
  });

  it('refuses a transition the table does not allow and leaves the row as it was', async () => {
    const [id] = await submit(1);
    const now = Date.now();
    await claimOperations(store.db, store.dialect, 'w', iso(now), iso(now + 60_000), 1);
    const task = { operationId: id!, resourceKey: (await getTasks(store.db, id!))[0]!.resource_key, hook: 'main' };
    expect(TASK_TRANSITIONS.finish.from).not.toContain('pending');
    await expect(finishTask(journalWriter(store, 'w'), task)).rejects.toBeInstanceOf(IllegalTransition);
    expect((await getTasks(store.db, id!)).find((t) => t.resource_key === task.resourceKey && t.hook === 'main')?.state).toBe('pending');
  });

  it('applies a batch as if entry by entry: one answer each, and a task repeated in it sees its first change', async () => {
    const [id] = await submit(1);
    const now = Date.now();
    await claimOperations(store.db, store.dialect, 'w', iso(now), iso(now + 60_000), 1);
    const keys = [...new Set((await getTasks(store.db, id!)).map((t) => t.resource_key))];
    const w = journalWriter(store, 'w');
    const k = (resourceKey: string, hook: string) => ({ operationId: id!, resourceKey, hook });
    // Written in the same turn, all of these are committed in one transaction.
    const results = await Promise.allSettled([
      ...keys.map((key) => startTask(w, k(key, 'prepareBegin'))),
      finishTask(w, k(keys[0]!, 'prepareBegin')),
      finishTask(w, k(keys[1]!, 'main')),
    ]);
    expect(results.slice(0, -1).map((r) => r.status)).toEqual(Array(keys.length + 1).fill('fulfilled'));
    expect(results.at(-1)).toMatchObject({ status: 'rejected', reason: expect.any(IllegalTransition) });
    const tasks = await getTasks(store.db, id!);
    const row = (key: string, hook: string) => tasks.find((t) => t.resource_key === key && t.hook === hook)!;
    expect(row(keys[0]!, 'prepareBegin')).toMatchObject({ state: 'done', started_at: expect.any(String), ended_at: expect.any(String) });
    for (const key of keys.slice(1)) expect(row(key, 'prepareBegin')).toMatchObject({ state: 'running', started_at: expect.any(String), ended_at: null });
    expect(row(keys[1]!, 'main').state).toBe('pending');
  });
});
