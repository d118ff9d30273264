/**
 * Karbor's list query string: `limit`, `marker`, `sort=key[:dir],…` or legacy `sort_key`/`sort_dir`,
 * `all_tenants`, and filters. Unlike Karbor, a filter the collection does not know is refused with 400
 * naming the key, instead of being dropped or answered with an empty list.
 */
import { HoardError } from '../model/errors.js';
import type { ListQuery } from '../model/caller.js';

const RESERVED = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'offset']);
const TRUE = new Set(['1', 'true', 'yes', 'y', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'off', '']);

export interface ListSpec {
  readonly filters: readonly string[];
  readonly sortKeys: readonly string[];
  readonly maxLimit: number;
}

export function parseListQuery(raw: Record<string, unknown>, spec: ListSpec): ListQuery {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) throw new HoardError('invalid_filter', `Query parameter ${k} was given more than once.`);
    if (typeof v !== 'string') continue;
    if (v.length > 1024) throw new HoardError('invalid_filter', `Query parameter ${k} is too long.`);
    q[k] = v;
  }
  const filters: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (RESERVED.has(k)) continue;
    if (!spec.filters.includes(k)) {
      throw new HoardError('invalid_filter', `Unknown filter '${k}'. This collection can be filtered by ${spec.filters.join(', ') || 'nothing'}.`);
    }
    filters[k] = v;
  }
  return {
    limit: parseLimit(q.limit, spec.maxLimit),
    marker: q.marker === undefined || q.marker === '' ? undefined : checkMarker(q.marker),
    sort: parseSort(q, spec.sortKeys),
    filters,
    allTenants: parseBool('all_tenants', q.all_tenants),
  };
}

function parseLimit(v: string | undefined, max: number): number {
  if (v === undefined || v === '') return max;
  if (!/^\d+$/.test(v)) throw new HoardError('invalid_paging', `limit must be a positive integer, not ${JSON.stringify(v)}.`);
  const n = Number(v);
  if (n < 1) throw new HoardError('invalid_paging', 'limit must be a positive integer.');
  return Math.min(n, max);
}

function checkMarker(v: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,255}$/.test(v)) throw new HoardError('invalid_paging', `marker ${JSON.stringify(v.slice(0, 80))} is not an id.`);
  return v;
}

export function parseBool(name: string, v: string | undefined): boolean {
  if (v === undefined) return false;
  const s = v.toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new HoardError('invalid_filter', `${name} must be true or false, not ${JSON.stringify(v.slice(0, 40))}.`);
}

function parseSort(q: Record<string, string>, keys: readonly string[]): ListQuery['sort'] {
  if (q.sort !== undefined && (q.sort_key !== undefined || q.sort_dir !== undefined)) {
    throw new HoardError('invalid_paging', 'Use either sort or sort_key/sort_dir, not both.');
  }
  const pairs: [string, string | undefined][] = q.sort !== undefined
    ? q.sort.split(',').filter(Boolean).map((p) => { const [k, d] = p.split(':'); return [k ?? '', d]; })
    : q.sort_key !== undefined ? [[q.sort_key, q.sort_dir]] : [defaultSort(keys, q.sort_dir)];
  return pairs.map(([key, dir]) => {
    if (!keys.includes(key)) throw new HoardError('invalid_paging', `Cannot sort by ${JSON.stringify(key)}; sort keys are ${keys.join(', ')}.`);
    const d = (dir ?? 'desc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw new HoardError('invalid_paging', `Sort direction must be asc or desc, not ${JSON.stringify(dir)}.`);
    return { key, dir: d };
  });
}

/** defaultSort is Karbor's created_at desc where the collection has it, else its first key ascending. */
function defaultSort(keys: readonly string[], dir: string | undefined): [string, string] {
  return keys.includes('created_at') ? ['created_at', dir ?? 'desc'] : [keys[0] ?? 'id', dir ?? 'asc'];
}

/** nextLink is Karbor's `<collection>_links`, pointing at a real route with every query kept. */
export function nextLinks(url: string, raw: Record<string, unknown>, items: readonly { id: string }[], limit: number): { rel: string; href: string }[] | undefined {
  if (items.length === 0 || items.length < limit) return undefined;
  const u = new URL(url);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && k !== 'marker') params.set(k, v);
  params.set('limit', String(limit));
  params.set('marker', items[items.length - 1]!.id);
  return [{ rel: 'next', href: `${u.origin}${u.pathname}?${params.toString()}` }];
}
