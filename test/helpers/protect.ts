/**
 * Helpers for tests that protect and restore directories through the real HTTP API: wait for a state,
 * compare trees, and run one protect or restore to its end.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import type { TestHoard } from './hoard.js';

/** until polls read() until done() holds (about 30 s at most). */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** treeContents maps every file below dir (relative path) to its bytes in base64. */
export async function treeContents(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, await treeContents(dir, key));
    else out[key] = (await readFile(join(dir, key))).toString('base64');
  }
  return out;
}

/** protectDirectory makes a plan of one directory and a checkpoint of it, and waits for its end state. */
export async function protectDirectory(h: TestHoard, token: string, providerId: string, dir: string): Promise<{ planId: string; checkpointId: string; checkpoint: Record<string, any> }> {
  const resources = [{ id: directoryId(dir), type: DIRECTORY_TYPE, name: dir }];
  const plan = await h.api('POST', '/v1/demo/plans', { token, body: { plan: { name: 'data', provider_id: providerId, resources } } });
  expect(plan.status, plan.text).toBe(200);
  const planId = plan.body.plan.id as string;
  const created = await h.api('POST', `/v1/demo/providers/${providerId}/checkpoints`, { token, body: { checkpoint: { plan_id: planId } } });
  expect(created.status, created.text).toBe(200);
  const checkpointId = created.body.checkpoint.id as string;
  const shown = await until(() => h.api('GET', `/v1/demo/providers/${providerId}/checkpoints/${checkpointId}`, { token }),
    (r) => r.body.checkpoint.status !== 'protecting', 'protection');
  return { planId, checkpointId, checkpoint: shown.body.checkpoint };
}

/** restoreDirectory restores a checkpoint into target and waits for the restore's end state. */
export async function restoreDirectory(h: TestHoard, token: string, providerId: string, checkpointId: string, target: string): Promise<Record<string, any>> {
  const restore = await h.api('POST', '/v1/demo/restores', {
    token, body: { restore: { provider_id: providerId, checkpoint_id: checkpointId, parameters: { [DIRECTORY_TYPE]: { restore_path: target } } } },
  });
  expect(restore.status, restore.text).toBe(200);
  const done = await until(() => h.api('GET', `/v1/demo/restores/${restore.body.restore.id}`, { token }), (r) => r.body.restore.status !== 'in_progress', 'restore');
  return done.body.restore;
}

/** deleteCheckpoint deletes a checkpoint and waits until it is `deleted` (or fails the test). */
export async function deleteCheckpoint(h: TestHoard, token: string, providerId: string, checkpointId: string): Promise<void> {
  const del = await h.api('DELETE', `/v1/demo/providers/${providerId}/checkpoints/${checkpointId}`, { token });
  expect(del.status, del.text).toBe(200);
  const end = await until(() => h.api('GET', `/v1/demo/providers/${providerId}/checkpoints/${checkpointId}`, { token }),
    (r) => ['deleted', 'error-deleting'].includes(r.body.checkpoint.status), 'delete');
  expect(end.body.checkpoint.status).toBe('deleted');
}
