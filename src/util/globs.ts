/**
 * pathMatcher turns a user's glob patterns into a predicate over paths relative to a protected
 * directory, with the rules people know from restic and rsync: a pattern without a slash matches a
 * name at any depth (`*.tmp`, `node_modules`); a pattern with one matches from the top (`/cache` or
 * `logs/*.gz`); a trailing slash matches directories only (`build/`). Dot files are matched like any
 * other name. A directory that matches stands for everything below it.
 */
import picomatch from 'picomatch';

/** PathPredicate answers whether a relative path (`a/b/c`, no leading slash) matches. */
export type PathPredicate = (rel: string, isDir: boolean) => boolean;

/** parsePatterns reads comma-separated patterns (a plan option's text form) or a list; empty ones are dropped. */
export function parsePatterns(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!list || list.some((p) => typeof p !== 'string')) throw new TypeError('patterns must be a comma-separated string or a list of strings');
  const out = (list as string[]).map((p) => p.trim()).filter((p) => p !== '');
  return out.length > 0 ? out : undefined;
}

/** pathMatcher compiles patterns (see the module comment); it throws on a pattern picomatch cannot parse. */
export function pathMatcher(patterns: readonly string[]): PathPredicate {
  const compiled = patterns.map((raw) => {
    const dirOnly = raw.endsWith('/');
    const body = raw.replace(/^\/+/, '').replace(/\/+$/, '');
    const anchored = raw.startsWith('/') || body.includes('/');
    const test = picomatch(body, { dot: true, basename: !anchored, strictSlashes: false });
    return { dirOnly, test };
  });
  return (rel, isDir) => compiled.some((c) => (!c.dirOnly || isDir) && c.test(rel));
}
