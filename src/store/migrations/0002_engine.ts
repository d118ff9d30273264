import { type Kysely, type Migration } from 'kysely';

/**
 * engine adds the protection engine's journal: one `operations` row per protect/restore/delete run (its
 * owner and lease, its frozen resource graph and parameters) and one `operation_tasks` row per resource
 * and hook, plus `checkpoint_resources`, the per-resource metadata plugins write (until the bank holds it).
 */
export function engine(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('operations').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('plan_id', 'text')
        .addColumn('checkpoint_id', 'text')
        .addColumn('restore_id', 'text')
        .addColumn('log_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('graph', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('new_resources', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('operations_claim').on('operations').columns(['status', 'lease_expires_at']).execute();
      await db.schema.createIndex('operations_checkpoint').on('operations').columns(['checkpoint_id']).execute();
      await db.schema.createIndex('operations_restore').on('operations').columns(['restore_id']).execute();

      await db.schema.createTable('operation_tasks')
        .addColumn('operation_id', 'text', (c) => c.notNull().references('operations.id').onDelete('cascade'))
        .addColumn('resource_key', 'text', (c) => c.notNull())
        .addColumn('hook', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('handle', 'text')
        .addColumn('reason', 'text')
        .addColumn('progress', 'text')
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('operation_tasks_pk', ['operation_id', 'resource_key', 'hook']).execute();

      await db.schema.createTable('checkpoint_resources')
        .addColumn('checkpoint_id', 'text', (c) => c.notNull())
        .addColumn('resource_key', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('checkpoint_resources_pk', ['checkpoint_id', 'resource_key']).execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['checkpoint_resources', 'operation_tasks', 'operations']) await db.schema.dropTable(t).ifExists().execute();
    },
  };
}
