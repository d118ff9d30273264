/** Small helpers every route module shares: list parsing with links, and id checks. */
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { ListQuery } from '../../model/caller.js';
import type { Services } from '../../services/index.js';
import { baseUrl } from '../urls.js';
import { nextLinks, parseListQuery } from '../list-query.js';

export function listQuery(query: unknown, services: Services, filters: readonly string[], sortKeys: readonly string[] = ['id', 'name', 'status', 'created_at']): ListQuery {
  return parseListQuery(query as Record<string, unknown>, { filters, sortKeys, maxLimit: services.deps.config.api.maxLimit });
}

/** withLinks adds `<key>_links` when the page is full, as Karbor does. */
export function withLinks<T extends { id: string }>(req: FastifyRequest, services: Services, key: string, items: readonly T[], views: unknown[], q: ListQuery): Record<string, unknown> {
  const url = `${baseUrl(req, services.deps.config.api.publicUrl)}${req.url}`;
  const links = nextLinks(url, req.query as Record<string, unknown>, items, q.limit);
  return links ? { [key]: views, [`${key}_links`]: links } : { [key]: views };
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** Values of a Karbor parameter or metadata map: strings, numbers and booleans. */
export const ScalarMap = Type.Record(Type.String({ maxLength: 255 }), Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]));
export const ParameterMap = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), ScalarMap);
/**
 * A plan's parameters: as ParameterMap, but a value may also be structured (a resource's exec `hooks`);
 * each value is then checked against its plugin's options schema by the plan use case.
 */
export const PlanParameterMap = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Record(Type.String({ maxLength: 255 }), Type.Unknown()));

export const IdParam = (name: string) => Type.Object({ project_id: Type.String(), [name]: Type.String({ maxLength: 255 }) });
