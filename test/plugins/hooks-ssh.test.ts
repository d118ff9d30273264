/**
 * ssh hooks against a real, private sshd on 127.0.0.1 (test/helpers/sshd.ts): upload, run, capture,
 * remove; host key refusal before anything runs; login refusal; secrets kept out of every output;
 * timeouts that kill the remote process group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { HookError, SqlSessions, parseHookSpec, runHook, withHooks, type SshHook } from '../../src/plugins/hooks/index.js';

let sshd: Sshd;
beforeAll(async () => { sshd = await startSshd(); });
afterAll(async () => { await sshd?.stop(); });

function sshHook(over: Partial<SshHook> = {}): SshHook {
  return {
    kind: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user,
    hostKey: { knownHosts: sshd.knownHosts }, auth: { privateKey: sshd.clientKey },
    script: '#!/bin/sh\necho "hello from $(id -un) in $0"\necho to-stderr >&2\n',
    tempDir: sshd.guestTmp, timeoutSeconds: 60, ...over,
  };
}

async function run(hook: SshHook) {
  return runHook(parseHookSpec({ pre: [hook] }).pre![0]!, { sessions: new SqlSessions() });
}

async function failure(hook: SshHook): Promise<HookError> {
  const err = await run(hook).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HookError);
  return err as HookError;
}

describe('ssh hooks', () => {
  it('uploads the script to a private dir, runs it, captures output and removes it', async () => {
    const script = `#!/bin/sh\nstat -c '%a' "$0"\nstat -c '%a' "$(dirname "$0")"\necho "arg=$1 env=$MODE"\necho oops >&2\nexit 0\n`;
    const res = await run(sshHook({ script, args: ["it's"], env: { MODE: 'fast' } }));
    expect(res.exitCode).toBe(0);
    const [fileMode, dirMode, line] = res.stdout.trim().split('\n');
    expect(fileMode).toBe('700');
    expect(dirMode).toBe('700');
    expect(line).toBe("arg=it's env=fast");
    expect(res.stderr).toBe('oops\n');
    expect(await readdir(sshd.guestTmp)).toEqual([]);
  });

  it('reports a failing script with its exit code and stderr, and still removes it', async () => {
    const err = await failure(sshHook({ script: '#!/bin/sh\necho cannot freeze >&2\nexit 3\n' }));
    expect(err.reason).toBe('hook_failed');
    expect(err.message).toMatch(/exited with code 3.*cannot freeze/s);
    expect(err.result?.exitCode).toBe(3);
    expect(await readdir(sshd.guestTmp)).toEqual([]);
  });

  it('accepts a pinned fingerprint and a hashed known_hosts entry', async () => {
    const res = await run(sshHook({ hostKey: { fingerprint: sshd.fingerprint } }));
    expect(res.stdout).toContain('hello from');
    const file = join(sshd.dir, 'known_hosts_hashed');
    await writeFile(file, `# comment\n${sshd.knownHosts}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const hashed = await readFile(file, 'utf8');
    expect(hashed).toMatch(/^\|1\|/m);
    const res2 = await run(sshHook({ hostKey: { knownHosts: hashed } }));
    expect(res2.exitCode).toBe(0);
  });

  it('refuses a host key that does not match, and runs nothing', async () => {
    const other = await sshd.keygen('other_host', ['-t', 'ed25519', '-N', '']);
    const marker = join(sshd.dir, 'ran-wrong-key');
    const script = `#!/bin/sh\ntouch ${marker}\n`;
    const loginsBefore = logins();
    const mismatch = await failure(sshHook({ script, hostKey: { knownHosts: `[127.0.0.1]:${sshd.port} ${other.publicKey}` } }));
    expect(mismatch.reason).toBe('hook_host_key_mismatch');
    expect(mismatch.message).toContain(sshd.fingerprint);
    const pinned = await failure(sshHook({ script, hostKey: { fingerprint: `SHA256:${'A'.repeat(43)}` } }));
    expect(pinned.reason).toBe('hook_host_key_mismatch');
    const unknown = await failure(sshHook({ script, hostKey: { knownHosts: `otherhost ${other.publicKey}` } }));
    expect(unknown.reason).toBe('hook_host_key_unknown');
    expect(unknown.message).toContain(`[127.0.0.1]:${sshd.port}`);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
    expect(await readdir(sshd.guestTmp)).toEqual([]);
    // No login was even attempted: the host key check comes before authentication.
    expect(logins()).toBe(loginsBefore);
  });

  it('refuses a wrong password without repeating it anywhere', async () => {
    const password = 'Wr0ng-Pa55word-3141';
    const err = await failure(sshHook({ auth: { password } }));
    expect(err.reason).toBe('hook_auth_failed');
    expect(JSON.stringify({ message: err.message, result: err.result, stack: err.stack })).not.toContain(password);
  });

  it('keeps the private key, passphrase and secret env values out of errors and output', async () => {
    const key = await sshd.keygen('client_pass', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'pass-phrase-xyz']);
    await sshd.authorize(key.publicKey);
    process.env.HOARD_TEST_HOOK_SECRET = 'sup3r-s3cret-token';
    const script = '#!/bin/sh\necho "token=$TOKEN"\necho "token=$TOKEN" >&2\n';
    const ok = await run(sshHook({ script, auth: { privateKey: key.privateKey, passphrase: 'pass-phrase-xyz' }, env: { TOKEN: 'env:HOARD_TEST_HOOK_SECRET' } }));
    expect(ok.stdout).toBe('token=***\n');
    expect(ok.stderr).toBe('token=***\n');
    const bad = await failure(sshHook({ script: `#!/bin/sh\necho '${key.privateKey.split('\n')[1]}' >&2\nexit 1\n`, auth: { privateKey: key.privateKey, passphrase: 'pass-phrase-xyz' } }));
    expect(bad.message).not.toContain(key.privateKey.split('\n')[1]);
    const wrong = await failure(sshHook({ auth: { privateKey: key.privateKey, passphrase: 'not-the-phrase' } }));
    expect(['hook_spec_invalid', 'hook_auth_failed']).toContain(wrong.reason);
    expect(wrong.message).not.toContain('not-the-phrase');
    expect(wrong.message).not.toContain('BEGIN');
  });

  it('runs the post hook exactly once on the guest after the main work failed', async () => {
    const log = join(sshd.dir, 'pairing.log');
    const spec = parseHookSpec({
      pre: [sshHook({ script: `#!/bin/sh\necho freeze >> ${log}\n` })],
      post: [sshHook({ script: `#!/bin/sh\necho thaw >> ${log}\n` })],
    });
    await expect(withHooks(spec, {}, async () => { throw new Error('snapshot failed'); })).rejects.toThrow('snapshot failed');
    expect((await readFile(log, 'utf8')).split('\n').filter(Boolean)).toEqual(['freeze', 'thaw']);
    expect(await readdir(sshd.guestTmp)).toEqual([]);
  });

  it('says when the guest cannot be reached', async () => {
    const err = await failure(sshHook({ port: 1 }));
    expect(err.reason).toBe('hook_connect_failed');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('kills the remote process group on timeout and removes the script', async () => {
    const pidFile = join(sshd.dir, 'sleeper.pid');
    const script = `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`;
    const err = await failure(sshHook({ script, timeoutSeconds: 2 }));
    expect(err.reason).toBe('hook_timeout');
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
    expect(await readdir(sshd.guestTmp)).toEqual([]);
  });
});

function logins(): number {
  return (sshd.log().match(/(Accepted|Failed) (publickey|password)/g) ?? []).length;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
