import { type Kysely, type Migration } from 'kysely';

/**
 * retention adds `checkpoints.pinned` (0/1): a pinned checkpoint is never chosen for deletion by
 * retention. NOT NULL with a default so rows written before it, and writers that do not know it, read
 * as not pinned on SQLite and PostgreSQL alike.
 */
export function retention(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('checkpoints').addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('checkpoints').dropColumn('pinned').execute();
    },
  };
}
