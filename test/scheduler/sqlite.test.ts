/**
 * What the embedded store does for the scheduler's fire path (docs/scheduler.md, "SQLite"): WAL with
 * synchronous=NORMAL, reused prepared statements that still give every query its own results, and a
 * checkpoint quota count that reads an index instead of the whole table.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { checkpoints, type Store } from '../../src/store/index.js';
import { tempStore } from '../helpers/store.js';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ store, cleanup } = await tempStore('sqlite')));
afterEach(() => cleanup());

describe('the SQLite store', () => {
  it('journals with WAL and syncs at checkpoints only (synchronous=NORMAL)', async () => {
    const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(store.db);
    const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(store.db);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
    expect(sync.rows[0]?.synchronous).toBe(1);
  });

  it('answers the same statement with fresh parameters and results each time, also after an abandoned stream', async () => {
    const now = '2030-01-01T00:00:00.000Z';
    for (const id of ['a', 'b', 'c']) await store.db.insertInto('projects').values({ id, name: id, created_at: now }).execute();
    const named = (id: string) => store.db.selectFrom('projects').select('name').where('id', '=', id).executeTakeFirst();
    expect([(await named('a'))?.name, (await named('b'))?.name, (await named('zz'))?.name]).toEqual(['a', 'b', undefined]);

    const all = store.db.selectFrom('projects').select('id').orderBy('id');
    for await (const row of all.stream()) {
      expect(row.id).toBe('a');
      break;
    }
    expect((await all.execute()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    // A write between two reads of the same statement is seen by the second.
    await store.db.deleteFrom('projects').where('id', '=', 'b').execute();
    expect((await all.execute()).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('counts a project\'s checkpoints for its quota from an index, not by reading every checkpoint', async () => {
    const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT count(*) FROM checkpoints WHERE project_id = ${'p'} AND status != ${'deleted'}`.execute(store.db);
    expect(plan.rows.map((r) => r.detail).join('\n')).toMatch(/USING (COVERING )?INDEX checkpoints_project_status/);
    expect(await checkpoints.countCheckpoints(store.db, 'p')).toBe(0);
  });
});
