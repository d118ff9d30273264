/**
 * The "lab" resource family for engine tests: protectables whose dependents come from a declared map,
 * so a test can build any graph (multi-level, shared nodes, cycles) without touching a real system.
 */
import { SDK_VERSION, type Protectable, type Resource } from '../../src/plugins/sdk/index.js';
import { PluginRegistry } from '../../src/plugins/registry.js';

export const LAB = { project: 'Lab::Test::Project', server: 'Lab::Test::Server', volume: 'Lab::Test::Volume', image: 'Lab::Test::Image' } as const;
const PARENTS: Record<string, string[]> = {
  [LAB.project]: [],
  // A volume may hold a server only so that tests can build a cycle.
  [LAB.server]: [LAB.project, LAB.volume],
  [LAB.volume]: [LAB.server, LAB.project],
  [LAB.image]: [LAB.server, LAB.project],
};

/** res makes a lab resource; the name defaults to the id. */
export const res = (type: string, id: string, name = id, extraInfo: Record<string, unknown> | null = null): Resource => ({ type, id, name, extraInfo });

/** Holdings maps a parent's `Type#id` to the resources it holds. */
export type Holdings = Record<string, readonly Resource[]>;

/** labProtectables registers one protectable per lab type answering dependents from `holdings`. */
export function labProtectables(holdings: Holdings): Protectable[] {
  return Object.entries(PARENTS).map(([type, parentTypes]) => ({
    sdkVersion: SDK_VERSION,
    resourceType: type,
    parentTypes,
    list: async () => [],
    show: async () => undefined,
    dependents: async (_ctx, parent) => (holdings[`${parent.type}#${parent.id}`] ?? []).filter((r) => r.type === type),
  }));
}

/** labRegistry is a registry holding only the lab family (plugins are added by each test). */
export function labRegistry(holdings: Holdings): PluginRegistry {
  const registry = new PluginRegistry();
  for (const p of labProtectables(holdings)) registry.registerProtectable(p);
  return registry;
}

/**
 * SHARED is a three-level graph with shared nodes: project P holds servers S1 and S2; S1 holds volume
 * V1 and image I; S2 holds I (shared) and V2; P also holds V2 directly (shared across levels).
 */
export const P = res(LAB.project, 'p', 'the project');
export const S1 = res(LAB.server, 's1', 'web');
export const S2 = res(LAB.server, 's2', 'db');
export const V1 = res(LAB.volume, 'v1', 'web data', { az: 'nova' });
export const V2 = res(LAB.volume, 'v2', 'db data');
export const I = res(LAB.image, 'i', 'café image');
export const SHARED: Holdings = {
  [`${LAB.project}#p`]: [S1, S2, V2],
  [`${LAB.server}#s1`]: [V1, I],
  [`${LAB.server}#s2`]: [I, V2],
};
