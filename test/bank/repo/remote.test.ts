/**
 * Round trip, check and prune of a repository on the real Swift and S3 backends, when the variables of
 * test/bank/swift.test.ts and test/bank/s3.test.ts are set (`eval "export $(bash test/openstack/swift.sh
 * start)"`); skipped, saying why, otherwise.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BankBackend } from '../../../src/bank/backend.js';
import { s3Backend, swiftBackend } from '../../../src/bank/index.js';
import { emptyBank } from '../../../src/bank/testing.js';
import { Repository, backupTree, check, openWriter, prune, restoreTree, saveSnapshot } from '../../../src/bank/repo/index.js';
import { SMALL, describeTree, fileTree, seeded, tempDir } from './helpers.js';

const env = process.env;
const prefix = () => `repo-${Date.now()}-${randomBytes(4).toString('hex')}`;

const targets: { name: string; vars: readonly string[]; make: () => Promise<BankBackend> }[] = [
  {
    name: 'swift',
    vars: ['HOARD_TEST_SWIFT_AUTH_URL', 'HOARD_TEST_SWIFT_USERNAME', 'HOARD_TEST_SWIFT_PASSWORD', 'HOARD_TEST_SWIFT_PROJECT'],
    make: async () => {
      const b = swiftBackend({
        authUrl: env.HOARD_TEST_SWIFT_AUTH_URL!, username: env.HOARD_TEST_SWIFT_USERNAME!, password: env.HOARD_TEST_SWIFT_PASSWORD!,
        projectName: env.HOARD_TEST_SWIFT_PROJECT!, userDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default',
        projectDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default', container: env.HOARD_TEST_SWIFT_CONTAINER ?? 'hoard-bank-test', prefix: prefix(),
      });
      await b.ensureContainer();
      return b;
    },
  },
  {
    name: 's3',
    vars: ['HOARD_TEST_S3_ENDPOINT', 'HOARD_TEST_S3_ACCESS_KEY', 'HOARD_TEST_S3_SECRET_KEY'],
    make: async () => {
      const b = s3Backend({
        endpoint: env.HOARD_TEST_S3_ENDPOINT, region: env.HOARD_TEST_S3_REGION ?? 'RegionOne', bucket: env.HOARD_TEST_S3_BUCKET ?? 'hoard-bank-test', prefix: prefix(),
        credentials: { accessKeyId: env.HOARD_TEST_S3_ACCESS_KEY!, secretAccessKey: env.HOARD_TEST_S3_SECRET_KEY! },
      });
      await b.ensureBucket();
      return b;
    },
  },
];

for (const t of targets) {
  const missing = t.vars.filter((v) => !env[v]);
  describe(`bank repository on ${t.name}`, () => {
    if (missing.length > 0) {
      it.skip(`skipped: ${missing.join(', ')} unset; run eval "export $(bash test/openstack/swift.sh start)" first`, () => undefined);
      return;
    }
    it('round trip, check --read-data and prune', async () => {
      const backend = await t.make();
      try {
        await (await Repository.init(backend, 'pw', SMALL)).close();
        const src = await tempDir('src');
        await fileTree(src, { 'a.bin': seeded(300 * 1024, 'a'), 'd/b.txt': 'b\n', 'link': { symlink: 'a.bin' } });
        const w = await openWriter(backend, 'pw', { ttlMs: 30_000, packTarget: 512 * 1024 });
        const { root } = await backupTree(w.repo, src);
        await saveSnapshot(w.repo, { tags: [], sections: { files: { kind: 'tree', root, bytes: 0, items: 0 } } });
        await w.close();
        const dst = await tempDir('dst');
        await restoreTree(await Repository.open(backend, 'pw'), root, dst);
        expect(await describeTree(dst)).toEqual(await describeTree(src));
        const r = await check(await Repository.open(backend, 'pw', { loadIndex: false }), { readData: true });
        expect(r.findings).toEqual([]);
        expect(r.stats.snapshots).toBe(1);
        const p = await prune(await Repository.open(backend, 'pw', { loadIndex: false }), { skewMs: 1_000 });
        expect(p.packsDeleted).toBe(0);
        expect((await check(await Repository.open(backend, 'pw', { loadIndex: false }), { readData: true })).ok).toBe(true);
      } finally {
        await emptyBank(backend);
      }
    });
  });
}
