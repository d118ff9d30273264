/**
 * Engine benchmark: protect a plan of 10,000 resources on SQLite with a plugin that implements all four
 * hooks and does no I/O, through the real path (graph build, submission, worker, journal, leases).
 * Prints wall time (submit, run, total), peak RSS and per-hook overhead. The bar (GOALS.md) is ≤ 10 s
 * and ≤ 500 MB; this prints, it never asserts. Run: npm run bench:engine [-- <resources>]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { createEngine, createWorker } from '../src/engine/index.js';
import { PluginRegistry } from '../src/plugins/registry.js';
import { HOOKS, NO_CAPABILITIES, SDK_VERSION, type ProtectionPlugin, type ResourceOperation } from '../src/plugins/sdk/index.js';
import { checkpoints, openStore } from '../src/store/index.js';
import { systemClock } from '../src/util/clock.js';

const N = Number(process.argv[2] ?? 10_000);
const TYPE = 'Bench::Engine::Item';

const noIo: ResourceOperation = Object.fromEntries(HOOKS.map((h) => [h, async () => undefined]));
const plugin: ProtectionPlugin = {
  name: 'hoard.io/bench', sdkVersion: SDK_VERSION, resourceTypes: [TYPE], capabilities: NO_CAPABILITIES,
  schemas: { options: Type.Object({}), restore: Type.Object({}), savedInfo: Type.Object({}) },
  operation: () => noIo,
};

let peakRss = 0;
const sample = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hoard-bench-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'hoard.db')}` });
  const registry = new PluginRegistry();
  registry.registerProtectable({ sdkVersion: SDK_VERSION, resourceType: TYPE, parentTypes: [], list: async () => [], show: async () => undefined, dependents: async () => [] });
  registry.registerProtectionPlugin(plugin);
  const engine = createEngine({ store, registry, clock: systemClock });
  const provider = { id: randomUUID(), plugins: [plugin.name] };
  const resources = Array.from({ length: N }, (_, i) => ({ id: `item-${i}`, type: TYPE, name: `item ${i}`, extraInfo: null }));

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const cp = await engine.protect({ projectId: 'bench', provider, plan: { id: randomUUID(), name: 'bench', providerId: provider.id, parameters: {}, resources }, extraInfo: null });
  const t1 = performance.now();
  const cpuSubmit = process.cpuUsage(cpu0);
  const worker = createWorker({ store, registry, options: { tickMs: 10, concurrency: { global: 64, perPlugin: 64 } } });
  await worker.tick();
  await worker.idle();
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const status = (await checkpoints.getCheckpoint(store.db, cp.id))?.status;
  await worker.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  clearInterval(sample);
  report(status, t0, t1, t2, (cpu.user + cpu.system) / 1e6, (cpuSubmit.user + cpuSubmit.system) / 1e6);
}

function report(status: string | undefined, t0: number, t1: number, t2: number, cpuSeconds: number, cpuSubmitSeconds: number): void {
  const hooks = N * HOOKS.length;
  const line = (k: string, v: string) => console.log(`${k.padEnd(22)} ${v}`);
  line('resources', String(N));
  line('hooks run', String(hooks));
  line('checkpoint status', String(status));
  line('submit (graph+rows)', `${((t1 - t0) / 1000).toFixed(2)} s`);
  line('run (worker)', `${((t2 - t1) / 1000).toFixed(2)} s`);
  line('wall time total', `${((t2 - t0) / 1000).toFixed(2)} s   (bar: ≤ 10 s)`);
  // CPU time is the figure to compare on a shared machine: wall time grows with other processes' load.
  line('CPU time (user+sys)', `${cpuSeconds.toFixed(2)} s   (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs)`);
  line('  of which submit', `${cpuSubmitSeconds.toFixed(2)} s`);
  line('peak RSS', `${(peakRss / 1024 / 1024).toFixed(0)} MB   (bar: ≤ 500 MB)`);
  line('per-hook overhead', `${(((t2 - t1) * 1000) / hooks).toFixed(0)} µs (run time / hooks)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
