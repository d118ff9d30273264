#!/usr/bin/env node
/** The `hoard` program: server roles, token management and client verbs. */
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * MEMORY_TUNING is the environment Hoard runs under unless the user set these variables themselves.
 * glibc's malloc reads them once, at process start, so the launcher applies them by starting Hoard
 * again as a child process (see relaunch). Why (bench/bank.ts, full backup of 850 MiB, peak RSS):
 * - MALLOC_ARENA_MAX=2: every thread that allocates (main, codec workers, libuv pool, zstd) gets its
 *   own malloc arena by default, and each grew to ~35 MiB of freed but kept memory.
 * - MALLOC_MMAP_THRESHOLD_=128 KiB: glibc raises the threshold dynamically after the first large
 *   free, so multi-MiB buffers (read segments, sealed arenas, cipher output) then come from the heap
 *   and stay there fragmented; a fixed threshold keeps them in mmap, returned to the system on free.
 * - MALLOC_TRIM_THRESHOLD_=128 KiB: give freed heap tops back early instead of at 128 MiB.
 * Together they cut the peak by about 50 MiB with no measurable time cost.
 */
export const MEMORY_TUNING: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/**
 * NODE_TUNING are V8 flags for the relaunched process (all its isolates, workers included) unless the
 * user gave the same flag in NODE_OPTIONS or on node's command line. The default young generation
 * (16 MiB semi-spaces) lets the main thread hold some 30 MiB more of short-lived objects and the
 * ArrayBuffers they keep alive between scavenges; 4 MiB cost no measurable time in the bench.
 */
export const NODE_TUNING: readonly string[] = ['--max-semi-space-size=4'];

// Set in the relaunched child, so it never relaunches again; HOARD_RELAUNCHED=1 also opts out.
const MARKER = 'HOARD_RELAUNCHED';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** tunedEnv returns `env` with MEMORY_TUNING added where the user has not set a variable. */
export function tunedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [k, v] of Object.entries(MEMORY_TUNING)) if (out[k] === undefined) out[k] = v;
  return out;
}

/** tunedFlags returns NODE_TUNING minus the flags already given in `execArgv` or NODE_OPTIONS. */
export function tunedFlags(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): string[] {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-'));
  return NODE_TUNING.filter((f) => !given.includes(f.split('=')[0]!));
}

/**
 * relaunch runs this same program (same node, node flags, script and arguments) as a child with the
 * tuning above, and mirrors it: stdio is inherited, SIGINT/SIGTERM/SIGHUP are passed on, and its exit
 * code or fatal signal becomes ours. An IPC channel lets the child notice when this process dies
 * without passing anything on (SIGKILL), so that it never outlives its launcher.
 */
function relaunch(): void {
  const env = tunedEnv();
  const added = Object.keys(MEMORY_TUNING).filter((k) => process.env[k] === undefined);
  const child = spawn(process.execPath, [...tunedFlags(), ...process.execArgv, ...process.argv.slice(1)], {
    env: { ...env, [MARKER]: added.join(',') || '1' },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  for (const sig of SIGNALS) process.on(sig, forward);
  child.on('error', (err) => {
    console.error(`hoard: cannot start: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const sig of SIGNALS) process.off(sig, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

// A signal sent to the whole process group (Ctrl-C in a terminal) or cgroup (systemd) reaches the
// relaunched child twice, directly and passed on by the launcher, within milliseconds: the second is
// dropped, or it would end a graceful stop that handles only the first (`hoard serve`). A signal
// nobody else listens for ends the process as it would have without this listener.
const REPEAT_MS = 1000;

function dedupeSignals(): void {
  const seen = new Map<NodeJS.Signals, number>();
  for (const sig of SIGNALS) {
    const on = (): void => {
      const now = Date.now();
      const last = seen.get(sig);
      seen.set(sig, now);
      if (last !== undefined && now - last < REPEAT_MS) return;
      if (process.listenerCount(sig) > 1) return;
      process.off(sig, on);
      process.kill(process.pid, sig);
    };
    process.on(sig, on);
  }
}

// In the relaunched child: malloc has read its variables, so the environment goes back to what the
// user gave (processes Hoard starts, hooks included, inherit that, and a nested hoard tunes itself).
// The child dies with its launcher (the IPC channel closes), but the channel never keeps it alive.
function settle(): void {
  const added = process.env[MARKER] ?? '';
  delete process.env[MARKER];
  for (const k of added.split(',')) if (k in MEMORY_TUNING) delete process.env[k];
  if (!process.send) return;
  dedupeSignals();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel?.unref();
}

async function run(): Promise<void> {
  const { Command } = await import('commander');
  const { serveCommand } = await import('./cli/serve.js');
  const { tokenCommand } = await import('./cli/token.js');
  const { clientCommands } = await import('./cli/client/index.js');
  const { bankCommand } = await import('./cli/bank.js');
  const program = new Command('hoard').description('Hoard: application data protection as a service (Karbor v1 API)').version('0.1.0');
  serveCommand(program);
  tokenCommand(program);
  clientCommands(program);
  bankCommand(program);
  await program.parseAsync(process.argv);
}

// Only as the program itself (also through a symlink such as npm's bin): bench/bank.ts imports tunedEnv from here.
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain() && process.env[MARKER] === undefined) relaunch();
else if (isMain()) {
  settle();
  run().catch((err: unknown) => {
    console.error(`hoard: ${(err as Error).message}`);
    process.exit(1);
  });
}
