import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MarkerNotFound, operationLogs, type Store } from '../../src/store/index.js';
import type { OperationLogRecord } from '../../src/store/operation-logs.js';
import { DIALECTS, tempStore } from '../helpers/store.js';

const log = (i: number, over: Partial<OperationLogRecord> = {}): OperationLogRecord => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  projectId: 'p1',
  operationType: 'protect',
  checkpointId: `cp-${i}`,
  planId: 'plan-a',
  providerId: 'prov',
  restoreId: null,
  scheduledOperationId: null,
  status: 'protecting',
  startedAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
  endedAt: null,
  errorInfo: null,
  extraInfo: { created_by: 'manual', n: 1 },
  createdAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
  ...over,
});

describe.each(DIALECTS)('operation logs store on %s', (dialect) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await tempStore(dialect)));
  afterEach(() => cleanup());

  it('keeps every field of a log, nulls and structured extra info included', async () => {
    await operationLogs.insertLog(store.db, log(1));
    await operationLogs.insertLog(store.db, log(2, { extraInfo: null, planId: null }));
    expect(await operationLogs.getLog(store.db, log(1).id)).toEqual(log(1));
    expect(await operationLogs.getLog(store.db, log(2).id)).toEqual(log(2, { extraInfo: null, planId: null }));
    expect(await operationLogs.getLog(store.db, log(3).id)).toBeUndefined();
  });

  it('finishes a log with its status, end time and error, leaving its subject alone', async () => {
    await operationLogs.insertLog(store.db, log(1));
    const ended = await operationLogs.updateLog(store.db, log(1).id, { status: 'error', endedAt: '2026-01-01T00:05:00.000Z', errorInfo: 'disk full' });
    expect(ended).toEqual({ ...log(1), status: 'error', endedAt: '2026-01-01T00:05:00.000Z', errorInfo: 'disk full' });
    // A status-only change keeps what an earlier change wrote.
    const again = await operationLogs.updateLog(store.db, log(1).id, { status: 'available', extraInfo: { copy_status: 'finished' } });
    expect(again).toMatchObject({ status: 'available', endedAt: '2026-01-01T00:05:00.000Z', errorInfo: 'disk full', extraInfo: { copy_status: 'finished' } });
    expect(await operationLogs.updateLog(store.db, log(9).id, { status: 'error' })).toBeUndefined();
  });

  it('filters by project and subject and pages newest first with a stable marker', async () => {
    for (let i = 1; i <= 6; i++) {
      await operationLogs.insertLog(store.db, log(i, { projectId: i === 6 ? 'p2' : 'p1', status: i % 2 ? 'available' : 'error', operationType: i === 5 ? 'restore' : 'protect', restoreId: i === 5 ? 'r-5' : null }));
    }
    const page = (filters: { column: string; value: string }[], marker?: string, limit = 2) => operationLogs.listLogs(store.db, {
      filters: [{ op: 'eq', column: 'project_id', value: 'p1' }, ...filters.map((f) => ({ op: 'eq' as const, ...f }))],
      sort: [{ key: 'created_at', dir: 'desc' }], marker, limit,
    });
    const first = await page([]);
    expect(first.map((l) => l.checkpointId)).toEqual(['cp-5', 'cp-4']);
    const second = await page([], first[1]!.id);
    expect(second.map((l) => l.checkpointId)).toEqual(['cp-3', 'cp-2']);
    expect((await page([{ column: 'status', value: 'error' }], undefined, 10)).map((l) => l.checkpointId)).toEqual(['cp-4', 'cp-2']);
    expect((await page([{ column: 'restore_id', value: 'r-5' }], undefined, 10)).map((l) => l.operationType)).toEqual(['restore']);
    expect((await page([{ column: 'checkpoint_id', value: 'cp-3' }], undefined, 10)).map((l) => l.id)).toEqual([log(3).id]);
    // p2's log is neither listed for p1 nor usable as a marker there.
    expect((await page([], undefined, 10)).map((l) => l.checkpointId)).not.toContain('cp-6');
    await expect(page([], log(6).id)).rejects.toBeInstanceOf(MarkerNotFound);
  });
});
