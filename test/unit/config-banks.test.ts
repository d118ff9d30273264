/**
 * Bank configuration: fs, s3 and swift banks are read from the configuration file with their secrets
 * inline or from the environment (`env:NAME`); a wrong type, a missing required field or an unset
 * variable stops loading with a message naming the key.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bankKeyFile, bankLabel, loadConfig } from '../../src/config/index.js';

async function configWith(providers: unknown[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hoard-config-'));
  const file = join(dir, 'hoard.json');
  await writeFile(file, JSON.stringify({ dataDir: dir, providers }));
  return file;
}

const ID = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
const provider = (bank: unknown, n = 1) => ({ id: ID(n), name: `p${n}`, plugins: ['hoard.io/directory'], bank });

describe('bank configuration', () => {
  it('reads fs, s3 and swift banks, secrets from env: references, key files beside the data', async () => {
    const file = await configWith([
      provider({ path: 'local' }),
      provider({ type: 's3', bucket: 'b', prefix: 'x/', endpoint: 'http://127.0.0.1:9', accessKeyId: 'AK', secretAccessKey: 'env:TEST_S3_SECRET' }, 2),
      provider({ type: 'swift', authUrl: 'http://ks/v3', username: 'u', password: 'env:TEST_SWIFT_PW', projectName: 'p', container: 'c', keyFile: '/etc/hoard/swift.key' }, 3),
    ]);
    const c = loadConfig(file, { TEST_S3_SECRET: 's3cret', TEST_SWIFT_PW: 'pw' } as NodeJS.ProcessEnv);
    const dir = c.dataDir;
    const [fs, s3, swift] = c.providers.map((p) => p.bank);
    expect(fs).toEqual({ type: 'fs', path: join(dir, 'local') });
    expect(bankKeyFile(fs!)).toBe(join(dir, 'local.key'));
    expect(s3).toMatchObject({ type: 's3', bucket: 'b', prefix: 'x/', accessKeyId: 'AK', secretAccessKey: 's3cret', keyFile: join(dir, `bank-${ID(2)}.key`) });
    expect(bankLabel(s3!)).toBe('s3://b/x/');
    expect(swift).toMatchObject({ type: 'swift', container: 'c', prefix: '', password: 'pw', keyFile: '/etc/hoard/swift.key' });
    expect(bankLabel(swift!)).toBe('swift://c/');
    expect(bankLabel(swift!)).not.toContain('pw');
  });

  it('refuses an env: secret whose variable is unset', async () => {
    const file = await configWith([provider({ type: 'swift', authUrl: 'http://ks/v3', username: 'u', password: 'env:HOARD_TEST_CFG_PW', projectName: 'p', container: 'c' })]);
    expect(() => loadConfig(file, {})).toThrow('providers[0].bank.password names the environment variable HOARD_TEST_CFG_PW, which is not set');
  });

  it('refuses an unknown type and a missing required field, naming the key', async () => {
    const bad = await configWith([provider({ type: 'ftp' })]);
    expect(() => loadConfig(bad, {})).toThrow('providers[0].bank.type must be fs, s3 or swift (got "ftp")');
    const missing = await configWith([provider({ type: 's3', prefix: 'x' })]);
    expect(() => loadConfig(missing, {})).toThrow('providers[0].bank.bucket is required for a s3 bank');
  });
});
