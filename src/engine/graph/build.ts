/**
 * Graph building, as Karbor's build_graph does it: start from the plan's resources, ask for each node's
 * dependents recursively (depth first, grey/black sets), merge a node reached twice into one shared
 * node, refuse a cycle, and keep as roots only start resources that are nobody's child.
 */
import { HoardError } from '../../model/errors.js';
import type { Resource } from '../../plugins/sdk/index.js';
import { resourceKey, type GraphNode, type ResourceGraph } from './model.js';

/** DependentsOf lists what a resource holds (the registry's dependents, bound to a project). */
export type DependentsOf = (parent: Resource) => Promise<readonly Resource[]>;

interface Walk {
  readonly dependentsOf: DependentsOf;
  readonly nodes: Map<string, GraphNode>;
  /** grey: on the current path, in path order, so a cycle can be named. */
  readonly grey: string[];
  readonly children: Set<string>;
}

/**
 * buildGraph expands `start` into a resource graph. It calls `dependentsOf` once per distinct node,
 * sequentially (protectables talk to live APIs; order keeps the result deterministic). Errors: a cycle
 * is a HoardError `invalid_state` naming every resource on it; a failing `dependentsOf` propagates.
 */
export async function buildGraph(start: readonly Resource[], dependentsOf: DependentsOf): Promise<ResourceGraph> {
  const walk: Walk = { dependentsOf, nodes: new Map(), grey: [], children: new Set() };
  for (const r of start) await visit(walk, r);
  const roots = [...new Set(start.map(resourceKey))].filter((k) => !walk.children.has(k));
  return { nodes: walk.nodes, roots };
}

async function visit(walk: Walk, r: Resource): Promise<string> {
  const key = resourceKey(r);
  if (walk.grey.includes(key)) throw cycleError(walk, key);
  if (walk.nodes.has(key)) return key;
  walk.grey.push(key);
  const children: string[] = [];
  for (const child of await walk.dependentsOf(r)) {
    const k = await visit(walk, child);
    walk.children.add(k);
    if (!children.includes(k)) children.push(k);
  }
  walk.grey.pop();
  walk.nodes.set(key, { key, resource: r, children });
  return key;
}

function cycleError(walk: Walk, key: string): HoardError {
  const path = [...walk.grey.slice(walk.grey.indexOf(key)), key];
  return new HoardError('invalid_state', `The resources depend on each other in a cycle, so no protection order exists: ${path.join(' → ')}. Remove one of these resources from the plan or break the dependency.`);
}
