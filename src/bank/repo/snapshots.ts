import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { corrupt } from './errors.js';
import { layout } from './format.js';
import type { Repository } from './repository.js';

/** Section is one named part of a snapshot: a file tree or a stream, with its size for progress. */
export interface Section {
  readonly kind: 'tree' | 'stream';
  readonly root: string;
  readonly bytes: number;
  readonly items: number;
}

/** Snapshot is an immutable record of one backup: when, of what, and on top of which parent. */
export interface Snapshot {
  readonly time: string;
  readonly host: string;
  readonly parent?: string;
  readonly tags: readonly string[];
  readonly sections: Readonly<Record<string, Section>>;
}

/**
 * saveSnapshot flushes the repository (so every blob the snapshot names is durable first) and then
 * stores the snapshot, sealed, under snapshots/<id>; the id is the sha256 of the stored bytes.
 */
export async function saveSnapshot(repo: Repository, snap: Omit<Snapshot, 'time' | 'host'> & Partial<Pick<Snapshot, 'time' | 'host'>>): Promise<string> {
  await repo.flush();
  // A writer whose lease was taken over (prune judged it dead) must not publish: its blobs may be gone.
  await repo.guard();
  const full: Snapshot = { time: new Date().toISOString(), host: hostname(), ...snap };
  const box = repo.sealObject('snapshot', Buffer.from(JSON.stringify(full)));
  const id = createHash('sha256').update(box).digest('hex');
  await repo.backend.put(layout.snapshot(id), box);
  return id;
}

/** loadSnapshot reads one snapshot; damage is a `corrupt` RepoError naming its object. */
export async function loadSnapshot(repo: Repository, id: string): Promise<Snapshot> {
  const key = layout.snapshot(id);
  const box = await repo.backend.get(key);
  if (createHash('sha256').update(box).digest('hex') !== id) throw corrupt(key, 'content does not match its id');
  return JSON.parse(repo.openObject('snapshot', key, box).toString('utf8')) as Snapshot;
}

/** listSnapshots returns every snapshot id with its record, oldest first. */
export async function listSnapshots(repo: Repository): Promise<{ id: string; snapshot: Snapshot }[]> {
  const out: { id: string; snapshot: Snapshot }[] = [];
  for await (const info of repo.backend.list(layout.snapshotsPrefix)) {
    const id = info.key.slice(layout.snapshotsPrefix.length);
    out.push({ id, snapshot: await loadSnapshot(repo, id) });
  }
  return out.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time));
}

/** listSnapshotIds lists snapshot ids without reading them (check reports unreadable ones itself). */
export async function listSnapshotIds(repo: Repository): Promise<string[]> {
  const out: string[] = [];
  for await (const info of repo.backend.list(layout.snapshotsPrefix)) out.push(info.key.slice(layout.snapshotsPrefix.length));
  return out;
}
