/**
 * The default provider with its bank on real Swift and on Swift's S3 API (started by the test command,
 * test/openstack/swift.sh): through the HTTP API a directory is protected, its checkpoint records land
 * in the object store, a restore gives back identical bytes, and a delete removes the records. Skipped,
 * saying why, when the Swift/S3 variables are unset.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CheckpointRecords } from '../../src/bank/records/index.js';
import { Repository } from '../../src/bank/repo/index.js';
import { DEFAULT_PROVIDER_ID, type BankConfig } from '../../src/config/index.js';
import { bankBackend } from '../../src/roles/compose.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { deleteCheckpoint, protectDirectory, restoreDirectory, treeContents } from '../helpers/protect.js';

vi.setConfig({ testTimeout: 300_000 });

const env = process.env;
const prefix = () => `e2e-${Date.now()}-${randomBytes(4).toString('hex')}`;

const targets: { name: string; vars: readonly string[]; bank: (keyFile: string) => BankConfig }[] = [
  {
    name: 'swift',
    vars: ['HOARD_TEST_SWIFT_AUTH_URL', 'HOARD_TEST_SWIFT_USERNAME', 'HOARD_TEST_SWIFT_PASSWORD', 'HOARD_TEST_SWIFT_PROJECT'],
    bank: (keyFile) => ({
      type: 'swift', authUrl: env.HOARD_TEST_SWIFT_AUTH_URL!, username: env.HOARD_TEST_SWIFT_USERNAME!, password: env.HOARD_TEST_SWIFT_PASSWORD!,
      projectName: env.HOARD_TEST_SWIFT_PROJECT!, userDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default', projectDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default',
      container: env.HOARD_TEST_SWIFT_CONTAINER ?? 'hoard-bank-test', prefix: prefix(), keyFile,
    }),
  },
  {
    name: 's3',
    vars: ['HOARD_TEST_S3_ENDPOINT', 'HOARD_TEST_S3_ACCESS_KEY', 'HOARD_TEST_S3_SECRET_KEY'],
    bank: (keyFile) => ({
      type: 's3', endpoint: env.HOARD_TEST_S3_ENDPOINT!, region: env.HOARD_TEST_S3_REGION ?? 'RegionOne', bucket: env.HOARD_TEST_S3_BUCKET ?? 'hoard-bank-test',
      prefix: prefix(), accessKeyId: env.HOARD_TEST_S3_ACCESS_KEY!, secretAccessKey: env.HOARD_TEST_S3_SECRET_KEY!, keyFile,
    }),
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

for (const t of targets) {
  const missing = t.vars.filter((v) => !env[v]);
  describe(`default provider with its bank on ${t.name}`, () => {
    if (missing.length > 0) {
      it.skip(`skipped: ${missing.join(', ')} unset; run eval "export $(bash test/openstack/swift.sh start)" first`, () => undefined);
      return;
    }
    it('protects, restores byte for byte and deletes through the API, with checkpoint records in the object store', async () => {
      let bank: BankConfig | undefined;
      const h: TestHoard = await startHoard({
        config: (c) => {
          bank = t.bank(join(c.dataDir, 'remote-bank.key'));
          return { ...c, providers: c.providers.map((p) => (p.id === DEFAULT_PROVIDER_ID ? { ...p, bank: bank! } : p)) };
        },
      });
      const role: ProtectionRole = startProtection(h.hoard, { tickMs: 100 });
      cleanups.push(async () => { await role.stop(); await h.close(); });

      const source = join(h.root, 'data');
      await mkdir(join(source, 'deep', 'er'), { recursive: true });
      await writeFile(join(source, 'notes.txt'), 'remote banks\n');
      await writeFile(join(source, 'deep', 'er', 'blob.bin'), randomBytes(1_500_000));
      await writeFile(join(source, 'deep', 'zeros.bin'), Buffer.alloc(700_000));
      const token = await h.token('demo');

      const { checkpointId, checkpoint } = await protectDirectory(h, token, DEFAULT_PROVIDER_ID, source);
      expect(checkpoint.status, JSON.stringify(checkpoint.progress)).toBe('available');
      const repo = await Repository.open(await bankBackend(bank!), await readFile(join(h.dataDir, 'remote-bank.key')), { workers: 0 });
      const records = new CheckpointRecords(repo);
      expect((await records.read(checkpointId))?.status).toBe('available');

      const target = join(h.root, 'restored');
      const restore = await restoreDirectory(h, token, DEFAULT_PROVIDER_ID, checkpointId, target);
      expect(restore.status, JSON.stringify(restore.resources_reason)).toBe('success');
      expect(await treeContents(target)).toEqual(await treeContents(source));

      await deleteCheckpoint(h, token, DEFAULT_PROVIDER_ID, checkpointId);
      expect(await records.read(checkpointId)).toBeUndefined();
      await repo.close();
    });
  });
}
