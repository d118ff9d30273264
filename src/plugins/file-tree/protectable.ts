/**
 * Hoard::FileSystem::Directory: the directories an operator allowed in configuration (`roots`) and
 * the directories directly under them. Ids are name-based UUIDs of the real path, so a directory keeps
 * its id across listings and restarts. Nothing outside a root is ever listed or shown, whatever path or
 * symlink a caller names.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { SDK_VERSION, type Protectable, type ProtectableContext, type Resource } from '../sdk/index.js';
import { uuid5 } from '../../util/uuid5.js';

export const DIRECTORY_TYPE = 'Hoard::FileSystem::Directory';
const NAMESPACE = '6b1f3a0e-5d0c-4c7e-9a43-1f2e6d7c8b90';

export function directoryId(path: string): string {
  return uuid5(`dir:${path}`, NAMESPACE);
}

/** realRoots are the configured roots that exist now, as real paths. */
async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      const real = await realpath(r);
      if ((await stat(real)).isDirectory()) out.push(real);
    } catch {
      // A root that does not exist (yet) simply has no instances; it may be mounted later.
    }
  }
  return out;
}

const inside = (real: string, root: string): boolean => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * confinedPath answers the real path `path` would be written at, or undefined when that is outside every
 * configured root. The nearest existing ancestor is resolved through symlinks (so a link inside a root
 * that points elsewhere does not count as inside) and the missing rest is appended; `..` never survives
 * resolve().
 */
export async function confinedPath(path: string, roots: readonly string[]): Promise<string | undefined> {
  let existing = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      const parent = dirname(existing);
      if (parent === existing) return undefined;
      rest.unshift(basename(existing));
      existing = parent;
    }
  }
  const real = join(existing, ...rest);
  return (await realRoots(roots)).some((r) => inside(real, r)) ? real : undefined;
}

export function directoryProtectable(roots: readonly string[]): Protectable {

  const resource = (path: string, root: string): Resource => ({
    type: DIRECTORY_TYPE,
    id: directoryId(path),
    name: path,
    extraInfo: { path, root, name: basename(path) || path },
  });

  const children = async (dir: string, root: string): Promise<Resource[]> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
      .map((n) => resource(join(dir, n), root));
  };

  /** within resolves a requested path and answers its root only if it stays inside one. */
  const within = async (path: string): Promise<{ real: string; root: string } | undefined> => {
    let real: string;
    try {
      real = await realpath(path);
      if (!(await stat(real)).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
    const root = (await realRoots(roots)).find((r) => inside(real, r));
    return root ? { real, root } : undefined;
  };

  const all = async (ctx: ProtectableContext): Promise<Resource[]> => {
    const requested = typeof ctx.parameters.path === 'string' ? ctx.parameters.path : undefined;
    if (requested !== undefined) {
      const found = await within(requested);
      return found ? children(found.real, found.root) : [];
    }
    const out: Resource[] = [];
    for (const root of await realRoots(roots)) out.push(resource(root, root), ...(await children(root, root)));
    return out;
  };

  return {
    sdkVersion: SDK_VERSION,
    resourceType: DIRECTORY_TYPE,
    parentTypes: [],
    list: all,
    async show(ctx, id) {
      if (typeof ctx.parameters.path === 'string') {
        const found = await within(ctx.parameters.path);
        if (found && directoryId(found.real) === id) return resource(found.real, found.root);
      }
      return (await all({ ...ctx, parameters: {} })).find((r) => r.id === id);
    },
    async dependents() {
      return [];
    },
  };
}
