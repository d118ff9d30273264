/**
 * Local hooks and the pre/post pairing, with real processes on the Hoard host: success, failure,
 * timeout (the whole process group stops), onError continue, cancellation, and post hooks that run
 * exactly once after a failed pre hook or main work.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HookError, SqlSessions, beginHooks, parseHookSpec, runHook, runPostHooks, withHooks,
  type Hook, type HookReport, type LocalHook,
} from '../../src/plugins/hooks/index.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'hoard-hooks-')); });
afterEach(async () => { if (!process.env.HOARD_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true }); });

const sh = (line: string, over: Partial<LocalHook> = {}): LocalHook => ({ kind: 'local', command: [line], shell: true, timeoutSeconds: 60, ...over });
const append = (file: string, word: string, over: Partial<LocalHook> = {}): Hook => sh(`echo ${word} >> ${join(dir, file)}`, over);
const lines = async (file: string) => (await readFile(join(dir, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);

async function failure(p: Promise<unknown>): Promise<HookError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HookError);
  return err as HookError;
}

const run = (hook: LocalHook, signal?: AbortSignal) => runHook(hook, { sessions: new SqlSessions(), ...(signal ? { signal } : {}) });

describe('local hooks', () => {
  it('runs argv without a shell, with env and cwd, and captures output', async () => {
    process.env.HOARD_NOT_PASSED = 'only with inheritEnv';
    const res = await run({ kind: 'local', command: ['/bin/sh', '-c', 'pwd; echo "$GREETING $HOARD_NOT_PASSED"; echo warn >&2', 'x'], cwd: dir, env: { GREETING: 'hi' } });
    expect(res).toMatchObject({ exitCode: 0, stdout: `${dir}\nhi \n`, stderr: 'warn\n', truncated: false });
    const literal = await run({ kind: 'local', command: ['echo', '$HOME;', 'rm -rf /'] });
    expect(literal.stdout).toBe('$HOME; rm -rf /\n');
    const inherited = await run({ kind: 'local', command: ['/bin/sh', '-c', 'echo "$HOARD_NOT_PASSED"'], inheritEnv: true });
    expect(inherited.stdout).toBe('only with inheritEnv\n');
  });

  it('fails with the exit code and the tail of stderr', async () => {
    const err = await failure(run(sh('echo starting; echo "fsfreeze: /data: not mounted" >&2; exit 4')));
    expect(err.reason).toBe('hook_failed');
    expect(err.message).toContain('exited with code 4: fsfreeze: /data: not mounted');
    expect(err.result).toMatchObject({ exitCode: 4, stdout: 'starting\n' });
    const missing = await failure(run({ kind: 'local', command: ['/no/such/hoard-binary'] }));
    expect(missing.message).toMatch(/does not exist on the Hoard host/);
  });

  it('bounds its output, keeping the end', async () => {
    const res = await run(sh('seq 1 100000', { maxOutputBytes: 1024 }));
    expect(res.truncated).toBe(true);
    expect(res.stdout.endsWith('99999\n100000\n')).toBe(true);
    expect(res.stdout.length).toBeLessThan(1200);
  });

  it('stops the whole process group on timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const err = await failure(run(sh(`sleep 300 & echo $! > ${pidFile}; wait`, { timeoutSeconds: 1 })));
    expect(err.reason).toBe('hook_timeout');
    expect(err.message).toMatch(/timeout of 1 s/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });

  it('stops on cancellation', async () => {
    const ctl = new AbortController();
    const p = run(sh('sleep 300'), ctl.signal);
    setTimeout(() => ctl.abort(), 200);
    expect((await failure(p)).reason).toBe('hook_cancelled');
  });

  it('keeps env secrets out of output and messages', async () => {
    process.env.HOARD_TEST_LOCAL_SECRET = 'local-s3cret-value';
    const err = await failure(run(sh('echo "using $TOKEN"; echo "bad $TOKEN" >&2; exit 1', { env: { TOKEN: 'env:HOARD_TEST_LOCAL_SECRET' } })));
    expect(JSON.stringify({ m: err.message, r: err.result })).not.toContain('local-s3cret-value');
    expect(err.result?.stdout).toBe('using ***\n');
    const missing = await failure(run(sh('true', { env: { TOKEN: 'env:HOARD_TEST_UNSET_VAR' } })));
    expect(missing.reason).toBe('hook_secret_unavailable');
  });
});

describe('pre/post pairing', () => {
  it('continues past a failing hook with onError continue', async () => {
    const reports: HookReport[] = [];
    const spec = parseHookSpec({ pre: [sh('exit 2', { onError: 'continue' }), append('log', 'pre')], post: [append('log', 'post')] });
    const { value } = await withHooks(spec, { onReport: (r) => reports.push(r) }, async () => 'done');
    expect(value).toBe('done');
    expect(reports.map((r) => r.status)).toEqual(['failed', 'ok', 'ok']);
    expect(await lines('log')).toEqual(['pre', 'post']);
  });

  it('runs the post hooks exactly once after the main work failed', async () => {
    const spec = parseHookSpec({ pre: [append('log', 'pre')], post: [append('log', 'post'), append('log', 'on-failure', { when: 'onFailure' }), append('log', 'on-success', { when: 'onSuccess' })] });
    await expect(withHooks(spec, {}, async () => { throw new Error('backup failed'); })).rejects.toThrow('backup failed');
    expect(await lines('log')).toEqual(['pre', 'post', 'on-failure']);
  });

  it('runs the post hooks once when a pre hook fails, and does not run main', async () => {
    const spec = parseHookSpec({ pre: [append('log', 'pre1'), sh('exit 7'), append('log', 'pre3')], post: [append('log', 'post')] });
    let ran = false;
    const err = await failure(withHooks(spec, {}, async () => { ran = true; }));
    expect(err.message).toContain('code 7');
    expect(ran).toBe(false);
    expect(await lines('log')).toEqual(['pre1', 'post']);
  });

  it('end() runs post hooks once however often it is called, and runs every post hook even after one fails', async () => {
    const spec = parseHookSpec({ pre: [append('log', 'pre')], post: [sh('exit 3'), append('log', 'post')] });
    const scope = await beginHooks(spec);
    const [a, b] = await Promise.all([scope.end('failure'), scope.end('success')]);
    expect(a).toBe(b);
    expect(await scope.end('success')).toBe(a);
    expect(a.failure?.reason).toBe('hook_failed');
    expect(await lines('log')).toEqual(['pre', 'post']);
  });

  it('post hooks run after cancellation of the operation', async () => {
    const ctl = new AbortController();
    const spec = parseHookSpec({ pre: [append('log', 'pre')], post: [append('log', 'post')] });
    const p = withHooks(spec, { signal: ctl.signal }, async (signal) => {
      ctl.abort();
      expect(signal?.aborted).toBe(true);
      throw new Error('cancelled');
    });
    await expect(p).rejects.toThrow('cancelled');
    expect(await lines('log')).toEqual(['pre', 'post']);
  });

  it('runPostHooks runs post hooks without their sessions after a restart', async () => {
    const spec = parseHookSpec({
      pre: [{ kind: 'sql', driver: 'mysql', connection: { host: '127.0.0.1', user: 'root' }, statement: 'FLUSH TABLES WITH READ LOCK', session: 'lock' }, append('log', 'pre')],
      post: [{ kind: 'sql', session: 'lock', statement: 'UNLOCK TABLES' }, append('log', 'post')],
    });
    const res = await runPostHooks(spec, 'failure');
    expect(res.reports.map((r) => r.status)).toEqual(['skipped', 'ok']);
    expect(res.reports[0]!.skipped).toMatch(/session 'lock' was never opened/);
  });
});

describe('parseHookSpec', () => {
  it('accepts a full spec and refuses what cannot work, saying where', () => {
    expect(() => parseHookSpec({ pre: [{ kind: 'local', command: [] }] })).toThrow(/pre\/0\/command|pre/);
    expect(() => parseHookSpec({ pre: [{ kind: 'local', command: ['a', 'b'], shell: true }] })).toThrow(/single command line/);
    expect(() => parseHookSpec({ post: [{ kind: 'sql', session: 'x', statement: 'UNLOCK TABLES' }] })).toThrow(/no pre hook opens session 'x'/);
    expect(() => parseHookSpec({ pre: [{ kind: 'sql', statement: 'CHECKPOINT' }] })).toThrow(/needs driver and connection/);
    expect(() => parseHookSpec({ pre: [sh('true', { when: 'always' })] })).toThrow(/post hooks only/);
    expect(() => parseHookSpec({ pre: [{ kind: 'ssh', host: 'h', user: 'u', hostKey: {}, auth: {}, script: 'x' }] })).toThrow(HookError);
    expect(() => parseHookSpec({ pre: [{ kind: 'ssh', host: 'h', user: 'u', hostKey: { fingerprint: `SHA256:${'a'.repeat(43)}` }, auth: {}, script: 'x' }] })).toThrow(/privateKey or password/);
    expect(() => parseHookSpec({ pre: [sh('true', { onError: 'ignore' as never })] })).toThrow(HookError);
    expect(parseHookSpec(JSON.stringify({ post: [sh('true')] })).post).toHaveLength(1);
    expect(() => parseHookSpec('{pre:')).toThrow(/not JSON/);
  });
});

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
