/**
 * `hoard checkpoint show --watch` and `hoard restore show --watch` as a user runs them: a child process
 * follows a real protection and a real restore to their end, drawing progress lines (bar, bytes, items,
 * resources) on stderr, then prints the final object; a failed restore exits 1.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatBytes, progressLine, rate } from '../../src/cli/client/watch.js';
import { DEFAULT_PROVIDER_ID } from '../../src/config/index.js';
import { directoryId, DIRECTORY_TYPE } from '../../src/plugins/file-tree/index.js';
import { startProtection, type ProtectionRole } from '../../src/roles/protection.js';
import { startHoard, type TestHoard } from '../helpers/hoard.js';

vi.setConfig({ testTimeout: 300_000 });

interface Run { code: number; stdout: string; stderr: string }

let h: TestHoard;
let role: ProtectionRole;
let env: NodeJS.ProcessEnv;
let source: string;

function hoard(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), env, timeout: 240_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  h = await startHoard();
  role = startProtection(h.hoard, { tickMs: 100 });
  source = join(h.root, 'data');
  await mkdir(source);
  for (let i = 0; i < 40; i++) await writeFile(join(source, `f${i}.bin`), randomBytes(256 * 1024));
  env = { ...process.env, HOARD_URL: h.url, HOARD_TOKEN: await h.token('demo'), HOARD_PROJECT: 'demo', NO_COLOR: '1', FORCE_COLOR: '0' };
});
afterAll(async () => {
  await role?.stop();
  await h?.close();
});

describe('--watch', () => {
  it('follows a checkpoint to available and a restore to success, and exits 1 for a failed restore', async () => {
    const plan = await hoard(['plan', 'create', '--name', 'watched', '--resource', `${DIRECTORY_TYPE}=${directoryId(source)}=${source}`, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const planId = JSON.parse(plan.stdout).plan.id as string;
    const created = await hoard(['checkpoint', 'create', '--plan', planId, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const cpId = JSON.parse(created.stdout).checkpoint.id as string;

    const watched = await hoard(['checkpoint', 'show', cpId, '--watch', '--interval', '0.2', '--json']);
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stderr.trim().split('\n');
    const last = lines.at(-1)!;
    expect(last).toMatch(/^available\s+\[#{24}\] 100%\s+10\.0 MiB \/ 10\.0 MiB\s+41\/41 items\s+1\/1 resources/);
    expect(JSON.parse(watched.stdout).checkpoint).toMatchObject({ id: cpId, status: 'available' });

    const target = join(h.root, 'restored');
    const restore = await hoard(['restore', 'create', '--checkpoint', cpId, '--provider', DEFAULT_PROVIDER_ID,
      '--parameters-json', JSON.stringify({ [DIRECTORY_TYPE]: { restore_path: target } }), '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    const rWatched = await hoard(['restore', 'show', JSON.parse(restore.stdout).restore.id, '--watch', '--interval', '0.2', '--json']);
    expect(rWatched.code, rWatched.stderr).toBe(0);
    expect(rWatched.stderr.trim().split('\n').at(-1)).toMatch(/^success\s+\[#{24}\] 100%\s+10\.0 MiB \/ 10\.0 MiB/);

    // Into the non-empty source with the default conflict policy: the restore fails, and so does the command.
    const refused = await hoard(['restore', 'create', '--checkpoint', cpId, '--provider', DEFAULT_PROVIDER_ID, '--json']);
    expect(refused.code, refused.stderr).toBe(0);
    const fWatched = await hoard(['restore', 'show', JSON.parse(refused.stdout).restore.id, '--watch', '--interval', '0.2']);
    expect(fWatched.code).toBe(1);
    expect(fWatched.stderr.trim().split('\n').at(-1)).toMatch(/^fail\s/);
    expect(fWatched.stdout).toContain('exists and is not empty');
  });

  it('refuses a nonsense interval', async () => {
    const r = await hoard(['checkpoint', 'show', 'x', '--watch', '--interval', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--interval 0: expected a number of seconds');
  });
});

describe('progress line', () => {
  it('shows bar, bytes, items, resources, throughput and ETA from known totals', () => {
    const overall = { bytes_done: 256 * 1024 * 1024, bytes_total: 1024 * 1024 * 1024, items_done: 10, items_total: 40, resources_done: 1, resources_total: 4, hooks_done: 5, hooks_total: 16 };
    const r = rate([{ at: 0, bytes: 0 }, { at: 4000, bytes: 256 * 1024 * 1024 }]);
    expect(r).toBe(64 * 1024 * 1024);
    expect(progressLine('protecting', overall, r)).toBe(
      `protecting   [######..................]  25%  256.0 MiB / 1.0 GiB  10/40 items  1/4 resources  64.0 MiB/s  ETA 12s`,
    );
    // No byte total: the bar follows hooks, which are known before work starts; no ETA is invented.
    expect(progressLine('protecting', { bytes_done: 5, hooks_done: 4, hooks_total: 16, resources_done: 0, resources_total: 4 }, undefined))
      .toBe(`protecting   [######..................]  25%  ${formatBytes(5)}  0/4 resources`);
  });
});
