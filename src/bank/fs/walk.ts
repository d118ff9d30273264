import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isSegment, objectSegment } from './paths.js';

/** Found is one object file reached by walk: its key and its path. */
export interface Found {
  readonly key: string;
  readonly file: string;
}

interface Entry {
  readonly sortKey: string;
  readonly name: string;
  readonly dir: boolean;
}

/**
 * walk yields the object files under root whose keys start with prefix and sort after `after`, in
 * ascending byte order of their keys. A directory `d` holds exactly the keys that start with `d/`, so
 * sorting siblings by "key" for files and "key/" for directories gives the global order, one directory
 * in memory at a time. Entries that are not objects (temp files, strays) are skipped.
 */
export async function* walk(root: string, prefix: string, after: string | undefined): AsyncGenerator<Found> {
  yield* walkDir(root, '', prefix, after);
}

async function* walkDir(path: string, base: string, prefix: string, after: string | undefined): AsyncGenerator<Found> {
  for (const e of await entries(path, base)) {
    if (e.dir) {
      if (!e.sortKey.startsWith(prefix) && !prefix.startsWith(e.sortKey)) continue;
      if (after !== undefined && after > e.sortKey && !after.startsWith(e.sortKey)) continue;
      yield* walkDir(join(path, e.name), e.sortKey, prefix, after);
    } else {
      if (!e.sortKey.startsWith(prefix)) continue;
      if (after !== undefined && e.sortKey <= after) continue;
      yield { key: e.sortKey, file: join(path, e.name) };
    }
  }
}

async function entries(path: string, base: string): Promise<Entry[]> {
  let dirents;
  try {
    dirents = await readdir(path, { withFileTypes: true });
  } catch (err) {
    // A directory pruned by a concurrent remove simply holds nothing any more.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Entry[] = [];
  for (const d of dirents) {
    if (d.isDirectory() && isSegment(d.name)) {
      out.push({ sortKey: `${base}${d.name}/`, name: d.name, dir: true });
      continue;
    }
    const seg = d.isFile() ? objectSegment(d.name) : undefined;
    if (seg !== undefined) out.push({ sortKey: base + seg, name: d.name, dir: false });
  }
  // Keys are ASCII, so UTF-16 order is byte order.
  return out.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
}
