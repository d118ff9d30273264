/**
 * The bank conformance suite on a real Swift through its native API with Keystone v3 password auth, as
 * `eval "export $(bash test/openstack/swift.sh start)"` provides. Skips, saying why, when the variables
 * are unset; fails when they are set and Keystone or Swift does not answer. Also proves that bad
 * credentials are permanent errors and that an invalidated token is replaced after Swift's 401.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeystoneAuth, swiftBackend, type SwiftBackendOptions, type SwiftTokenSource } from '../../src/bank/index.js';
import { emptyBank, runBankSuite } from '../../src/bank/testing.js';

const env = process.env;
const VARS = ['HOARD_TEST_SWIFT_AUTH_URL', 'HOARD_TEST_SWIFT_USERNAME', 'HOARD_TEST_SWIFT_PASSWORD', 'HOARD_TEST_SWIFT_PROJECT'] as const;
const missing = VARS.filter((v) => !env[v]);
const CONTAINER = env.HOARD_TEST_SWIFT_CONTAINER ?? 'hoard-bank-test';

function options(prefix: string): SwiftBackendOptions {
  return {
    authUrl: env.HOARD_TEST_SWIFT_AUTH_URL as string, username: env.HOARD_TEST_SWIFT_USERNAME as string,
    password: env.HOARD_TEST_SWIFT_PASSWORD as string, projectName: env.HOARD_TEST_SWIFT_PROJECT as string,
    userDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default', projectDomainId: env.HOARD_TEST_SWIFT_DOMAIN ?? 'default',
    container: CONTAINER, prefix,
  };
}

const freshPrefix = () => `run-${Date.now()}-${randomBytes(4).toString('hex')}`;

if (missing.length > 0) {
  console.warn(`swift bank suite skipped: ${missing.join(', ')} unset (see test/openstack/swift.sh)`);
  describe('bank conformance: swift', () => {
    it.skip(`skipped: ${missing.join(', ')} unset; run eval "export $(bash test/openstack/swift.sh start)" first`, () => undefined);
  });
} else {
  let containerReady: Promise<void> | undefined;
  runBankSuite('swift', async () => {
    const prefix = freshPrefix();
    const backend = swiftBackend(options(prefix));
    containerReady ??= backend.ensureContainer();
    await containerReady;
    return {
      backend,
      cleanup: async (failed) => {
        if (failed && env.HOARD_KEEP_TEST_DATA) console.error(`swift bank test data kept in container ${CONTAINER}, prefix ${prefix}/`);
        else await emptyBank(backend);
      },
    };
  });

  describe('swift bank: authentication', () => {
    it('reports a wrong password as permanent, without the password in the message', async () => {
      const secret = `wrong-${randomBytes(6).toString('hex')}`;
      const bad = swiftBackend({ ...options(freshPrefix()), password: secret });
      const err = await bad.stat('x').catch((e: unknown) => e);
      expect(bad.isPermanent(err)).toBe(true);
      expect(bad.isNotFound(err)).toBe(false);
      expect(String((err as Error).message)).not.toContain(secret);
    });

    it('logs in again, once, when Swift answers 401 to a token', async () => {
      // A real Keystone login behind a source whose first token Swift has never seen, as after a revocation.
      const real = new KeystoneAuth(options(''));
      const invalidated: string[] = [];
      let handedOut = 0;
      const source: SwiftTokenSource = {
        session: async () => (handedOut++ === 0 ? { ...(await real.session()), token: 'gAAAA-not-a-token' } : real.session()),
        invalidate: (token) => { invalidated.push(token); real.invalidate(token); },
      };
      const backend = swiftBackend({ ...options(freshPrefix()), auth: source });
      await backend.put('auth/x', Buffer.from('1'));
      expect(invalidated).toEqual(['gAAAA-not-a-token']);
      expect(Buffer.from(await backend.get('auth/x')).toString()).toBe('1');
      expect(handedOut).toBe(3);
      await backend.remove('auth/x');
    });
  });
}

