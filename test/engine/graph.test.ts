import { describe, expect, it } from 'vitest';
import { buildGraph, deserializeGraph, serializeGraph, type ResourceGraph } from '../../src/engine/graph/index.js';
import { isHoardError } from '../../src/model/errors.js';
import { I, LAB, labRegistry, P, S1, S2, SHARED, V1, V2, type Holdings } from './lab.js';

const build = (holdings: Holdings, start = [P]) => {
  const registry = labRegistry(holdings);
  return buildGraph(start, (r) => registry.dependents({ projectId: 'demo', parameters: {} }, r));
};
const shape = (g: ResourceGraph) => ({ roots: g.roots, children: Object.fromEntries([...g.nodes].map(([k, n]) => [k, n.children])) });

describe('buildGraph', () => {
  it('expands dependents recursively and merges a node reached twice into one shared node', async () => {
    const g = await build(SHARED);
    expect(g.nodes.size).toBe(6);
    expect(shape(g)).toEqual({
      roots: [`${LAB.project}#p`],
      children: {
        [`${LAB.volume}#v1`]: [], [`${LAB.image}#i`]: [], [`${LAB.volume}#v2`]: [],
        [`${LAB.server}#s1`]: [`${LAB.volume}#v1`, `${LAB.image}#i`],
        // Dependents come grouped by protectable (registration order: volumes before images), as in Karbor.
        [`${LAB.server}#s2`]: [`${LAB.volume}#v2`, `${LAB.image}#i`],
        [`${LAB.project}#p`]: [`${LAB.server}#s1`, `${LAB.server}#s2`, `${LAB.volume}#v2`],
      },
    });
    expect(g.nodes.get(`${LAB.image}#i`)?.resource).toEqual(I);
  });

  it('keeps only start resources that no other resource holds, once each', async () => {
    const g = await build(SHARED, [V1, S1, S2, S1]);
    expect(g.roots).toEqual([`${LAB.server}#s1`, `${LAB.server}#s2`]);
    const alone = await build(SHARED, [V1, V2]);
    expect(alone.roots).toEqual([`${LAB.volume}#v1`, `${LAB.volume}#v2`]);
  });

  it('refuses a cycle with an error naming every resource on it', async () => {
    const cyclic: Holdings = { ...SHARED, [`${LAB.volume}#v1`]: [S1] };
    const err = await build(cyclic).catch((e: unknown) => e);
    expect(isHoardError(err)).toBe(true);
    expect((err as Error).message).toContain(`${LAB.server}#s1 → ${LAB.volume}#v1 → ${LAB.server}#s1`);
    expect((err as Error).message).not.toContain(`${LAB.project}#p →`);
  });
});

describe('Karbor resource_graph text', () => {
  it('serializes in post-order, children first, exactly as Karbor (Python json.dumps) writes it', async () => {
    const text = serializeGraph(await build(SHARED));
    expect(text).toBe('[{'
      + '"0x0": ["Lab::Test::Volume", "v1", "web data", {"az": "nova"}], '
      + '"0x1": ["Lab::Test::Image", "i", "caf\\u00e9 image", null], '
      + '"0x2": ["Lab::Test::Server", "s1", "web", null], '
      + '"0x3": ["Lab::Test::Volume", "v2", "db data", null], '
      + '"0x4": ["Lab::Test::Server", "s2", "db", null], '
      + '"0x5": ["Lab::Test::Project", "p", "the project", null]}, '
      + '[["0x2", ["0x0", "0x1"]], ["0x4", ["0x3", "0x1"]], ["0x5", ["0x2", "0x4", "0x3"]]]]');
    expect(JSON.parse(text)[0]['0x1'][2]).toBe('café image');
  });

  it('round-trips: deserializing gives the same nodes, children and roots', async () => {
    const g = await build(SHARED, [S1, S2]);
    const back = deserializeGraph(serializeGraph(g));
    expect(shape(back)).toEqual(shape(g));
    expect([...back.nodes.values()].map((n) => n.resource)).toEqual(expect.arrayContaining([S1, S2, V1, V2, I]));
    expect(serializeGraph(back)).toBe(serializeGraph(g));
  });

  it('reads the graph format other checkpoints carry and refuses a malformed one', () => {
    const g = deserializeGraph('[{"0x0": ["T::A::B", "d1", "/srv", null]}, []]');
    expect(g.roots).toEqual(['T::A::B#d1']);
    expect(() => deserializeGraph('[{"0x0": ["T::A::B", "d1", "/srv", null]}, [["0x1", ["0x0"]]]]')).toThrow(/0x1/);
    expect(() => deserializeGraph('{}')).toThrow(/nodes, adjacency/);
  });
});
