import { type Kysely, type Migration } from 'kysely';

/**
 * scheduler adds the operation engine's claim table and plan slots.
 *
 * `schedule_runs` holds one row per due run of a scheduled operation, keyed (scheduled_operation_id,
 * due_at): the primary key is the claim, so of N scheduler processes exactly one inserts a given run and
 * fires it. The row then records what became of the run (fired, skipped, failed) and why.
 *
 * `schedule_plan_slots` is a short lease per plan, held only between "is a checkpoint of this plan still
 * protecting?" and the new checkpoint being committed, so two schedulers cannot both start a run of the
 * same plan. It expires on its own when its holder dies.
 */
export function scheduler(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('schedule_runs')
        .addColumn('scheduled_operation_id', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('fire_at', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('checkpoint_id', 'text')
        .addColumn('log_id', 'text')
        .addColumn('ended_at', 'text')
        .addPrimaryKeyConstraint('schedule_runs_pk', ['scheduled_operation_id', 'due_at'])
        .execute();
      await db.schema.createIndex('schedule_runs_state').on('schedule_runs').columns(['state', 'claimed_at']).execute();

      await db.schema.createTable('schedule_plan_slots')
        .addColumn('plan_id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('schedule_plan_slots').execute();
      await db.schema.dropTable('schedule_runs').execute();
    },
  };
}
