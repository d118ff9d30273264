/**
 * The full cycle of the default provider (`hoard.io/directory`, file-system bank) with the REAL Karbor
 * CLI and the engine running: a plan of one directory holding a small tree with files of several modes
 * and mtimes, a symlink, an empty directory and an oddly named file; checkpoint-create until
 * `available`, restore-create into an empty directory until `success` and a byte-for-byte comparison of
 * the restored tree; an incremental second checkpoint; checkpoint-delete until `deleted`. Also: a restore
 * onto the non-empty original that the default conflict policy refuses, and a plan whose resource name
 * is not the path its id names, which protect refuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, lutimes, mkdir, readFile, readdir, readlink, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fsBackend } from '../../src/bank/index.js';
import { Repository, loadSnapshot } from '../../src/bank/repo/index.js';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { getResourceMetadata } from '../../src/store/operations.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { damagePacks } from '../helpers/bank-damage.js';
import { fsBankPath, startHoard, type TestHoard } from '../helpers/hoard.js';
import { karbor, propertyTable } from '../helpers/karbor.js';

vi.setConfig({ testTimeout: 300_000 });

let h: TestHoard;
let protection: ProtectionRole;
let token: string;
let source: string;
const run = (...args: string[]) => karbor(`${h.url}/v1/demo`, token, args);
const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;
const ODD = 'odd name ü #%&;\'"$ (1).txt';

/** until runs a CLI show until `field` reads `want`; a different terminal value fails at once. */
async function until(args: string[], field: string, want: string, terminal: readonly string[] = []): Promise<Record<string, string>> {
  for (let i = 0; i < 60; i++) {
    const r = await run(...args);
    expect(r.code, out(r)).toBe(0);
    const shown = propertyTable(r.stdout);
    if (shown[field] === want) return shown;
    if (terminal.includes(shown[field] ?? '')) throw new Error(`${args.join(' ')} ended ${field}=${shown[field]}: ${JSON.stringify(shown)}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`${args.join(' ')} never showed ${field}=${want}`);
}

const at = (iso: string) => new Date(iso);

/** makeTree writes the source tree; directory times are set last, deepest first. */
async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, 'nested', 'deep'), { recursive: true });
  const files: [string, Buffer | string, number, string][] = [
    ['readme.txt', 'hello, hoard\n', 0o644, '2020-01-02T03:04:05.678Z'],
    ['bin/run.sh', '#!/bin/sh\necho ok\n', 0o755, '2021-06-07T08:09:10.000Z'],
    ['secret.key', randomBytes(100), 0o600, '2019-12-31T23:59:59.000Z'],
    [ODD, 'odd\n', 0o640, '2022-02-02T02:02:02.000Z'],
    ['nested/deep/big.bin', randomBytes(3 * 1024 * 1024 + 17), 0o644, '2023-03-03T03:03:03.000Z'],
    ['nested/empty-file', '', 0o444, '2018-08-08T08:08:08.000Z'],
  ];
  for (const [name, data, mode, time] of files) {
    await writeFile(join(dir, name), data);
    await chmod(join(dir, name), mode);
    await utimes(join(dir, name), at(time), at(time));
  }
  await symlink('readme.txt', join(dir, 'link'));
  await lutimes(join(dir, 'link'), at('2017-07-07T07:07:07.000Z'), at('2017-07-07T07:07:07.000Z'));
  await chmod(join(dir, 'empty'), 0o700);
  for (const [d, time] of [['nested/deep', '2016-01-01T00:00:00.000Z'], ['nested', '2016-02-01T00:00:00.000Z'], ['empty', '2016-03-01T00:00:00.000Z'], ['bin', '2016-04-01T00:00:00.000Z']] as const) {
    await utimes(join(dir, d), at(time), at(time));
  }
}

/** describeTree lists every entry below `dir` with type, mode, mtime (ns) and content or link target. */
async function describeTree(dir: string, rel = ''): Promise<Record<string, unknown>> {
  const outp: Record<string, unknown> = {};
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = join(dir, rel, name);
    const key = rel ? `${rel}/${name}` : name;
    const st = await lstat(path, { bigint: true });
    const base = { mode: (Number(st.mode) & 0o7777).toString(8), mtimeNs: st.mtimeNs.toString() };
    if (st.isSymbolicLink()) outp[key] = { type: 'symlink', target: await readlink(path), ...base };
    else if (st.isDirectory()) {
      outp[key] = { type: 'dir', ...base };
      Object.assign(outp, await describeTree(dir, key));
    } else outp[key] = { type: 'file', size: Number(st.size), sha256: createHash('sha256').update(await readFile(path)).digest('hex'), ...base };
  }
  return outp;
}

/** snapshotsIn counts the snapshot objects of a file-system bank (none when the folder is gone). */
async function snapshotsIn(bank: string): Promise<number> {
  try {
    return (await readdir(join(bank, 'snapshots'))).filter((n) => n.endsWith('~obj')).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

beforeAll(async () => {
  h = await startHoard();
  protection = startProtection(h.hoard, { tickMs: 100 });
  token = await h.token('demo', 'member');
  source = join(h.root, 'data');
  await mkdir(source);
  await makeTree(source);
});
afterAll(async () => {
  await protection?.stop();
  await h?.close();
});

/** protectSource makes a plan of the source directory and a checkpoint of it, and waits until it is available. */
async function protectSource(name: string): Promise<{ planId: string; checkpointId: string }> {
  const plan = await run('plan-create', name, DEFAULT_PROVIDER_ID, `${directoryId(source)}=${DIRECTORY_TYPE}=${source}`);
  expect(plan.code, out(plan)).toBe(0);
  const planId = propertyTable(plan.stdout).id!;
  return { planId, checkpointId: await checkpointOf(planId) };
}

/** checkpointOf creates a checkpoint of a plan and waits until it is available. */
async function checkpointOf(planId: string): Promise<string> {
  const created = await run('checkpoint-create', DEFAULT_PROVIDER_ID, planId);
  expect(created.code, out(created)).toBe(0);
  const cp = propertyTable(created.stdout);
  expect(cp.status).toBe('protecting');
  await until(['checkpoint-show', DEFAULT_PROVIDER_ID, cp.id!], 'status', 'available', ['error']);
  return cp.id!;
}

describe('karbor CLI, default provider (hoard.io/directory), engine running', () => {
  it('protects a directory into the bank, restores it byte for byte into an empty directory, and deletes it', async () => {
    const expected = await describeTree(source);
    const { planId, checkpointId } = await protectSource('data');
    const cp = { id: checkpointId };

    // The bank was created on first use, keyed by a private key file beside it.
    const bank = fsBankPath(h.hoard.config);
    expect((await stat(`${bank}.key`)).mode & 0o777).toBe(0o600);
    expect(await snapshotsIn(bank)).toBeGreaterThanOrEqual(1);
    const before = await snapshotsIn(bank);

    // Restore into an empty directory: the tree comes back exactly.
    const target = join(h.root, 'restored');
    await mkdir(target);
    const restore = await run('restore-create', DEFAULT_PROVIDER_ID, cp.id!, '--parameters', `resource_type=${DIRECTORY_TYPE},restore_path=${target}`);
    expect(restore.code, out(restore)).toBe(0);
    const restoreId = propertyTable(restore.stdout).id!;
    const restored = await until(['restore-show', restoreId], 'status', 'success', ['fail']);
    expect(restored.resources_status).toContain(`${DIRECTORY_TYPE}#${directoryId(target)}`);
    expect(restored.resources_status).toContain('available');
    expect(await describeTree(target)).toEqual(expected);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['link', 'empty', ODD, 'nested/deep/big.bin']));

    // A second checkpoint of the plan is incremental: its snapshot names the first one's as parent.
    const key = `${DIRECTORY_TYPE}#${directoryId(source)}`;
    const savedOf = async (id: string) => JSON.parse((await getResourceMetadata(h.hoard.store.db, id, key))!) as { snapshot: string; files: number; bytes: number };
    const second = await checkpointOf(planId);
    const [one, two] = [await savedOf(cp.id!), await savedOf(second)];
    expect(two).toMatchObject({ files: one.files, bytes: one.bytes });
    expect(two.snapshot).not.toBe(one.snapshot);
    const repo = await Repository.open(fsBackend({ root: bank }), await readFile(`${bank}.key`), { workers: 0 });
    expect((await loadSnapshot(repo, two.snapshot)).parent).toBe(one.snapshot);
    expect(await snapshotsIn(bank)).toBe(before + 1);

    const del = await run('checkpoint-delete', DEFAULT_PROVIDER_ID, cp.id!);
    expect(del.code, out(del)).toBe(0);
    await until(['checkpoint-show', DEFAULT_PROVIDER_ID, cp.id!], 'status', 'deleted', ['error-deleting']);
    expect(await snapshotsIn(bank)).toBe(before);
    expect(await snapshotsIn(bank)).toBeGreaterThan(0);
    // The second checkpoint still restores after the first was deleted.
    const again = join(h.root, 'restored-again');
    const r2 = await run('restore-create', DEFAULT_PROVIDER_ID, second, '--parameters', `resource_type=${DIRECTORY_TYPE},restore_path=${again}`);
    expect(r2.code, out(r2)).toBe(0);
    await until(['restore-show', propertyTable(r2.stdout).id!], 'status', 'success', ['fail']);
    expect(await describeTree(again)).toEqual(expected);
  });

  it('refuses, with the default conflict policy, to restore over the non-empty original directory', async () => {
    const expected = await describeTree(source);
    const { checkpointId: cpId } = await protectSource('data-again');
    // No restore_path: the original path, which is not empty; no conflict: `fail`.
    const refused = await run('restore-create', DEFAULT_PROVIDER_ID, cpId, '--parameters', `resource_type=${DIRECTORY_TYPE}`);
    expect(refused.code, out(refused)).toBe(0);
    const refusedId = propertyTable(refused.stdout).id!;
    const shown = await until(['restore-show', refusedId], 'status', 'fail', ['success']);
    const statusKey = `${DIRECTORY_TYPE}#${directoryId(source)}`;
    expect(shown.resources_reason).toContain(statusKey);
    const failed = await h.api('GET', `/v1/demo/restores/${refusedId}`, { token });
    expect(failed.body.restore.resources_status).toEqual({ [statusKey]: 'error' });
    expect(Object.keys(failed.body.restore.resources_reason)).toEqual([statusKey]);
    expect(failed.body.restore.resources_reason[statusKey]).toBe(
      `main failed: Restore target ${source} exists and is not empty; restore into an empty or new directory, or pass conflict=skip or conflict=overwrite.`,
    );
    // Nothing was written into the original.
    expect(await describeTree(source)).toEqual(expected);
  });

  it('refuses to restore outside the configured roots, directly or through a symlink, and writes nothing there', async () => {
    const { checkpointId: cpId } = await protectSource('data-confined');
    const outside = join(h.dataDir, 'outside-restore');
    await mkdir(join(h.root, 'escape-parent'));
    await symlink(h.dataDir, join(h.root, 'escape'));
    for (const [wanted, shownAs] of [
      [outside, outside],
      [join(h.root, '..', 'dotdot'), join(h.dataDir, 'dotdot')],
      [join(h.root, 'escape', 'via-link'), join(h.root, 'escape', 'via-link')],
    ]) {
      const r = await run('restore-create', DEFAULT_PROVIDER_ID, cpId, '--parameters', `resource_type=${DIRECTORY_TYPE},restore_path=${wanted}`);
      expect(r.code, out(r)).toBe(0);
      const id = propertyTable(r.stdout).id!;
      await until(['restore-show', id], 'status', 'fail', ['success']);
      const shown = await h.api('GET', `/v1/demo/restores/${id}`, { token });
      expect(shown.body.restore.resources_reason[`${DIRECTORY_TYPE}#${directoryId(source)}`]).toBe(
        `main failed: Restore target ${shownAs} is outside the directory roots this Hoard may write to (${h.root}); choose a restore_path inside one of them.`,
      );
    }
    for (const name of ['outside-restore', 'dotdot', 'via-link']) await expect(stat(join(h.dataDir, name))).rejects.toThrow(/ENOENT/);
  });

  it('verifies a checkpoint with verification-create, and a flipped byte in the bank fails it naming the file', async () => {
    const { checkpointId: cpId } = await protectSource('data-verified');
    const statusKey = `${DIRECTORY_TYPE}#${directoryId(source)}`;
    const ok = await run('verification-create', DEFAULT_PROVIDER_ID, cpId);
    expect(ok.code, out(ok)).toBe(0);
    const okId = propertyTable(ok.stdout).id!;
    const passed = await until(['verification-show', okId], 'status', 'success', ['fail']);
    expect(passed.resources_status).toContain(statusKey);
    const shown = await h.api('GET', `/v1/demo/verifications/${okId}`, { token });
    expect(shown.body.verification.resources_status).toEqual({ [statusKey]: 'available' });
    expect(shown.body.verification.progress.overall).toMatchObject({ resources_done: 1, resources_total: 1 });

    // Damage every pack of the bank in one byte: big.bin's data is in one of them.
    const damage = await damagePacks(fsBankPath(h.hoard.config));
    try {
      const bad = await run('verification-create', DEFAULT_PROVIDER_ID, cpId);
      expect(bad.code, out(bad)).toBe(0);
      const badId = propertyTable(bad.stdout).id!;
      await until(['verification-show', badId], 'status', 'fail', ['success']);
      const failed = await h.api('GET', `/v1/demo/verifications/${badId}`, { token });
      expect(failed.body.verification.resources_status).toEqual({ [statusKey]: 'error' });
      expect(failed.body.verification.resources_reason[statusKey]).toMatch(/files of .* are damaged or missing in the bank: .*nested\/deep\/big\.bin/);
    } finally {
      // Later tests restore from this bank.
      await damage.undo();
    }
  });

  it('refuses to protect a path other than the one the resource id names', async () => {
    // Plans keep the caller's name; the id (checked at plan time) is what binds the resource to a real path.
    const elsewhere = join(h.dataDir, 'outside-the-roots');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'private.txt'), 'not yours');
    const plan = await run('plan-create', 'sneaky', DEFAULT_PROVIDER_ID, `${directoryId(source)}=${DIRECTORY_TYPE}=${elsewhere}`);
    expect(plan.code, out(plan)).toBe(0);
    const created = await run('checkpoint-create', DEFAULT_PROVIDER_ID, propertyTable(plan.stdout).id!);
    expect(created.code, out(created)).toBe(0);
    const cpId = propertyTable(created.stdout).id!;
    await until(['checkpoint-show', DEFAULT_PROVIDER_ID, cpId], 'status', 'error', ['available']);
    const shown = await h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${cpId}`, { token });
    expect(shown.body.checkpoint.progress.error).toContain(`Directory ${elsewhere} (real path ${elsewhere}) is not the directory resource ${directoryId(source)} names`);
  });
});
