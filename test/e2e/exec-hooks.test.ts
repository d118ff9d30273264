/**
 * Exec hooks on a plan, end to end through the API and the engine: a pre hook run agentless over SSH
 * on a real sshd (the "guest" is this machine) writes a dump into the directory before it is protected,
 * so the checkpoint holds it; a local post hook runs once after the resource completes. A failing pre
 * hook fails the checkpoint with the hook named, and the post hook still runs exactly once. A hook spec
 * that breaks its rules is refused when the plan is saved.
 */
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';
import { restoreDirectory, until } from '../helpers/protect.js';
import { sshdAvailable, startSshd, type Sshd } from '../helpers/sshd.js';

vi.setConfig({ testTimeout: 300_000 });

let h: TestHoard;
let role: ProtectionRole;
let sshd: Sshd;
let token: string;
let keyFile: string;

beforeAll(async () => {
  h = await startHoard();
  role = startProtection(h.hoard, { tickMs: 100 });
  token = await h.token('demo');
  if (sshdAvailable()) {
    sshd = await startSshd();
    keyFile = join(h.dataDir, 'guest-key');
    await writeFile(keyFile, sshd.clientKey, { mode: 0o600 });
    await chmod(keyFile, 0o600);
  }
});
afterAll(async () => {
  await role?.stop();
  await sshd?.stop();
  await h?.close();
});

async function planWithHooks(dir: string, hooks: unknown): Promise<{ status: number; body: any; text: string }> {
  const resources = [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }];
  return h.api('POST', '/v1/demo/plans', {
    token, body: { plan: { name: 'hooked', provider_id: DEFAULT_PROVIDER_ID, resources, parameters: { [`${DIRECTORY_TYPE}#${directoryId(dir)}`]: { hooks } } } },
  });
}

async function checkpointOf(planId: string): Promise<Record<string, any>> {
  const created = await h.api('POST', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints`, { token, body: { checkpoint: { plan_id: planId } } });
  expect(created.status, created.text).toBe(200);
  const id = created.body.checkpoint.id as string;
  const shown = await until(() => h.api('GET', `/v1/demo/providers/${DEFAULT_PROVIDER_ID}/checkpoints/${id}`, { token }),
    (r) => r.body.checkpoint.status !== 'protecting', 'protection');
  return shown.body.checkpoint;
}

describe('exec hooks', () => {
  it.skipIf(!sshdAvailable())('an SSH pre hook writes a dump that the checkpoint holds; the local post hook runs once', async () => {
    const source = join(h.root, 'db');
    await mkdir(source);
    await writeFile(join(source, 'table.dat'), 'rows\n');
    const marker = join(h.dataDir, 'post-ran');
    const hooks = {
      pre: [{
        kind: 'ssh', name: 'flush', host: sshd.host, port: sshd.port, user: sshd.user,
        hostKey: { fingerprint: sshd.fingerprint }, auth: { privateKey: `file:${keyFile}` },
        script: `#!/bin/sh\nset -e\necho "flushed $1" > '${source}/dump.sql'\n`, args: ['all'], tempDir: sshd.guestTmp,
      }],
      post: [{ kind: 'local', name: 'resume', command: ['sh', '-c', `echo resumed >> '${marker}'`] }],
    };
    // The Karbor CLI can only send strings: the spec as JSON text is accepted and kept parsed.
    const plan = await planWithHooks(source, JSON.stringify(hooks));
    expect(plan.status, plan.text).toBe(200);
    expect(plan.body.plan.parameters[`${DIRECTORY_TYPE}#${directoryId(source)}`].hooks.pre[0]).toMatchObject({ kind: 'ssh', name: 'flush' });

    const cp = await checkpointOf(plan.body.plan.id);
    expect(cp.status, JSON.stringify(cp.progress)).toBe('available');
    expect(await readFile(marker, 'utf8')).toBe('resumed\n');
    // The guest's temp directory is left clean.
    expect(await readdir(sshd.guestTmp)).toEqual([]);

    const target = join(h.root, 'db-restored');
    const restored = await restoreDirectory(h, token, DEFAULT_PROVIDER_ID, cp.id, target);
    expect(restored.status).toBe('success');
    expect(await readFile(join(target, 'dump.sql'), 'utf8')).toBe('flushed all\n');
    expect(await readFile(join(target, 'table.dat'), 'utf8')).toBe('rows\n');
  });

  it('a failing pre hook fails the checkpoint naming the hook, and the post hook still runs once', async () => {
    const source = join(h.root, 'app');
    await mkdir(source);
    await writeFile(join(source, 'a.txt'), 'a\n');
    const marker = join(h.dataDir, 'post-after-failure');
    const plan = await planWithHooks(source, {
      pre: [{ kind: 'local', name: 'quiesce', command: ['sh', '-c', 'echo cannot quiesce >&2; exit 3'] }],
      post: [{ kind: 'local', name: 'unquiesce', command: ['sh', '-c', `echo unquiesced >> '${marker}'`] }],
    });
    expect(plan.status, plan.text).toBe(200);
    const cp = await checkpointOf(plan.body.plan.id);
    expect(cp.status).toBe('error');
    expect(cp.progress.error).toContain('quiesce');
    expect(cp.progress.error).toContain('cannot quiesce');
    // The exec hook's stable code leads the reason (docs/errors.md), after the resource and hook it failed in.
    expect(cp.progress.error).toMatch(/prepareBegin failed: hook_failed: /);
    expect(await readFile(marker, 'utf8')).toBe('unquiesced\n');
  });

  it('refuses a plan whose hook spec breaks its rules, naming the resource and the problem', async () => {
    const source = join(h.root, 'bad');
    await mkdir(source);
    const before = (await h.api('GET', '/v1/demo/plans', { token })).body.plans.length;
    const bad = await planWithHooks(source, { pre: [{ kind: 'ssh', host: '127.0.0.1', user: 'root', script: 'true' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain(`Invalid exec hooks for ${DIRECTORY_TYPE}#${directoryId(source)}: The hook spec is not valid`);
    const notJson = await planWithHooks(source, '{pre: nope');
    expect(notJson.status).toBe(400);
    // Secrets written inline are never shown back; references are.
    const inline = await planWithHooks(source, { pre: [{ kind: 'ssh', host: '127.0.0.1', user: 'root', hostKey: { fingerprint: `SHA256:${'A'.repeat(43)}` }, auth: { password: 'hunter2' }, script: 'true' }],
      post: [{ kind: 'sql', driver: 'postgres', connection: { host: '127.0.0.1', user: 'u', password: 'env:PGPASS' }, statement: 'SELECT 1' }] });
    expect(inline.status, inline.text).toBe(200);
    expect(inline.text).not.toContain('hunter2');
    const shownHooks = inline.body.plan.parameters[`${DIRECTORY_TYPE}#${directoryId(source)}`].hooks;
    expect(shownHooks.pre[0].auth.password).toBe('***');
    expect(shownHooks.post[0].connection.password).toBe('env:PGPASS');
    await h.api('DELETE', `/v1/demo/plans/${inline.body.plan.id}`, { token });
    expect((await h.api('GET', '/v1/demo/plans', { token })).body.plans.length).toBe(before);
  });
});
