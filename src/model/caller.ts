/** Caller is who makes a request, after authentication: the only identity services ever see. */
export interface Caller {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
}

/** ListQuery is a parsed, validated list request; `filters` hold only keys the collection allows. */
export interface ListQuery {
  readonly limit: number;
  readonly marker?: string | undefined;
  readonly sort: readonly { readonly key: string; readonly dir: 'asc' | 'desc' }[];
  readonly filters: Readonly<Record<string, string>>;
  readonly allTenants: boolean;
}

/** scopeProject is the project a list is confined to, or undefined for an admin asking for all tenants. */
export function scopeProject(caller: Caller, q: Pick<ListQuery, 'allTenants'>): string | undefined {
  return caller.isAdmin && q.allTenants ? undefined : caller.projectId;
}

/** canSee tells whether a caller may read or change an object owned by `projectId`. */
export function canSee(caller: Caller, projectId: string): boolean {
  return caller.projectId === projectId || caller.isAdmin;
}
