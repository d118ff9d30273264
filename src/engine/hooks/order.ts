/**
 * Karbor's hook order (ARCHITECTURE decision 2) as a table, and the task DAG it yields for a graph.
 * "Parent" holds "child" (a server holds its volumes). Between two resources: the parent's prepareBegin
 * before the child's; every child's prepareFinish before the parent's; every child's complete before
 * the parent's. Within a resource the four hooks run in order. `main` has no edge across resources,
 * so mains run in parallel once their own prepareFinish is done. A shared child gets edges to every parent.
 */
import { HOOKS, type HookName } from '../../plugins/sdk/index.js';
import { postOrder, type ResourceGraph } from '../graph/index.js';

/** Between says which tasks an ordering rule links: one resource's own hooks, or parent and child. */
export type Between = 'same' | 'parentToChild' | 'childToParent';

/** HOOK_ORDER: `before` of the first resource runs before `after` of the second. */
export const HOOK_ORDER: readonly { readonly before: HookName; readonly after: HookName; readonly between: Between }[] = [
  { before: 'prepareBegin', after: 'prepareFinish', between: 'same' },
  { before: 'prepareFinish', after: 'main', between: 'same' },
  { before: 'main', after: 'complete', between: 'same' },
  { before: 'prepareBegin', after: 'prepareBegin', between: 'parentToChild' },
  { before: 'prepareFinish', after: 'prepareFinish', between: 'childToParent' },
  { before: 'complete', after: 'complete', between: 'childToParent' },
];

/**
 * TaskDag numbers tasks `node × 4 + hook` over the graph's post-order, and holds each task's successors.
 * Immutable once built; O(nodes + edges) memory.
 */
export interface TaskDag {
  readonly keys: readonly string[];
  readonly count: number;
  readonly successors: readonly (readonly number[])[];
  index(key: string, hook: HookName): number;
  /** node is a resource's position in `keys` (its tasks are node × 4 … node × 4 + 3). */
  node(key: string): number;
  task(i: number): { readonly key: string; readonly hook: HookName };
}

/** taskDag builds the DAG of a graph's tasks from HOOK_ORDER. */
export function taskDag(g: ResourceGraph): TaskDag {
  const keys = postOrder(g);
  const pos = new Map(keys.map((k, i) => [k, i]));
  const hookPos = new Map(HOOKS.map((h, i) => [h, i]));
  const index = (key: string, hook: HookName) => pos.get(key)! * HOOKS.length + hookPos.get(hook)!;
  const successors: number[][] = Array.from({ length: keys.length * HOOKS.length }, () => []);
  for (const key of keys) {
    for (const rule of HOOK_ORDER) for (const [a, b] of pairs(g, key, rule.between)) successors[index(a, rule.before)]!.push(index(b, rule.after));
  }
  return { keys, count: successors.length, successors, index, node: (key) => pos.get(key)!, task: (i) => ({ key: keys[Math.floor(i / HOOKS.length)]!, hook: HOOKS[i % HOOKS.length]! }) };
}

/** pairs lists the (first, second) resources a rule links, as seen from one node. */
function pairs(g: ResourceGraph, key: string, between: Between): [string, string][] {
  const children = g.nodes.get(key)!.children;
  if (between === 'same') return [[key, key]];
  if (between === 'parentToChild') return children.map((c) => [key, c]);
  return children.map((c) => [c, key]);
}
