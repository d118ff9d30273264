/**
 * The resource graph: what a plan protects once every resource's dependents are expanded. Invariants:
 * it is acyclic (building refuses a cycle and names it), a resource appears once however many parents
 * hold it, and its Karbor text form round-trips (serialize then deserialize gives the same nodes,
 * children and roots).
 */
export { buildGraph, type DependentsOf } from './build.js';
export { deserializeGraph, serializeGraph, pythonJson } from './karbor.js';
export { parentsOf, postOrder, resourceKey, type GraphNode, type ResourceGraph } from './model.js';
