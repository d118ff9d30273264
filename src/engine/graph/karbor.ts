/**
 * Karbor's `resource_graph` text: `[nodes, adjacency]` where nodes maps hex ids ("0x0", "0x1", … given
 * in post-order, children first) to `[type, id, name, extra_info]` and adjacency lists
 * `[parent_sid, [child_sids]]` for nodes with children, children before parents. The text is what
 * Python's json.dumps writes (", " and ": " separators, non-ASCII escaped), so a checkpoint shows the
 * same bytes Karbor would have shown.
 */
import { HoardError } from '../../model/errors.js';
import type { Resource } from '../../plugins/sdk/index.js';
import { postOrder, resourceKey, type GraphNode, type ResourceGraph } from './model.js';

type PackedNode = [string, string, string, unknown];
type Packed = [Record<string, PackedNode>, [string, string[]][]];

/** serializeGraph packs a graph as Karbor did; deterministic for a given graph. */
export function serializeGraph(g: ResourceGraph): string {
  const sids = new Map<string, string>();
  const nodes: Record<string, PackedNode> = {};
  const adjacency: [string, string[]][] = [];
  for (const key of postOrder(g)) {
    const sid = `0x${sids.size.toString(16)}`;
    sids.set(key, sid);
    const { resource: r, children } = g.nodes.get(key)!;
    nodes[sid] = [r.type, r.id, r.name, r.extraInfo ?? null];
    if (children.length > 0) adjacency.push([sid, children.map((c) => sids.get(c)!)]);
  }
  return pythonJson([nodes, adjacency]);
}

/** deserializeGraph reads Karbor's text back; roots are the nodes no adjacency entry names as a child. */
export function deserializeGraph(text: string): ResourceGraph {
  const [packedNodes, adjacency] = parsePacked(text);
  const keyOf = new Map<string, string>();
  const resources = new Map<string, Resource>();
  for (const [sid, [type, id, name, extraInfo]] of Object.entries(packedNodes)) {
    const r: Resource = { type, id, name, extraInfo: (extraInfo ?? null) as Resource['extraInfo'] };
    keyOf.set(sid, resourceKey(r));
    resources.set(resourceKey(r), r);
  }
  const childrenOf = new Map<string, string[]>();
  for (const [parent, children] of adjacency) childrenOf.set(sidKey(keyOf, parent), children.map((c) => sidKey(keyOf, c)));
  const nodes = new Map<string, GraphNode>();
  for (const [key, resource] of resources) nodes.set(key, { key, resource, children: childrenOf.get(key) ?? [] });
  const held = new Set([...childrenOf.values()].flat());
  return { nodes, roots: [...nodes.keys()].filter((k) => !held.has(k)) };
}

function sidKey(keyOf: Map<string, string>, sid: string): string {
  const key = keyOf.get(sid);
  if (key === undefined) throw badGraph(`its adjacency names node ${sid}, which it does not list`);
  return key;
}

function parsePacked(text: string): Packed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badGraph('it is not JSON');
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'object' || v[0] === null || !Array.isArray(v[1])) throw badGraph('it is not [nodes, adjacency]');
  for (const n of Object.values(v[0] as object)) {
    if (!Array.isArray(n) || n.length !== 4 || typeof n[0] !== 'string' || typeof n[1] !== 'string' || typeof n[2] !== 'string') throw badGraph('a node is not [type, id, name, extra_info]');
  }
  return v as Packed;
}

function badGraph(why: string): HoardError {
  return new HoardError('invalid_state', `The checkpoint's resource graph cannot be read: ${why}.`);
}

/** pythonJson writes JSON the way Python's json.dumps does by default. */
export function pythonJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyString(k)}: ${pythonJson(x)}`).join(', ')}}`;
  if (typeof v === 'string') return pyString(v);
  return JSON.stringify(v);
}

function pyString(s: string): string {
  // ensure_ascii: Python escapes everything outside printable ASCII, DEL included, in lowercase hex.
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
