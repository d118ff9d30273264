import { type Kysely, type Migration } from 'kysely';

/**
 * verifications lets an engine operation name the verification it runs (as restore_id names a
 * restore), so verify goes through the same journal, leases and per-resource statuses as restore.
 */
export function verifications(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('operations').addColumn('verification_id', 'text').execute();
      await db.schema.createIndex('operations_verification').on('operations').columns(['verification_id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('operations_verification').execute();
      await db.schema.alterTable('operations').dropColumn('verification_id').execute();
    },
  };
}
