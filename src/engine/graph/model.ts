/**
 * The resource graph as the engine holds it: nodes keyed `Type#id`, each naming its children (the
 * resources it holds, Karbor's dependents), and the roots. A node reached from two parents is one node.
 */
import type { Resource } from '../../plugins/sdk/index.js';

/** GraphNode is one resource and the keys of its children, in the order its protectables named them. */
export interface GraphNode {
  readonly key: string;
  readonly resource: Resource;
  readonly children: readonly string[];
}

/** ResourceGraph is a DAG: `nodes` by key, `roots` the nodes no other node holds, in plan order. */
export interface ResourceGraph {
  readonly nodes: ReadonlyMap<string, GraphNode>;
  readonly roots: readonly string[];
}

/** resourceKey is a resource's identity in a graph and in Karbor's parameter and status maps: `Type#id`. */
export function resourceKey(r: Pick<Resource, 'type' | 'id'>): string {
  return `${r.type}#${r.id}`;
}

/**
 * postOrder lists node keys children first, each once, walking roots in order (Karbor's serialization
 * order). Iterative, so a 10,000-deep chain cannot overflow the stack.
 */
export function postOrder(g: ResourceGraph): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const root of g.roots) {
    const stack: { key: string; next: number }[] = [{ key: root, next: 0 }];
    seen.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const child = g.nodes.get(top.key)!.children[top.next++];
      if (child === undefined) {
        out.push(top.key);
        stack.pop();
      } else if (!seen.has(child)) {
        seen.add(child);
        stack.push({ key: child, next: 0 });
      }
    }
  }
  return out;
}

/** parentsOf inverts the child lists: for each key, the keys of the nodes that hold it. */
export function parentsOf(g: ResourceGraph): Map<string, string[]> {
  const parents = new Map<string, string[]>([...g.nodes.keys()].map((k) => [k, []]));
  for (const n of g.nodes.values()) for (const c of n.children) parents.get(c)!.push(n.key);
  return parents;
}
