/**
 * An operation as the journal stores it and the runner loads it. The graph column freezes the resource
 * graph with the plugin resolved for each node at submission, so a resumed run uses the same plugins
 * and order even if configuration changed meanwhile.
 */
import { HoardError } from '../../model/errors.js';
import type { OperationKind, ProtectionPlugin, Resource, ResourceOperation } from '../../plugins/sdk/index.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { OperationRow, TaskRow } from '../../store/operations.js';
import type { GraphNode, ResourceGraph } from '../graph/index.js';
import { guardTarget } from './restore-target.js';

/** EngineKind is what this engine runs today. */
export type EngineKind = Extract<OperationKind, 'protect' | 'restore' | 'delete' | 'verify' | 'copy'>;

/** reportsResources tells the kinds whose subject keeps Karbor's per-resource resources_status. */
/** statusSubject is the row a restore or verify operation records per-resource statuses on. */
export const statusSubject = (row: { restore_id: string | null; verification_id: string | null }): { table: 'restores' | 'verifications'; id: string } =>
  (row.verification_id ? { table: 'verifications', id: row.verification_id } : { table: 'restores', id: row.restore_id! });

export const reportsResources = (kind: EngineKind): kind is 'restore' | 'verify' => kind === 'restore' || kind === 'verify';

/** ParameterMap is Karbor's parameters: by `Type` and by `Type#id`. */
export type ParameterMap = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** FrozenGraph is the `graph` column: nodes in post-order with their plugin, and the roots. */
export interface FrozenGraph {
  readonly nodes: readonly { readonly resource: Resource; readonly plugin: string; readonly children: readonly string[] }[];
  readonly roots: readonly string[];
}

/** freeze writes a graph and its per-node plugins as the journal's JSON. */
export function freeze(g: ResourceGraph, keys: readonly string[], plugins: ReadonlyMap<string, string>): string {
  const nodes = keys.map((k) => ({ resource: g.nodes.get(k)!.resource, plugin: plugins.get(k)!, children: g.nodes.get(k)!.children }));
  return JSON.stringify({ nodes, roots: g.roots } satisfies FrozenGraph);
}

/** thaw reads the journal's JSON back into a graph and its per-node plugin names. */
export function thaw(text: string): { graph: ResourceGraph; plugins: Map<string, string> } {
  const f = JSON.parse(text) as FrozenGraph;
  const nodes = new Map<string, GraphNode>();
  const plugins = new Map<string, string>();
  for (const n of f.nodes) {
    const key = `${n.resource.type}#${n.resource.id}`;
    nodes.set(key, { key, resource: n.resource, children: n.children });
    plugins.set(key, n.plugin);
  }
  return { graph: { nodes, roots: f.roots }, plugins };
}

/** resolvePlugins picks each node's plugin for a provider and refuses a type no runnable plugin handles. */
export function resolvePlugins(registry: PluginRegistry, pluginNames: readonly string[], g: ResourceGraph, kind: EngineKind): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, node] of g.nodes) {
    const d = registry.resolvePlugin(pluginNames, node.resource.type);
    if (!d) throw new HoardError('invalid_state', `No protection plugin of this provider handles ${node.resource.type} (resource ${node.resource.id}); the provider's plugins are ${pluginNames.join(', ')}.`);
    const behaviour = registry.behaviourOf(d.name);
    if (!behaviour) throw new HoardError('engine_unavailable', `${capital(kind)} of ${node.resource.type} is not available in this build: plugin ${d.name} declares the type but has no ${kind} behaviour yet. The request was valid; nothing was changed.`);
    // A copy with no behaviour would "succeed" with no data in the destination; refuse it up front.
    if (kind === 'copy' && behaviour.operation('copy', node.resource.type) === undefined) {
      throw new HoardError('invalid_state', `Plugin ${d.name} cannot copy ${node.resource.type} (resource ${node.resource.id}); this checkpoint cannot be copied. Nothing was changed.`);
    }
    out.set(key, d.name);
  }
  return out;
}

/**
 * operationOf is the plugin's behaviour for one node, or a plugin-gone error naming it. A restore's
 * behaviour is guarded: a resource whose plugin here does not declare the restore's target fails.
 */
export function operationOf(registry: PluginRegistry, plugin: string, kind: EngineKind, type: string): ResourceOperation {
  const p: ProtectionPlugin | undefined = registry.behaviourOf(plugin);
  if (!p) throw new Error(`plugin ${plugin} that this operation was started with is no longer registered`);
  const op = p.operation(kind, type) ?? {};
  return kind === 'restore' ? guardTarget(p, op) : op;
}

/** LoadedOperation is an operation row with its graph, plugins, parameters, new-id map and tasks parsed. */
export interface LoadedOperation {
  readonly row: OperationRow;
  readonly kind: EngineKind;
  readonly graph: ResourceGraph;
  readonly plugins: ReadonlyMap<string, string>;
  readonly parameters: ParameterMap;
  readonly newResources: NewResources;
  /** started holds the tasks that have left `pending`, by `key|hook`; every other task is pending. */
  readonly started: Map<string, TaskRow>;
}

/**
 * NewResources is a restore's shared original→new id map (HookContext.newResources) that remembers what
 * hooks set since the last `takeAdded`, so that only those entries are journaled after a hook, instead
 * of comparing the whole map before and after every call (quadratic for a large restore).
 */
export class NewResources extends Map<string, string> {
  private added = new Map<string, string>();

  constructor(initial: Readonly<Record<string, string>>) {
    super();
    for (const [k, v] of Object.entries(initial)) super.set(k, v);
  }

  override set(k: string, v: string): this {
    if (this.get(k) !== v) this.added.set(k, v);
    return super.set(k, v);
  }

  /** takeAdded answers the entries set since the last call (undefined when none) and forgets them. */
  takeAdded(): Record<string, string> | undefined {
    if (this.added.size === 0) return undefined;
    const out = Object.fromEntries(this.added);
    this.added = new Map();
    return out;
  }
}

/** taskId is the in-memory key of a task row. */
export const taskId = (resourceKey: string, hook: string) => `${resourceKey}|${hook}`;

/** load parses an operation row and its started tasks (getStartedTasks). */
export function load(row: OperationRow, started: readonly TaskRow[]): LoadedOperation {
  const { graph, plugins } = thaw(row.graph);
  return {
    row,
    kind: row.kind as EngineKind,
    graph,
    plugins,
    parameters: JSON.parse(row.parameters) as ParameterMap,
    newResources: new NewResources(JSON.parse(row.new_resources) as Record<string, string>),
    started: new Map(started.map((t) => [taskId(t.resource_key, t.hook), t])),
  };
}

/** pendingTask is the row of a task that never left `pending`, as submission wrote it. */
export function pendingTask(op: OperationRow, resourceKey: string, hook: string): TaskRow {
  return { operation_id: op.id, resource_key: resourceKey, hook, state: 'pending', attempt: 0, handle: null, reason: null, progress: null, started_at: null, ended_at: null, updated_at: op.created_at };
}

/** parametersFor merges Karbor's parameters for one resource: `Type`, then `Type#id` overriding it. */
export function parametersFor(p: ParameterMap, r: Resource): Record<string, unknown> {
  return { ...(p[r.type] ?? {}), ...(p[`${r.type}#${r.id}`] ?? {}) };
}

/** describe names a resource the way reasons do: `Type id (name)`. */
export function describe(r: Resource): string {
  return r.name && r.name !== r.id ? `${r.type} ${r.id} (${r.name})` : `${r.type} ${r.id}`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
