import { type Kysely, type Migration } from 'kysely';

/**
 * restoreCredentials holds a running restore's `restore_auth` (JSON), one row per restore. It is a table
 * of its own, not a column of `restores`, so that nothing that reads restores (listing, showing, paging)
 * can ever select it. The row is inserted in the transaction that submits the restore and deleted in the
 * one that ends it (engine: submitRestore, finishSubject); the protection worker that needs it may be
 * another process sharing only this database. Deleting the restore deletes the row too.
 */
export function restoreCredentials(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('restore_credentials')
        .addColumn('restore_id', 'text', (c) => c.primaryKey().references('restores.id').onDelete('cascade'))
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('restore_credentials').execute();
    },
  };
}
