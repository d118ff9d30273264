/**
 * Keyset paging shared by every collection: filters, a multi-key sort that always ends on `id`, a marker
 * (the id of the last item seen) and a limit. The marker row is read first so that paging is stable
 * while rows are added, and a marker from another project (or none at all) is refused as not found.
 */
import { sql, type Kysely, type SelectQueryBuilder, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';

export type SortDir = 'asc' | 'desc';
export interface SortKey { readonly key: string; readonly dir: SortDir }

export type Filter =
  | { readonly op: 'eq' | 'ne'; readonly column: string; readonly value: string | number | null }
  | { readonly op: 'contains'; readonly column: string; readonly value: string }
  | { readonly op: 'gte' | 'lte' | 'lt'; readonly column: string; readonly value: string };

export interface PageQuery {
  readonly filters: readonly Filter[];
  readonly sort: readonly SortKey[];
  readonly marker?: string | undefined;
  readonly limit: number;
}

export class MarkerNotFound extends Error {}

type AnyDb = Kysely<any>;
type AnyQb = SelectQueryBuilder<any, any, any>;

/** pageOf returns up to `limit` rows of `table` that match the query, after the marker. */
export async function pageOf<Row>(db: AnyDb, table: string, q: PageQuery): Promise<Row[]> {
  const sort = withIdTiebreak(q.sort);
  let qb: AnyQb = applyFilters(db.selectFrom(table).selectAll(), q.filters);
  if (q.marker !== undefined) {
    const marker = await applyFilters(db.selectFrom(table).selectAll(), q.filters).where('id', '=', q.marker).executeTakeFirst();
    if (!marker) throw new MarkerNotFound(q.marker);
    qb = qb.where((eb) => after(eb, sort, marker as Record<string, unknown>));
  }
  for (const s of sort) qb = qb.orderBy(s.key, s.dir);
  return (await qb.limit(q.limit).execute()) as Row[];
}

function withIdTiebreak(sort: readonly SortKey[]): SortKey[] {
  const keys = sort.filter((s) => s.key !== 'id');
  const idDir = sort.find((s) => s.key === 'id')?.dir ?? sort[sort.length - 1]?.dir ?? 'desc';
  return [...keys, { key: 'id', dir: idDir }];
}

export function applyFilters(qb: AnyQb, filters: readonly Filter[]): AnyQb {
  for (const f of filters) {
    if (f.op === 'eq') qb = f.value === null ? qb.where(f.column, 'is', null) : qb.where(f.column, '=', f.value);
    else if (f.op === 'ne') qb = f.value === null ? qb.where(f.column, 'is not', null) : qb.where(f.column, '!=', f.value);
    else if (f.op === 'contains') qb = qb.where(sql<SqlBool>`lower(${sql.ref(f.column)}) LIKE lower(${`%${escapeLike(f.value)}%`}) ESCAPE '!'`);
    else qb = qb.where(f.column, f.op === 'gte' ? '>=' : f.op === 'lte' ? '<=' : '<', f.value);
  }
  return qb;
}

/** escapeLike makes a filter value match literally: `%`, `_` and the escape character itself. */
function escapeLike(v: string): string {
  return v.replace(/[!%_]/g, (c) => `!${c}`);
}

/** after builds (k1 > v1) OR (k1 = v1 AND k2 > v2) OR … honouring each key's direction. */
function after(eb: ExpressionBuilder<any, any>, sort: readonly SortKey[], marker: Record<string, unknown>): Expression<SqlBool> {
  const branches = sort.map((s, i) => {
    const equal = sort.slice(0, i).map((p) => eb(p.key, '=', marker[p.key] as any));
    return eb.and([...equal, eb(s.key, s.dir === 'asc' ? '>' : '<', marker[s.key] as any)]);
  });
  return eb.or(branches);
}
