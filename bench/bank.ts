/**
 * bench/bank compares Hoard's repository with restic and borg (BENCH_BORG=0 leaves borg out) on the
 * GOALS.md data set, in the same run, as ratios: full backup, backup after changing 1% of files,
 * restore to an empty directory, repository size, peak memory. Each tool runs as a fresh process under
 * /usr/bin/time -v. Usage: npm run bench:bank [-- runs]  (default 3 runs; medians are reported).
 * BENCH_INLINE=1 adds Hoard without worker threads, to show what the codec pool buys.
 * Data and banks live under BENCH_DIR (default /var/tmp/hoard-bench), never in the repository.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildDataset, changeOnePercent, treeBytes } from './dataset.js';
import { tunedEnv, tunedFlags } from '../src/main.js';

const ROOT = process.env.BENCH_DIR ?? '/var/tmp/hoard-bench';
const DATA = join(ROOT, 'data');
const RUNS = Number(process.argv[2] ?? 3);
const PASS = 'bench-passphrase';
const REPO_DIR = resolve(import.meta.dirname, '..');

interface Measure { wall: number; cpu: number; rssMiB: number; out: string }
interface RunResult { full: Measure; incr: Measure; restore: Measure; sizeMiB: number }
interface Tool { name: string; init(repo: string): Promise<void>; backup(repo: string): Promise<Measure>; restore(repo: string, target: string): Promise<Measure> }

function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Measure> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => {
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const num = (re: RegExp) => Number(re.exec(err)?.[1] ?? NaN);
      done({ wall, cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/), rssMiB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, out: out.trim().slice(-400) });
    });
  });
}

function duMiB(path: string): number {
  return Number(spawnSync('du', ['-sb', path]).stdout.toString().split('\t')[0]) / 2 ** 20;
}

// Run Hoard from JavaScript built for the bench, as production would, not through a TS loader.
async function buildHoard(): Promise<string[]> {
  const out = join(ROOT, 'build');
  await rm(out, { recursive: true, force: true });
  const tsc = spawnSync('npx', ['tsc', '--outDir', out, '--rootDir', REPO_DIR, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--skipLibCheck', '--types', 'node', '--verbatimModuleSyntax', '--strict', 'bench/hoard-cli.ts', 'src/bank/repo/codec-worker.ts'], { cwd: REPO_DIR, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('building Hoard for the bench failed');
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  await symlink(join(REPO_DIR, 'node_modules'), join(out, 'node_modules'));
  return [join(out, 'bench', 'hoard-cli.js')];
}

// The `hoard` program (src/main.ts) starts itself again with malloc and V8 tuning before any work;
// hoard-cli has no such launcher, so each Hoard process here gets the same tuning from the same source.
const TUNED_ENV = Object.fromEntries(Object.entries(tunedEnv()).filter(([k, v]) => v !== undefined && process.env[k] === undefined)) as Record<string, string>;

function hoard(cli: string[], inline = false): Tool {
  cli = [...tunedFlags([]), ...cli];
  const env = { ...TUNED_ENV, HOARD_PASSWORD: PASS, HOARD_INLINE: inline ? '1' : '0' };
  return {
    name: inline ? 'hoard-inline' : 'hoard',
    init: async (repo) => void (await timed('node', [...cli, 'init', repo], env)),
    backup: (repo) => timed('node', [...cli, 'backup', repo, DATA], env),
    restore: (repo, target) => timed('node', [...cli, 'restore', repo, target], env),
  };
}

const restic: Tool = {
  name: 'restic',
  init: async (repo) => void (await timed('restic', ['init', '--repo', repo], { RESTIC_PASSWORD: PASS })),
  backup: (repo) => timed('restic', ['backup', '--quiet', '--repo', repo, DATA], { RESTIC_PASSWORD: PASS }),
  restore: (repo, target) => timed('restic', ['restore', 'latest', '--repo', repo, '--target', target], { RESTIC_PASSWORD: PASS }),
};

const borg: Tool = {
  name: 'borg',
  init: async (repo) => void (await timed('borg', ['init', '--encryption', 'repokey', repo], { BORG_PASSPHRASE: PASS })),
  backup: (repo) => timed('borg', ['create', '--compression', 'zstd,3', `${repo}::s${Date.now()}`, DATA], { BORG_PASSPHRASE: PASS }),
  restore: async (repo, target) => {
    await mkdir(target, { recursive: true });
    const last = spawnSync('borg', ['list', '--last', '1', '--short', repo], { env: { ...process.env, BORG_PASSPHRASE: PASS } }).stdout.toString().trim();
    return timedIn(target, 'borg', ['extract', `${repo}::${last}`], { BORG_PASSPHRASE: PASS });
  },
};

async function timedIn(cwd: string, cmd: string, args: string[], env: Record<string, string>): Promise<Measure> {
  const prev = process.cwd();
  process.chdir(cwd);
  try {
    return await timed(cmd, args, env);
  } finally {
    process.chdir(prev);
  }
}

async function runOnce(tool: Tool, run: number): Promise<RunResult> {
  const repo = join(ROOT, `${tool.name}-repo`);
  const target = join(ROOT, `${tool.name}-restore`);
  await rm(repo, { recursive: true, force: true });
  await rm(target, { recursive: true, force: true });
  await tool.init(repo);
  const full = await tool.backup(repo);
  const sizeMiB = duMiB(repo);
  const undo = await changeOnePercent(DATA);
  let incr: Measure;
  try {
    incr = await tool.backup(repo);
  } finally {
    await undo();
  }
  const restore = await tool.restore(repo, target);
  await rm(target, { recursive: true, force: true });
  console.log(`run ${run} ${tool.name}: full ${full.wall.toFixed(1)}s, 1% ${incr.wall.toFixed(1)}s, restore ${restore.wall.toFixed(1)}s, ${sizeMiB.toFixed(0)} MiB, peak ${full.rssMiB.toFixed(0)} MiB`);
  return { full, incr, restore, sizeMiB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function table(results: Map<string, RunResult[]>, bytes: number): void {
  const rows: [string, (r: RunResult) => number, string][] = [
    ['full backup wall (s)', (r) => r.full.wall, 'lower'],
    ['full backup CPU (s)', (r) => r.full.cpu, 'lower'],
    ['1% change backup wall (s)', (r) => r.incr.wall, 'lower'],
    ['restore wall (s)', (r) => r.restore.wall, 'lower'],
    ['restore MB/s', (r) => bytes / 1e6 / r.restore.wall, 'higher'],
    ['repository size (MiB)', (r) => r.sizeMiB, 'lower'],
    ['peak RSS full backup (MiB)', (r) => r.full.rssMiB, 'lower'],
    ['peak RSS restore (MiB)', (r) => r.restore.rssMiB, 'lower'],
  ];
  const tools = [...results.keys()];
  console.log(`\nmedians of ${RUNS} run(s), data set ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  console.log(['metric', ...tools, ...tools.slice(1).map((t) => `hoard/${t}`)].map((s) => s.padEnd(28)).join(''));
  for (const [label, get] of rows) {
    const m = tools.map((t) => median(results.get(t)!.map(get)));
    console.log([label, ...m.map((v) => v.toFixed(2)), ...m.slice(1).map((v) => `${(m[0]! / v).toFixed(2)}x`)].map((s) => String(s).padEnd(28)).join(''));
  }
}

// The peers come from the distribution; install-peers.sh installs whichever is missing (apt-get).
function installPeers(): void {
  const r = spawnSync('sh', [join(REPO_DIR, 'bench', 'install-peers.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('installing restic and borg failed (bench/install-peers.sh)');
}

async function main(): Promise<void> {
  installPeers();
  await mkdir(ROOT, { recursive: true });
  console.log(`data set in ${DATA} ...`);
  await buildDataset(DATA);
  const bytes = await treeBytes(DATA);
  const cli = await buildHoard();
  const tools = [hoard(cli), restic, ...(process.env.BENCH_BORG === '0' ? [] : [borg]), ...(process.env.BENCH_INLINE === '1' ? [hoard(cli, true)] : [])];
  const results = new Map<string, RunResult[]>(tools.map((t) => [t.name, []]));
  for (let run = 1; run <= RUNS; run++) for (const tool of tools) results.get(tool.name)!.push(await runOnce(tool, run));
  table(results, bytes);
  await writeFile(join(ROOT, 'results.json'), JSON.stringify(Object.fromEntries(results), null, 1));
}

await main();
