/**
 * `hoard serve` as a user starts it: the real program in its own process with no configuration file,
 * answering the version document and the OpenAPI document, with a token made by `hoard token create`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';

let dir: string;
let port: number;
let server: ChildProcess;
let log = '';
const env = () => ({ ...process.env, HOARD_DATA_DIR: dir, HOARD_LISTEN_PORT: String(port) });
const hoard = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: env() }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hoard-serve-'));
  port = await freePort();
  server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`hoard serve did not start:\n${log}`);
});

afterAll(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await rm(dir, { recursive: true, force: true });
});

it('answers the version document at / with HTTP 300', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect(res.status).toBe(300);
  const body = (await res.json()) as { versions: { id: string; status: string; links: { href: string }[] }[] };
  expect(body.versions[0]).toMatchObject({ id: 'v1.0', status: 'CURRENT' });
  expect(body.versions[0]!.links[0]!.href).toBe(`http://127.0.0.1:${port}/v1/`);
});

it('serves an OpenAPI document naming every Karbor collection', async () => {
  const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  expect(doc.openapi).toMatch(/^3\./);
  for (const p of ['plans', 'providers/{provider_id}/checkpoints', 'restores', 'verifications', 'triggers', 'scheduled_operations', 'operation_logs', 'protectables', 'os-services']) {
    expect(Object.keys(doc.paths).some((k) => k.startsWith(`/v1/{project_id}/${p}`)), p).toBe(true);
  }
});

it('accepts a token from `hoard token create` and refuses requests without one', async () => {
  const made = await hoard(['token', 'create', '--project', 'demo', '--role', 'member']);
  expect(made.code, made.stderr).toBe(0);
  const token = made.stdout.trim();
  expect(token).toMatch(/^hoard_/);
  const ok = await fetch(`http://127.0.0.1:${port}/v1/demo/plans`, { headers: { 'X-Auth-Token': token } });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ plans: [] });
  const anon = await fetch(`http://127.0.0.1:${port}/v1/demo/plans`);
  expect(anon.status).toBe(401);
  expect(((await anon.json()) as { unauthorized: { code: number } }).unauthorized.code).toBe(401);
  const listed = await hoard(['token', 'list', '--json']);
  expect(listed.stdout).not.toContain(token);
});
