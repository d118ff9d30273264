/**
 * Protectable types and instances, answered by the plugin registry. An instance is returned with the
 * resources it holds (`dependent_resources`), gathered from every protectable that lists its type as a
 * parent; a plugin that fails to answer is reported, not hidden.
 */
import type { Caller } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import type { Resource } from '../../plugins/sdk/index.js';
import type { ServiceDeps } from '../context.js';

export interface ProtectableInstance extends Resource {
  readonly dependents: readonly Resource[];
}

export interface ProtectableService {
  types(): string[];
  type(name: string): { name: string; dependentTypes: string[] };
  instances(caller: Caller, type: string, parameters: Record<string, unknown>): Promise<ProtectableInstance[]>;
  instance(caller: Caller, type: string, id: string, parameters: Record<string, unknown>): Promise<ProtectableInstance>;
}

export function protectableService(deps: ServiceDeps): ProtectableService {
  const { registry } = deps;
  const withDependents = async (caller: Caller, r: Resource): Promise<ProtectableInstance> => ({
    ...r,
    dependents: await registry.dependents({ projectId: caller.projectId, parameters: {} }, r),
  });
  return {
    types: () => registry.types(),
    type(name) {
      registry.protectable(name);
      return { name, dependentTypes: registry.dependentTypes(name) };
    },
    async instances(caller, type, parameters) {
      const p = registry.protectable(type);
      const list = await guard(type, () => p.list({ projectId: caller.projectId, parameters }));
      return Promise.all(list.map((r) => withDependents(caller, r)));
    },
    async instance(caller, type, id, parameters) {
      const p = registry.protectable(type);
      const r = await guard(type, () => p.show({ projectId: caller.projectId, parameters }, id));
      if (!r) throw notFound('protectable instance', id);
      return withDependents(caller, r);
    },
  };
}

async function guard<T>(type: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HoardError) throw err;
    throw new HoardError('backend_unavailable', `Protectable ${type} could not be listed: ${(err as Error).message}`, { cause: err });
  }
}
