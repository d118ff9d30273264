/**
 * Restores to another host through the HTTP API: restore_target `sftp://user@host:port` with
 * restore_auth `{type: 'ssh', username, private_key, host_key}`, against a real OpenSSH server on
 * 127.0.0.1 (the "other host" is this machine, at a path outside the directory roots). The tree arrives
 * byte-identical with modes, mtimes and symlinks; the credentials exist only while the restore runs
 * and appear in no response, operation log or table; a wrong host key fails the restore before
 * anything is written; a target no plugin supports, or bad credentials, is a 400 that writes nothing;
 * a worker whose plugin lacks the target fails the resource instead of restoring in place.
 *
 * No assertion depends on time: waits poll until a status is final, however long that takes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { bankSink } from '../../src/engine/bank-sink.js';
import { createWorker, providerBanks } from '../../src/engine/index.js';
import { directoryId, directoryPlugin, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { noopPlugin } from '../../src/plugins/noop/index.js';
import { PluginRegistry } from '../../src/plugins/registry.js';
import { bankSpecs } from '../../src/roles/compose.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

let h: TestHoard;
let role: ProtectionRole | undefined;
let sshd: Sshd;
let token: string;
let checkpointId: string;
let source: string;
/** remote is a directory outside the configured roots that the sftp target writes into. */
let remote: string;
/** secretLine is a line of the client's private key: it must never show up anywhere. */
let secretLine: string;

const T0 = 1_600_000_000;

beforeAll(async () => {
  h = await startHoard();
  role = startProtection(h.hoard, { tickMs: 50 });
  token = await h.token('demo');
  if (!sshdAvailable()) return;
  sshd = await startSshd();
  secretLine = sshd.clientKey.split('\n').find((l) => l.length > 40)!;
  remote = join(sshd.dir, 'elsewhere');
  source = join(h.root, 'app');
  await fixtureTree(source);
  checkpointId = await protect(source);
});
afterAll(async () => {
  await role?.stop();
  await sshd?.stop();
  await h?.close();
});

/** protect makes a plan of one directory and a checkpoint of it, and polls (with no deadline) until it is available. */
async function protect(dir: string): Promise<string> {
  const resources = [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }];
  const plan = await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'remote', provider_id: DEFAULT_PROVIDER_ID, resources } } });
  expect(plan.status, plan.text).toBe(200);
  const created = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: plan.body.plan.id } } });
  expect(created.status, created.text).toBe(200);
  const id = created.body.checkpoint.id as string;
  for (;;) {
    const shown = await h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${id}`, { token });
    if (shown.body.checkpoint.status !== 'protecting') {
      expect(shown.body.checkpoint.status, shown.text).toBe('available');
      return id;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** fixtureTree writes files of several modes and sizes, an empty file and directory, symlinks and pinned mtimes. */
async function fixtureTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'secret'));
  await mkdir(join(dir, 'data/deep'), { recursive: true });
  await mkdir(join(dir, 'empty-dir'));
  await mkdir(join(dir, 'ro'));
  await writeFile(join(dir, 'a.txt'), 'hello\n');
  await writeFile(join(dir, 'bin/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await writeFile(join(dir, 'secret/key.pem'), createHash('sha256').update('k').digest());
  await writeFile(join(dir, 'data/deep/big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7).map((_, i) => (i * 31) & 0xff));
  await writeFile(join(dir, 'empty-file'), '');
  await writeFile(join(dir, 'ro/f.txt'), 'read only\n');
  await symlink('a.txt', join(dir, 'link-rel'));
  await symlink('bin', join(dir, 'link-dir'));
  await chmod(join(dir, 'bin/run.sh'), 0o755);
  await chmod(join(dir, 'secret/key.pem'), 0o600);
  await chmod(join(dir, 'data/deep/big.bin'), 0o640);
  await chmod(join(dir, 'ro/f.txt'), 0o444);
  let t = T0;
  for (const f of ['a.txt', 'bin/run.sh', 'secret/key.pem', 'data/deep/big.bin', 'empty-file', 'ro/f.txt']) await utimes(join(dir, f), t, t += 1000);
  for (const d of ['bin', 'secret', 'data/deep', 'data', 'empty-dir', 'ro']) await utimes(join(dir, d), t, t += 1000);
  await chmod(join(dir, 'secret'), 0o700);
  await chmod(join(dir, 'ro'), 0o555);
}

/** treeOf describes every entry below dir: type, mode, mtime (s), content hash or link target. */
async function treeOf(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const key = rel ? `${rel}/${name}` : name;
    const path = join(dir, key);
    const st = await lstat(path);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[key] = `link -> ${await readlink(path)}`;
    else if (st.isDirectory()) {
      Object.assign(out, await treeOf(dir, key));
      out[key] = `dir ${mode} ${Math.floor(st.mtimeMs / 1000)}`;
    } else out[key] = `file ${mode} ${Math.floor(st.mtimeMs / 1000)} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
  }
  return out;
}

function sftpTarget(): string {
  return `sftp://${sshd.user}@${sshd.host}:${sshd.port}`;
}

function sshAuth(hostKey: string = sshd.fingerprint): Record<string, unknown> {
  return { type: 'ssh', username: sshd.user, private_key: sshd.clientKey, host_key: hostKey };
}

async function postRestore(restore: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> {
  return h.api('POST', '/v1/demo/restores', { token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpointId, ...restore } } });
}

/** finalRestore polls a restore until it is no longer in_progress (no deadline: the test timeout guards a hang). */
async function finalRestore(id: string): Promise<{ body: any; text: string }> {
  for (;;) {
    const r = await h.api('GET', `/v1/demo/restores/${id}`, { token });
    if (r.body.restore.status !== 'in_progress') return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function credentialRows(): Promise<{ restore_id: string }[]> {
  return h.hoard.store.db.selectFrom('restore_credentials').select('restore_id').execute();
}

/** everyTableText is every row of every table as JSON: where a leaked credential would be found. */
async function everyTableText(): Promise<string> {
  const db = h.hoard.store.db;
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables.rows) parts.push(JSON.stringify((await sql.raw(`select * from "${name}"`).execute(db)).rows));
  return parts.join('\n');
}

const restoreCount = async () => (await h.api('GET', '/v1/demo/restores', { token })).body.restores.length as number;

describe.skipIf(!sshdAvailable())('restore to an sftp target', () => {
  it('uploads the tree byte-identical with modes, mtimes and symlinks, keeping the credentials only while the restore runs', async () => {
    // Hold the worker back, so that the restore is seen while it waits to run.
    await role!.stop();
    role = undefined;
    const created = await postRestore({ restore_target: sftpTarget(), restore_auth: sshAuth(), parameters: { [DIRECTORY_TYPE]: { restore_path: remote } } });
    expect(created.status, created.text).toBe(200);
    const id = created.body.restore.id as string;
    expect(created.body.restore.restore_target).toBe(sftpTarget());
    expect(created.text).not.toContain(secretLine);
    expect(created.body.restore).not.toHaveProperty('restore_auth');
    expect(await credentialRows()).toEqual([{ restore_id: id }]);
    const waiting = await h.api('GET', `/v1/demo/restores/${id}`, { token });
    expect(waiting.text).not.toContain(secretLine);

    role = startProtection(h.hoard, { tickMs: 50 });
    const done = await finalRestore(id);
    expect(done.body.restore.status, done.text).toBe('success');
    expect(Object.values(done.body.restore.resources_status)).toEqual(['available']);
    expect(await treeOf(remote)).toEqual(await treeOf(source));
    expect(done.body.restore.progress.overall.bytes_done).toBe(done.body.restore.progress.overall.bytes_total);
    expect(done.body.restore.progress.overall.bytes_total).toBeGreaterThan(2 * 3 * 1024 * 1024);

    // Gone with the restore's end, and never written anywhere else.
    expect(await credentialRows()).toEqual([]);
    const logs = await h.api('GET', '/v1/demo/operation_logs', { token });
    expect(logs.body.operation_logs.some((l: any) => l.restore_id === id && l.status === 'success')).toBe(true);
    for (const text of [done.text, logs.text, (await h.api('GET', '/v1/demo/restores', { token })).text, await everyTableText()]) {
      expect(text).not.toContain(secretLine);
      expect(text).not.toContain('restore_auth');
    }
    // The local staging directory is gone too.
    expect(await readdir(join(h.dataDir, 'restore-staging'))).toEqual([]);
  });

  it('honours the conflict policy on the remote directory: fail refuses, skip keeps, overwrite replaces', async () => {
    await writeFile(join(remote, 'a.txt'), 'changed remotely\n');
    await rm(join(remote, 'bin/run.sh'));
    const restore = async (conflict: string) => {
      const r = await postRestore({ restore_target: sftpTarget(), restore_auth: sshAuth(), parameters: { [DIRECTORY_TYPE]: { restore_path: remote, conflict } } });
      expect(r.status, r.text).toBe(200);
      return (await finalRestore(r.body.restore.id)).body.restore;
    };
    const failed = await restore('fail');
    expect(failed.status).toBe('fail');
    expect(Object.values(failed.resources_reason).join()).toContain('exists and is not empty');
    expect(await readFile(join(remote, 'a.txt'), 'utf8')).toBe('changed remotely\n');

    const skipped = await restore('skip');
    expect(skipped.status, JSON.stringify(skipped.resources_reason)).toBe('success');
    expect(await readFile(join(remote, 'a.txt'), 'utf8')).toBe('changed remotely\n');
    expect(await readFile(join(remote, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n');

    const overwritten = await restore('overwrite');
    expect(overwritten.status, JSON.stringify(overwritten.resources_reason)).toBe('success');
    expect(await treeOf(remote)).toEqual(await treeOf(source));
    expect(await credentialRows()).toEqual([]);
  });

  it('fails with the host key named when the host presents another key, writing nothing', async () => {
    const other = await sshd.keygen('not-the-host', ['-t', 'ed25519', '-N', '']);
    const pinned = `SHA256:${createHash('sha256').update(Buffer.from(other.publicKey.split(/\s+/)[1]!, 'base64')).digest('base64').replace(/=+$/, '')}`;
    const target = join(sshd.dir, 'never-written');
    const r = await postRestore({ restore_target: sftpTarget(), restore_auth: sshAuth(pinned), parameters: { [DIRECTORY_TYPE]: { restore_path: target } } });
    expect(r.status, r.text).toBe(200);
    const done = await finalRestore(r.body.restore.id);
    expect(done.body.restore.status).toBe('fail');
    const reason = Object.values(done.body.restore.resources_reason).join();
    expect(reason).toContain('Host key check failed');
    expect(reason).toContain(sshd.fingerprint);
    expect(reason).toContain('not the host_key of restore_auth');
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(h.dataDir, 'restore-staging'))).toEqual([]);
    expect(await credentialRows()).toEqual([]);
    expect(`${done.text}${await everyTableText()}`).not.toContain(secretLine);
  });

  it('refuses with a 400 and writes nothing: a target the plugin does not support, or a target and credentials that cannot work', async () => {
    const before = await restoreCount();
    const dir = { [DIRECTORY_TYPE]: { restore_path: join(sshd.dir, 'refused') } };
    const cases: { restore: Record<string, unknown>; says: string }[] = [
      { restore: { restore_target: 'http://keystone.example:5000/v3', restore_auth: { type: 'password', username: 'bob', password: 'hunter2-secret' } }, says: 'plugin hoard.io/directory restores Hoard::FileSystem::Directory only to sftp, ssh targets' },
      { restore: { restore_target: 'not a url at all' }, says: 'restore_target is not a URL' },
      { restore: { restore_target: sftpTarget(), restore_auth: { type: 'password', username: sshd.user, password: 'hunter2-secret' } }, says: 'has no host_key' },
      { restore: { restore_target: `sftp://${sshd.user}:hunter2-secret@${sshd.host}:${sshd.port}`, restore_auth: sshAuth() }, says: 'carries a password' },
      { restore: { restore_target: sftpTarget() }, says: 'needs restore_auth' },
      { restore: { restore_target: sftpTarget(), restore_auth: { type: 'ssh', username: sshd.user, private_key: sshd.clientKey } }, says: 'needs host_key' },
      { restore: { restore_target: sftpTarget(), restore_auth: sshAuth('trust me') }, says: 'host_key must be an OpenSSH SHA256: fingerprint' },
      { restore: { restore_target: `sftp://${sshd.host}:${sshd.port}/srv/data`, restore_auth: sshAuth() }, says: 'give the directory on it as the restore_path parameter' },
      { restore: { restore_target: sftpTarget(), restore_auth: { ...sshAuth(), token: 'x' } }, says: "Unknown field 'token'" },
    ];
    for (const c of cases) {
      const r = await postRestore({ ...c.restore, parameters: dir });
      expect(r.status, r.text).toBe(400);
      expect(r.body.badRequest.message).toContain(c.says);
      expect(r.text).not.toContain('hunter2');
      expect(r.text).not.toContain(secretLine);
    }
    expect(await restoreCount()).toBe(before);
    expect(await credentialRows()).toEqual([]);
    await expect(lstat(join(sshd.dir, 'refused'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a worker whose directory plugin has no remote access fails the resource instead of restoring in place', async () => {
    await role!.stop();
    // Same plugin name, another build: it declares no restore targets (say, a worker without SFTP access).
    const registry = new PluginRegistry();
    for (const t of h.hoard.registry.types()) registry.registerProtectable(h.hoard.registry.protectable(t));
    registry.registerProtectionPlugin(directoryPlugin(h.hoard.config.protectables.directory.roots));
    registry.registerProtectionPlugin(noopPlugin);
    const banks = providerBanks(bankSpecs(h.hoard.config));
    const worker = createWorker({ store: h.hoard.store, registry, banks, sink: bankSink(h.hoard.store, banks), options: { tickMs: 50 } });
    worker.start();
    try {
      // Inside the roots: a plugin that ignored the target would restore here, or over the original.
      const inPlace = join(h.root, 'app');
      const before = await treeOf(inPlace);
      const target = join(h.root, 'other-build');
      const r = await postRestore({ restore_target: sftpTarget(), restore_auth: sshAuth(), parameters: { [DIRECTORY_TYPE]: { restore_path: target, conflict: 'overwrite' } } });
      expect(r.status, r.text).toBe(200);
      const done = await finalRestore(r.body.restore.id);
      expect(done.body.restore.status).toBe('fail');
      expect(Object.values(done.body.restore.resources_reason).join()).toContain('plugin hoard.io/directory in this worker restores only in place, not to sftp://');
      await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await treeOf(inPlace)).toEqual(before);
      expect(await credentialRows()).toEqual([]);
    } finally {
      await worker.stop();
      role = startProtection(h.hoard, { tickMs: 50 });
    }
  });

  it('hoard restore create takes the credentials from --restore-auth-file, keeping them out of argv', async () => {
    const authFile = join(h.dataDir, 'restore-auth.json');
    await writeFile(authFile, JSON.stringify(sshAuth()), { mode: 0o600 });
    const target = join(sshd.dir, 'by-cli');
    const env = { ...process.env, HOARD_URL: h.url, HOARD_TOKEN: token, HOARD_PROJECT: 'demo', NO_COLOR: '1' };
    const args = ['restore', 'create', '--checkpoint', checkpointId, '--provider', DEFAULT_PROVIDER_ID, '--restore-target', sftpTarget(),
      '--restore-auth-file', authFile, '--parameters-json', JSON.stringify({ [DIRECTORY_TYPE]: { restore_path: target } }), '--json'];
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), env },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).not.toContain(secretLine);
    const done = await finalRestore(JSON.parse(out.stdout).restore.id);
    expect(done.body.restore.status, done.text).toBe('success');
    expect(await treeOf(target)).toEqual(await treeOf(source));
  });
});
