/**
 * bankSink makes the bank the home of a checkpoint's records (ARCHITECTURE decision 1): every resource's
 * metadata, the sealed manifest and each end status are written to the provider's bank first and then
 * to the metadata database, which stays the fast index (and the only home for providers without a
 * bank, such as the No-Op provider). Reads come from the database; `hoard bank reindex` rebuilds it
 * from the bank.
 */
import type { CheckpointRecords } from '../bank/records/index.js';
import { getCheckpoint } from '../store/checkpoints.js';
import type { Store } from '../store/index.js';
import type { ProviderBanks } from './bank-data.js';
import { databaseSink, type CheckpointRecordSink } from './sink.js';

/** keepsRecords tells which providers keep records in their bank (not the No-Op provider, which stores nothing). */
export function bankSink(store: Store, banks: ProviderBanks, keepsRecords: (providerId: string) => boolean = () => true): CheckpointRecordSink {
  const db = databaseSink(store);

  const withRecords = async (checkpointId: string, fn: (r: CheckpointRecords, cp: NonNullable<Awaited<ReturnType<typeof getCheckpoint>>>) => Promise<void>): Promise<void> => {
    const cp = await getCheckpoint(store.db, checkpointId);
    // A checkpoint row that is gone has nothing left to record (its delete already ran).
    if (!cp || !keepsRecords(cp.providerId)) return;
    await banks.records(cp.providerId, (r) => fn(r, cp));
  };

  return {
    resource(checkpointId, key) {
      const inner = db.resource(checkpointId, key);
      return {
        get: () => inner.get(),
        previous: () => inner.previous(),
        async set(value) {
          await withRecords(checkpointId, (r) => r.putResource(checkpointId, key, value));
          await inner.set(value);
        },
      };
    },
    async seal(manifest) {
      await withRecords(manifest.checkpointId, async (r, cp) => {
        await r.writeManifest({
          id: cp.id, projectId: cp.projectId, providerId: cp.providerId, planId: cp.planId,
          // The row's graph is Karbor's serialized form, which restore reads back.
          protectionPlan: cp.protectionPlan, resourceGraph: cp.resourceGraph ?? manifest.resourceGraph, extraInfo: cp.extraInfo, createdAt: cp.createdAt,
        });
        await r.appendStatus(cp.id, { status: manifest.status, at: new Date().toISOString() });
      });
      await db.seal(manifest);
    },
    async discard(checkpointId) {
      await withRecords(checkpointId, (r) => r.remove(checkpointId));
      await db.discard(checkpointId);
    },
  };
}
