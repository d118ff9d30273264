/**
 * hoard-cli is the benchmark's child process for Hoard, so that wall time and peak memory are measured
 * for Hoard exactly as for restic (a fresh process under /usr/bin/time). Usage:
 *   hoard-cli init <bank> | backup <bank> <dir> | restore <bank> <target>
 * The passphrase comes from HOARD_PASSWORD. Prints one JSON line of stats.
 */
import { fsBackend } from '../src/bank/fs/index.js';
import { Repository, backupTree, listSnapshots, restoreTree, saveSnapshot } from '../src/bank/repo/index.js';

const [cmd, bank, path] = process.argv.slice(2);
const pass = process.env.HOARD_PASSWORD ?? '';
const backend = fsBackend({ root: bank! });

// HOARD_MEMLOG=1 prints the main thread's peak memory split at exit, to tell heap, buffers and workers apart.
const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
if (process.env.HOARD_MEMLOG === '1') {
  setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k]);
  }, 50).unref();
  process.on('exit', () => console.error(`peak MiB ${Object.entries(peak).map(([k, v]) => `${k}=${(v / 2 ** 20).toFixed(0)}`).join(' ')}`));
}

async function main(): Promise<unknown> {
  if (cmd === 'init') return (await Repository.init(backend, pass)).config.id;
  // HOARD_INLINE=1 keeps codec work on the main thread, to measure what the worker pool buys.
  const repo = await Repository.open(backend, pass, { workers: process.env.HOARD_INLINE === '1' ? 0 : 'shared' });
  const latest = (await listSnapshots(repo)).at(-1);
  if (cmd === 'backup') {
    const { root, stats } = await backupTree(repo, path!, { parent: latest?.snapshot.sections.files?.root });
    const id = await saveSnapshot(repo, { parent: latest?.id, tags: [], sections: { files: { kind: 'tree', root, bytes: stats.bytes, items: stats.files } } });
    return { id, ...stats, ...repo.stats };
  }
  if (cmd === 'restore' && latest) return restoreTree(repo, latest.snapshot.sections.files!.root, path!);
  throw new Error(`usage: hoard-cli init|backup|restore <bank> [path]`);
}

main().then((r) => {
  console.log(JSON.stringify(r));
  process.exit(0);
}, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
