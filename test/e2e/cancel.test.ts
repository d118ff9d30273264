/**
 * Cancel as a user does it, through the HTTP API of a real server (and the `hoard` CLI): a protection
 * stuck in a plan's pre hook is cancelled and ends `error` with "cancelled by the user at …" on the
 * checkpoint's progress and the operation log, the stuck command is stopped and the post hook runs
 * once; a restore and a verification that no worker took yet end `fail` at once with every resource
 * "not restored/verified: cancelled…", and no worker ever runs them; an ended checkpoint is refused
 * with invalid_state, and another project gets what showing the object gives it (403 for a checkpoint,
 * as Karbor's checkpoint API does; 404 for a restore). States are polled, never timed.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { protectDirectory, until } from '../helpers/protect.js';

vi.setConfig({ testTimeout: 300_000 });

const base = `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`;
let h: TestHoard;
let role: ProtectionRole;
let token: string;

beforeAll(async () => {
  h = await startHoard();
  role = startProtection(h.hoard, { tickMs: 100 });
  token = await h.token('demo');
});
afterAll(async () => {
  await role?.stop();
  await h?.close();
});

const exists = (path: string) => access(path).then(() => true, () => false);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function directory(name: string): Promise<string> {
  const dir = join(h.root, name);
  await mkdir(dir);
  await writeFile(join(dir, 'a.txt'), `${name}\n`);
  return dir;
}

async function logOf(filter: string): Promise<Record<string, any>> {
  const logs = await h.api('GET', `/v1/demo/operation_logs?${filter}`, { token });
  expect(logs.status, logs.text).toBe(200);
  return logs.body.operation_logs[0];
}

describe('cancel over the API', () => {
  it('cancels a protection stuck in a pre hook: error with the reason, the stuck command stopped, the post hook run once', async () => {
    const source = await directory('stuck');
    const marker = join(h.dataDir, 'hook-marks');
    const pidFile = join(h.dataDir, 'stuck.pid');
    const hooks = {
      pre: [
        { kind: 'local', name: 'quiesce', command: ['sh', '-c', `echo quiesced >> '${marker}'`] },
        { kind: 'local', name: 'wait-for-lock', command: ['sh', '-c', `echo $$ > '${pidFile}'; exec sleep 600`], timeoutSeconds: 3600 },
      ],
      post: [{ kind: 'local', name: 'unquiesce', command: ['sh', '-c', `echo unquiesced >> '${marker}'`] }],
    };
    const resources = [{ id: directoryId(source), type: DIRECTORY_TYPE, name: source }];
    const plan = await h.api('POST', '/v1/demo/plans', {
      token, body: { plan: { name: 'stuck', provider_id: DEFAULT_PROVIDER_ID, resources, parameters: { [`${DIRECTORY_TYPE}#${directoryId(source)}`]: { hooks } } } },
    });
    expect(plan.status, plan.text).toBe(200);
    const created = await h.api('POST', base, { token, body: { checkpoint: { plan_id: plan.body.plan.id } } });
    expect(created.status, created.text).toBe(200);
    const id = created.body.checkpoint.id as string;
    await until(() => exists(pidFile), Boolean, 'the pre hook to get stuck');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());

    const cancel = await h.api('POST', `${base}/${id}/cancel`, { token, body: { cancel: { reason: 'maintenance window over' } } });
    expect(cancel.status, cancel.text).toBe(202);
    expect(cancel.body.checkpoint).toMatchObject({ id, cancel: { status: 'requested', requested_by: 'u-demo', reason: 'maintenance window over' } });
    const reason = `cancelled by the user at ${cancel.body.checkpoint.cancel.requested_at} (requested by u-demo): maintenance window over`;

    const shown = await until(() => h.api('GET', `${base}/${id}`, { token }), (r) => r.body.checkpoint.status !== 'protecting', 'the protection to end');
    expect(shown.body.checkpoint.status).toBe('error');
    expect(shown.body.checkpoint.progress).toMatchObject({ status: 'error', error: reason });
    expect(await logOf(`checkpoint_id=${id}`)).toMatchObject({ operation_type: 'protect', status: 'error', error_info: reason });
    // The stuck command's process group was stopped, and the post hook undid the first pre hook, once.
    await until(async () => alive(pid), (a) => !a, 'the stuck pre hook to be stopped');
    const marks = await until(() => readFile(marker, 'utf8'), (m) => m.includes('unquiesced'), 'the post hook');
    expect(marks).toBe('quiesced\nunquiesced\n');

    // Asking again answers as the first time did.
    const again = await h.api('POST', `${base}/${id}/cancel`, { token });
    expect(again.status, again.text).toBe(202);
    expect(again.body.checkpoint).toMatchObject({ status: 'error', cancel: { status: 'ended', requested_at: cancel.body.checkpoint.cancel.requested_at } });
  });

  it('refuses to cancel a checkpoint whose protection ended, and answers another project as showing would', async () => {
    const { checkpointId, checkpoint } = await protectDirectory(h, token, DEFAULT_PROVIDER_ID, await directory('done'));
    expect(checkpoint.status).toBe('available');
    const refused = await h.api('POST', `${base}/${checkpointId}/cancel`, { token, body: {} });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.badRequest).toMatchObject({ reason: 'invalid_state' });
    expect(refused.body.badRequest.message).toMatch(/cannot be cancelled: its protect already ended; it succeeded at /);
    expect((await h.api('GET', `${base}/${checkpointId}`, { token })).body.checkpoint.status).toBe('available');

    // Another project is answered exactly as showing the object would answer it, and nothing changes.
    const other = await h.token('other');
    const shown = await h.api('GET', `/v1/other/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${checkpointId}`, { token: other });
    const hidden = await h.api('POST', `/v1/other/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${checkpointId}/cancel`, { token: other });
    expect(shown.status).toBe(403);
    expect([hidden.status, hidden.body]).toEqual([shown.status, shown.body]);
    const restore = await h.api('POST', '/v1/demo/restores', {
      token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpointId, parameters: { [DIRECTORY_TYPE]: { restore_path: join(h.root, 'done-restored') } } } },
    });
    const hiddenRestore = await h.api('POST', `/v1/other/restores/${restore.body.restore.id}/cancel`, { token: other });
    expect(hiddenRestore.status, hiddenRestore.text).toBe(404);
    expect(hiddenRestore.body.itemNotFound.reason).toBe('restore_not_found');
    expect((await until(() => h.api('GET', `/v1/demo/restores/${restore.body.restore.id}`, { token }), (r) => r.body.restore.status !== 'in_progress', 'restore')).body.restore.status).toBe('success');
    const badBody = await h.api('POST', `${base}/${checkpointId}/cancel`, { token, body: { cancel: { why: 'x' } } });
    expect(badBody.status).toBe(400);
    expect(badBody.body.badRequest.reason).toBe('unknown_field');
  });

  it('ends a restore and a verification that no worker took yet at once; the worker never runs them', async () => {
    const { checkpointId } = await protectDirectory(h, token, DEFAULT_PROVIDER_ID, await directory('kept'));
    await role.stop();
    const target = join(h.root, 'never-restored');
    const restore = await h.api('POST', '/v1/demo/restores', {
      token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpointId, parameters: { [DIRECTORY_TYPE]: { restore_path: target } } } },
    });
    expect(restore.status, restore.text).toBe(200);
    const restoreId = restore.body.restore.id as string;
    const verification = await h.api('POST', '/v1/demo/verifications', { token, body: { verification: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpointId } } });
    expect(verification.status, verification.text).toBe(200);
    const verificationId = verification.body.verification.id as string;

    const r = await h.api('POST', `/v1/demo/restores/${restoreId}/cancel`, { token });
    expect(r.status, r.text).toBe(202);
    expect(r.body.restore).toMatchObject({ status: 'fail', cancel: { status: 'ended', requested_by: 'u-demo', reason: null } });
    const reason = `cancelled by the user at ${r.body.restore.cancel.requested_at} (requested by u-demo)`;
    const key = `${DIRECTORY_TYPE}#${directoryId(join(h.root, 'kept'))}`;
    expect(r.body.restore.resources_status).toEqual({ [key]: 'error' });
    expect(r.body.restore.resources_reason).toEqual({ [key]: `not restored: ${reason}` });
    expect(r.body.restore.progress.error).toBe(reason);
    expect(await logOf(`restore_id=${restoreId}`)).toMatchObject({ status: 'fail', error_info: reason });

    const v = await h.api('POST', `/v1/demo/verifications/${verificationId}/cancel`, { token, body: { cancel: { reason: 'not needed' } } });
    expect(v.status, v.text).toBe(202);
    expect(v.body.verification).toMatchObject({ status: 'fail', cancel: { status: 'ended' } });
    expect(v.body.verification.resources_reason[key]).toMatch(/^not verified: cancelled by the user at .* \(requested by u-demo\): not needed$/);

    // A worker starts and runs a later protection to its end: it claims in submission order, so it has
    // passed the cancelled operations by then, and ran none of their hooks.
    role = startProtection(h.hoard, { tickMs: 100 });
    expect((await protectDirectory(h, token, DEFAULT_PROVIDER_ID, await directory('later'))).checkpoint.status).toBe('available');
    expect(await exists(target)).toBe(false);
    const shown = await h.api('GET', `/v1/demo/restores/${restoreId}`, { token });
    expect(shown.body.restore).toMatchObject({ status: 'fail' });
    expect(shown.body.restore.progress.overall.hooks_done).toBe(0);
  });

  it('hoard restore cancel and hoard checkpoint cancel: ended answers once more, an ended protection is refused with the reason', async () => {
    const { checkpointId } = await protectDirectory(h, token, DEFAULT_PROVIDER_ID, await directory('cli'));
    await role.stop();
    const restore = await h.api('POST', '/v1/demo/restores', {
      token, body: { restore: { provider_id: DEFAULT_PROVIDER_ID, checkpoint_id: checkpointId, parameters: { [DIRECTORY_TYPE]: { restore_path: join(h.root, 'cli-never') } } } },
    });
    expect(restore.status, restore.text).toBe(200);
    const env = { ...process.env, HOARD_URL: h.url, HOARD_TOKEN: token, HOARD_PROJECT: 'demo', NO_COLOR: '1', FORCE_COLOR: '0' };
    const hoard = (args: readonly string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), env, timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    const cancelled = await hoard(['restore', 'cancel', restore.body.restore.id, '--reason', 'wrong target']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`Cancel of restore ${restore.body.restore.id} ended (fail).`);
    const refused = await hoard(['checkpoint', 'cancel', checkpointId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot be cancelled: its protect already ended; it succeeded at .*\(HTTP 400\)/);
    role = startProtection(h.hoard, { tickMs: 100 });
  });
});
