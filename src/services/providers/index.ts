/**
 * Providers come from configuration: each binds protection plugins to a bank. They are global (every
 * project sees them) and read-only through the API.
 */
import type { ProviderConfig } from '../../config/index.js';
import type { ListQuery } from '../../model/caller.js';
import { HoardError, notFound } from '../../model/errors.js';
import type { ExtendedInfoSchema } from '../../plugins/registry.js';
import { isUuid } from '../../util/ids.js';
import type { ServiceDeps } from '../context.js';

export interface Provider {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly plugins: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly extendedInfoSchema: ExtendedInfoSchema;
}

export interface ProviderService {
  list(q: ListQuery): Provider[];
  get(id: string): Provider;
  /** find is get without the 400/404: for callers that report a missing provider their own way. */
  find(id: string): Provider | undefined;
}

export function providerService(deps: ServiceDeps): ProviderService {
  const providers = deps.config.providers.filter((p) => p.enabled).map((p) => describe(deps, p));
  const byId = new Map(providers.map((p) => [p.id, p]));
  return {
    list(q) {
      let out = [...providers].sort((a, b) => cmp(a.id, b.id) * (q.sort[0]?.dir === 'desc' && q.sort[0]?.key === 'id' ? -1 : 1));
      if (q.filters.name !== undefined) out = out.filter((p) => p.name === q.filters.name);
      if (q.filters.description !== undefined) out = out.filter((p) => p.description === q.filters.description);
      if (q.marker !== undefined) {
        const i = out.findIndex((p) => p.id === q.marker);
        if (i < 0) throw new HoardError('invalid_paging', `Marker ${q.marker} could not be found in this collection.`);
        out = out.slice(i + 1);
      }
      return out.slice(0, q.limit);
    },
    get(id) {
      if (!isUuid(id)) throw new HoardError('invalid_id', `Invalid provider id ${id}: a provider id is a UUID.`);
      const p = byId.get(id);
      if (!p) throw notFound('provider', id);
      return p;
    },
    find: (id) => byId.get(id),
  };
}

function describe(deps: ServiceDeps, p: ProviderConfig): Provider {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    plugins: p.plugins,
    resourceTypes: deps.registry.typesOf(p.plugins),
    extendedInfoSchema: deps.registry.extendedInfoSchema(p.plugins),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
