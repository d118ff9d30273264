import { type Kysely, type Migration } from 'kysely';

/**
 * schedulerSettings adds the indexes the scheduler's fire path and its operation-log filter read by.
 *
 * `checkpoints_project_status`: every checkpoint creation (scheduled or manual) counts the project's
 * checkpoints for its quota. Without an index led by project_id that count scanned the whole table, so
 * 10,000 scheduled runs cost O(n²) rows read and, on SQLite, more than half the fire path's time.
 *
 * `operation_logs_scheduled_operation`: `GET /operation_logs?scheduled_operation_id=…` and the
 * scheduler's own history are read by operation; logs are never deleted, so that read must not scan them.
 */
export function schedulerSettings(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('checkpoints_project_status').on('checkpoints').columns(['project_id', 'status']).execute();
      await db.schema.createIndex('operation_logs_scheduled_operation').on('operation_logs').columns(['scheduled_operation_id', 'created_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('operation_logs_scheduled_operation').execute();
      await db.schema.dropIndex('checkpoints_project_status').execute();
    },
  };
}
