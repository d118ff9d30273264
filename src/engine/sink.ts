/**
 * CheckpointRecordSink is where a checkpoint's own records go: each resource's plugin metadata, and the
 * sealed manifest once protection ends. Today the rows live in the metadata database
 * (`databaseSink`); the bank will implement the same three methods (ARCHITECTURE decision 1) without
 * the engine changing.
 */
import type { Json } from '../plugins/sdk/index.js';
import type { Store } from '../store/index.js';
import { deleteCheckpointResources, getResourceMetadata, putResourceMetadata } from '../store/operations.js';

/** ResourceRecord is one resource's metadata slot in one checkpoint. */
export interface ResourceRecord {
  get(): Promise<Json | undefined>;
  set(value: Json): Promise<void>;
  /** previous is this resource's record in the newest earlier available checkpoint of the same plan and provider. */
  previous(): Promise<Json | undefined>;
}

/** CheckpointManifest is what a finished protection seals: the graph text and the end status. */
export interface CheckpointManifest {
  readonly checkpointId: string;
  readonly resourceGraph: string;
  readonly status: 'available' | 'error';
}

/**
 * CheckpointRecordSink: `resource` gives a resource's slot (set replaces, and is idempotent for the
 * same value); `seal` records the manifest once (a repeat after a crash writes the same thing);
 * `discard` removes every record of a deleted checkpoint and is idempotent.
 */
export interface CheckpointRecordSink {
  resource(checkpointId: string, resourceKey: string): ResourceRecord;
  seal(manifest: CheckpointManifest): Promise<void>;
  discard(checkpointId: string): Promise<void>;
}

/** databaseSink keeps resource metadata in `checkpoint_resources`; the manifest is the checkpoint row itself. */
export function databaseSink(store: Store): CheckpointRecordSink {
  return {
    resource: (checkpointId, key) => ({
      async get() {
        const text = await getResourceMetadata(store.db, checkpointId, key);
        return text === undefined ? undefined : (JSON.parse(text) as Json);
      },
      set: (value) => putResourceMetadata(store.db, checkpointId, key, JSON.stringify(value), new Date().toISOString()),
      async previous() {
        const text = await previousResourceMetadata(store, checkpointId, key);
        return text === undefined ? undefined : (JSON.parse(text) as Json);
      },
    }),
    // The checkpoint row already holds the graph and status, written in the transaction that ends protection.
    seal: async () => {},
    discard: (checkpointId) => deleteCheckpointResources(store.db, checkpointId),
  };
}

/** previousResourceMetadata finds a resource's metadata in the plan's newest available checkpoint created before this one. */
async function previousResourceMetadata(store: Store, checkpointId: string, key: string): Promise<string | undefined> {
  const cp = await store.db.selectFrom('checkpoints').select(['plan_id', 'provider_id', 'created_at']).where('id', '=', checkpointId).executeTakeFirst();
  if (!cp) return undefined;
  const row = await store.db.selectFrom('checkpoints as c')
    .innerJoin('checkpoint_resources as r', 'r.checkpoint_id', 'c.id')
    .select('r.metadata')
    .where('c.plan_id', '=', cp.plan_id).where('c.provider_id', '=', cp.provider_id).where('c.status', '=', 'available')
    .where('c.id', '!=', checkpointId).where('c.created_at', '<=', cp.created_at).where('r.resource_key', '=', key)
    .orderBy('c.created_at', 'desc').limit(1).executeTakeFirst();
  return row?.metadata;
}
