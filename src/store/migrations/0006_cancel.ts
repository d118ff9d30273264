import { type Kysely, type Migration } from 'kysely';

/**
 * cancel adds a user's request to cancel an engine operation: when it was asked (`cancel_requested_at`,
 * null while nobody asked), by whom and why. The request lives on the operation row because the API
 * process that records it and the protection worker that honours it may be different processes sharing
 * only this database: the worker reads the request for the operations it holds on every tick.
 */
export function cancel(): Migration {
  return {
    async up(db: Kysely<any>) {
      // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
      for (const column of ['cancel_requested_at', 'cancel_requested_by', 'cancel_reason']) {
        await db.schema.alterTable('operations').addColumn(column, 'text').execute();
      }
    },
    async down(db: Kysely<any>) {
      for (const column of ['cancel_reason', 'cancel_requested_by', 'cancel_requested_at']) {
        await db.schema.alterTable('operations').dropColumn(column).execute();
      }
    },
  };
}
