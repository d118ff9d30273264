/**
 * The bank conformance suite on a real S3 API: Swift's s3api, with EC2 credentials from Keystone, as
 * `eval "export $(bash test/openstack/swift.sh start)"` provides. Skips, saying why, when the variables
 * are unset; fails when they are set and the endpoint does not answer.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { s3Backend } from '../../src/bank/index.js';
import { emptyBank, runBankSuite } from '../../src/bank/testing.js';

const env = process.env;
const VARS = ['HOARD_TEST_S3_ENDPOINT', 'HOARD_TEST_S3_ACCESS_KEY', 'HOARD_TEST_S3_SECRET_KEY'] as const;
const missing = VARS.filter((v) => !env[v]);
const BUCKET = env.HOARD_TEST_S3_BUCKET ?? 'hoard-bank-test';

if (missing.length > 0) {
  console.warn(`s3 bank suite skipped: ${missing.join(', ')} unset (see test/openstack/swift.sh)`);
  describe('bank conformance: s3', () => {
    it.skip(`skipped: ${missing.join(', ')} unset; run eval "export $(bash test/openstack/swift.sh start)" first`, () => undefined);
  });
} else {
  let bucketReady: Promise<void> | undefined;
  runBankSuite('s3 (Swift s3api)', async () => {
    const prefix = `run-${Date.now()}-${randomBytes(4).toString('hex')}`;
    const backend = s3Backend({
      endpoint: env.HOARD_TEST_S3_ENDPOINT, region: env.HOARD_TEST_S3_REGION ?? 'RegionOne', bucket: BUCKET, prefix,
      credentials: { accessKeyId: env.HOARD_TEST_S3_ACCESS_KEY as string, secretAccessKey: env.HOARD_TEST_S3_SECRET_KEY as string },
    });
    bucketReady ??= backend.ensureBucket();
    await bucketReady;
    return {
      backend,
      cleanup: async (failed) => {
        if (failed && env.HOARD_KEEP_TEST_DATA) console.error(`s3 bank test data kept in bucket ${BUCKET}, prefix ${prefix}/`);
        else await emptyBank(backend);
      },
    };
  }, { largeBytes: 20 * 1024 * 1024 });
}
