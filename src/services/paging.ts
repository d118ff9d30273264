/**
 * toPageQuery turns a validated ListQuery into the store's keyset query: the tenant scope first, then
 * the collection's filters, each mapped by the collection to a column and an operator.
 */
import { scopeProject, type Caller, type ListQuery } from '../model/caller.js';
import { HoardError } from '../model/errors.js';
import { MarkerNotFound, type Filter, type PageQuery } from '../store/index.js';

export type FilterMap = Readonly<Record<string, (value: string) => Filter>>;

export function toPageQuery(caller: Caller, q: ListQuery, filters: FilterMap): PageQuery {
  const out: Filter[] = [];
  let project = scopeProject(caller, q);
  if (caller.isAdmin && q.filters.project_id !== undefined) project = q.filters.project_id;
  if (project !== undefined) out.push({ op: 'eq', column: 'project_id', value: project });
  for (const [key, value] of Object.entries(q.filters)) {
    if (key === 'project_id') continue;
    const map = filters[key];
    if (map) out.push(map(value));
  }
  return { filters: out, sort: q.sort, marker: q.marker, limit: q.limit };
}

/** withMarker runs a page read and turns an unknown marker into Karbor's 400. */
export async function withMarker<T>(marker: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof MarkerNotFound) throw new HoardError('invalid_paging', `Marker ${marker} could not be found in this collection.`);
    throw err;
  }
}

export const eq = (column: string) => (value: string): Filter => ({ op: 'eq', column, value });
export const contains = (column: string) => (value: string): Filter => ({ op: 'contains', column, value });
