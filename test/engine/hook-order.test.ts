/**
 * Karbor's hook order (ARCHITECTURE decision 2) on a three-level graph with shared nodes, recorded by a
 * plugin and checked rule by rule on both databases; and proof that independent mains overlap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/engine/graph/index.js';
import { HOOKS, type HookName } from '../../src/plugins/sdk/index.js';
import { DIALECTS } from '../helpers/store.js';
import { checkpointStatus, harness, type EngineHarness } from './harness.js';
import { LAB, labRegistry, P, SHARED } from './lab.js';
import { recordingPlugin, type Call, type Recorder } from './recording.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** barrier resolves once `n` callers are waiting at the same time, or rejects after `ms`. */
function barrier(n: number, ms: number) {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return async () => {
    if (++waiting >= n) open();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`main ran alone: ${n} mains were never in flight together`)), ms));
    await Promise.race([opened, timeout]);
  };
}

describe.each(DIALECTS)('hook order on %s', (dialect) => {
  let h: EngineHarness;
  let rec: Recorder;
  afterEach(() => h?.close());

  const protect = async () => {
    rec = recordingPlugin();
    const registry = labRegistry(SHARED);
    h = await harness(dialect, registry, rec.plugin);
    const graph = await buildGraph([P], (r) => registry.dependents({ projectId: 'demo', parameters: {} }, r));
    const cp = await h.protect([P], { [LAB.volume]: { tier: 'gold' }, [`${LAB.volume}#v2`]: { tier: 'silver', keep: '7' } });
    return { cp, graph };
  };

  it('runs every hook once and satisfies every ordering rule', async () => {
    const { cp, graph } = await (async () => {
      const r = await protect();
      // Random small delays let any order the scheduler allows actually happen.
      rec.script = async (_ctx, hook) => { if (hook !== 'main') await sleep(Math.random() * 8); };
      return r;
    })();
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('available');
    const call = (key: string, hook: HookName): Call => {
      const found = rec.calls.filter((c) => c.key === key && c.hook === hook);
      expect(found, `${key} ${hook}`).toHaveLength(1);
      return found[0]!;
    };
    const before = (a: Call, b: Call) => expect(a.end, `${a.key} ${a.hook} must end before ${b.key} ${b.hook} starts`).toBeLessThan(b.start);
    expect(rec.calls).toHaveLength(graph.nodes.size * HOOKS.length);
    for (const [key, node] of graph.nodes) {
      for (let i = 1; i < HOOKS.length; i++) before(call(key, HOOKS[i - 1]!), call(key, HOOKS[i]!));
      for (const child of node.children) {
        before(call(key, 'prepareBegin'), call(child, 'prepareBegin'));
        before(call(child, 'prepareFinish'), call(key, 'prepareFinish'));
        before(call(child, 'complete'), call(key, 'complete'));
      }
    }
    // The shared image has two parents and waits for / precedes both.
    for (const parent of [`${LAB.server}#s1`, `${LAB.server}#s2`]) before(call(parent, 'prepareBegin'), call(`${LAB.image}#i`, 'prepareBegin'));
    expect(call(`${LAB.volume}#v1`, 'main').parameters).toEqual({ tier: 'gold' });
    expect(call(`${LAB.volume}#v2`, 'main').parameters).toEqual({ tier: 'silver', keep: '7' });
    expect(call(`${LAB.server}#s1`, 'main').parameters).toEqual({});
  });

  it('runs the mains of independent resources in parallel', async () => {
    const { cp } = await protect();
    const meet = barrier(2, 3000);
    rec.script = async (_ctx, hook) => { if (hook === 'main') await meet(); };
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('available');
    const mains = rec.calls.filter((c) => c.hook === 'main');
    const overlapping = mains.some((a) => mains.some((b) => a !== b && a.start < b.end && b.start < a.end));
    expect(overlapping).toBe(true);
  });

  it('fails the barrier when mains are serialised (the check above can fail)', async () => {
    const { cp } = await protect();
    const meet = barrier(2, 300);
    let inMain = Promise.resolve();
    // Chain every main behind the previous one: the barrier must time out.
    rec.script = async (_ctx, hook) => {
      if (hook !== 'main') return;
      const prev = inMain;
      let release!: () => void;
      inMain = new Promise((r) => { release = r; });
      await prev;
      try { await meet(); } finally { release(); }
    };
    await h.settle({ checkpointId: cp });
    expect(await checkpointStatus(h.store, cp)).toBe('error');
  });
});
