import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { services, type Store } from '../../src/store/index.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:10.000Z';

describe.each(DIALECTS)('services store on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterEach(() => cleanup());

  it('registers one row per host and binary, and a restart keeps the id and the admin choice', async () => {
    const api = await services.registerService(store.db, { host: 'h1', binary: 'hoard-api', topic: 'api', now: T0 });
    const prot = await services.registerService(store.db, { host: 'h1', binary: 'hoard-protection', topic: 'protection', now: T0 });
    const other = await services.registerService(store.db, { host: 'h2', binary: 'hoard-protection', topic: 'protection', now: T0 });
    expect(new Set([api.id, prot.id, other.id]).size).toBe(3);
    expect(api).toEqual({ id: api.id, host: 'h1', binary: 'hoard-api', topic: 'api', disabled: false, disabledReason: null, createdAt: T0, updatedAt: T0 });

    expect(await services.setServiceStatus(store.db, prot.id, true, 'maintenance')).toBe(true);
    const again = await services.registerService(store.db, { host: 'h1', binary: 'hoard-protection', topic: 'protection', now: T1 });
    expect(again).toEqual({ ...prot, disabled: true, disabledReason: 'maintenance', updatedAt: T1 });
    expect((await services.listServices(store.db)).length).toBe(3);
  });

  it('heartbeats move updated_at only, and a missing row says so', async () => {
    const s = await services.registerService(store.db, { host: 'h1', binary: 'hoard-scheduler', topic: 'scheduler', now: T0 });
    expect(await services.touchService(store.db, s.id, T1)).toBe(true);
    expect(await services.getService(store.db, s.id)).toEqual({ ...s, updatedAt: T1 });
    expect(await services.touchService(store.db, s.id + 1000, T1)).toBe(false);
    // Disabling is not a sign of life: updated_at stays the last heartbeat.
    await services.setServiceStatus(store.db, s.id, true, null);
    expect((await services.getService(store.db, s.id))?.updatedAt).toBe(T1);
    expect(await services.setServiceStatus(store.db, s.id + 1000, true, null)).toBe(false);
  });

  it('lists by id and filters by host and binary', async () => {
    for (const [host, binary] of [['h1', 'hoard-api'], ['h2', 'hoard-api'], ['h1', 'hoard-scheduler']] as const) {
      await services.registerService(store.db, { host, binary, topic: binary.slice(6), now: T0 });
    }
    const all = await services.listServices(store.db);
    expect(all.map((s) => s.id)).toEqual([...all.map((s) => s.id)].sort((a, b) => a - b));
    expect((await services.listServices(store.db, { host: 'h1' })).map((s) => s.binary)).toEqual(['hoard-api', 'hoard-scheduler']);
    expect((await services.listServices(store.db, { binary: 'hoard-api' })).map((s) => s.host)).toEqual(['h1', 'h2']);
    expect(await services.listServices(store.db, { host: 'h2', binary: 'hoard-scheduler' })).toEqual([]);
  });
});
