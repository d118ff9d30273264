import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/*
 * Key → path mapping. Key segments become directories, and the last segment names a file with the
 * suffix OBJECT_SUFFIX. `~` is outside the key alphabet, so the key `a` (file `a~obj`) and the keys under
 * `a/` (directory `a`) never collide, and temp files (`<name>~tmp.<random>`) are never taken for objects.
 */
export const OBJECT_SUFFIX = '~obj';
const SEGMENT_RE = /^[A-Za-z0-9_.@-]+$/;

/** isSegment tells whether a directory entry's name can be a key segment. */
export function isSegment(name: string): boolean {
  return SEGMENT_RE.test(name) && name !== '.' && name !== '..';
}

/** objectName returns the segment an object file stands for, or undefined for anything else. */
export function objectSegment(fileName: string): string | undefined {
  if (!fileName.endsWith(OBJECT_SUFFIX)) return undefined;
  const seg = fileName.slice(0, -OBJECT_SUFFIX.length);
  return isSegment(seg) ? seg : undefined;
}

/** ObjectPath locates one key's file: its directory, its final path and a fresh temp path beside it. */
export interface ObjectPath {
  readonly dir: string;
  readonly file: string;
  tempFile(): string;
}

/** objectPath maps a key that checkKey accepted to its location under root. */
export function objectPath(root: string, key: string): ObjectPath {
  const segments = key.split('/');
  const last = segments.pop() as string;
  const dir = join(root, ...segments);
  return {
    dir,
    file: join(dir, last + OBJECT_SUFFIX),
    tempFile: () => join(dir, `${last}~tmp.${process.pid}.${randomBytes(6).toString('hex')}`),
  };
}
