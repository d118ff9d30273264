import { type Kysely, type Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** The first schema: every collection of the Karbor v1 API plus local auth. */
export function init(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('projects').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull()).addColumn('created_at', 'text', (c) => c.notNull()).execute();

      await db.schema.createTable('tokens').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text').execute();

      await db.schema.createTable('plans').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('plans_project').on('plans').columns(['project_id', 'created_at']).execute();

      await db.schema.createTable('plan_resources')
        .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_name', 'text', (c) => c.notNull())
        .addColumn('extra_info', 'text')
        .addPrimaryKeyConstraint('plan_resources_pk', ['plan_id', 'position']).execute();

      await db.schema.createTable('triggers').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('triggers_project').on('triggers').columns(['project_id', 'created_at']).execute();

      await db.schema.createTable('scheduled_operations').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('operation_type', 'text', (c) => c.notNull())
        .addColumn('trigger_id', 'text', (c) => c.notNull().references('triggers.id'))
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('operation_definition', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('scheduled_operations_plan').on('scheduled_operations').column('plan_id').execute();
      await db.schema.createIndex('scheduled_operations_project').on('scheduled_operations').columns(['project_id', 'created_at']).execute();

      await db.schema.createTable('operation_logs').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('operation_type', 'text', (c) => c.notNull())
        .addColumn('checkpoint_id', 'text')
        .addColumn('plan_id', 'text')
        .addColumn('provider_id', 'text')
        .addColumn('restore_id', 'text')
        .addColumn('scheduled_operation_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('error_info', 'text')
        .addColumn('extra_info', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('operation_logs_project').on('operation_logs').columns(['project_id', 'created_at']).execute();

      await db.schema.createTable('quotas').addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull()).addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('quotas_pk', ['project_id', 'resource']).execute();
      await db.schema.createTable('quota_classes').addColumn('class_name', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull()).addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('quota_classes_pk', ['class_name', 'resource']).execute();

      await db.schema.createTable('services')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('binary', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('services_host_binary', ['host', 'binary']).execute();

      await db.schema.createTable('checkpoints').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('protection_plan', 'text', (c) => c.notNull())
        .addColumn('resource_graph', 'text')
        .addColumn('extra_info', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
      await db.schema.createIndex('checkpoints_provider').on('checkpoints').columns(['provider_id', 'project_id', 'created_at']).execute();
      await db.schema.createIndex('checkpoints_plan').on('checkpoints').columns(['plan_id', 'created_at']).execute();

      for (const table of ['restores', 'verifications']) {
        let t = db.schema.createTable(table).addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('provider_id', 'text', (c) => c.notNull())
          .addColumn('checkpoint_id', 'text', (c) => c.notNull());
        if (table === 'restores') t = t.addColumn('restore_target', 'text');
        await t.addColumn('parameters', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('resources_status', 'text', (c) => c.notNull())
          .addColumn('resources_reason', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull()).execute();
        await db.schema.createIndex(`${table}_project`).on(table).columns(['project_id', 'created_at']).execute();
      }
    },
    async down(db: Kysely<any>) {
      for (const t of ['verifications', 'restores', 'checkpoints', 'services', 'quota_classes', 'quotas', 'operation_logs',
        'scheduled_operations', 'triggers', 'plan_resources', 'plans', 'tokens', 'projects']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
