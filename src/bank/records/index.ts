/**
 * Checkpoint records in the bank (ARCHITECTURE decision 1): the bank, not the metadata database, is
 * where a checkpoint is true. Each checkpoint is a set of immutable objects, sealed with the
 * repository's keys like every other piece of metadata:
 *
 *   checkpoints/<id>/manifest              who, what and when: project, provider, plan as taken, graph
 *   checkpoints/<id>/status/<time>-<nonce>  one object per status change, appended, never rewritten
 *   checkpoints/<id>/resources/<sha256>     one resource's plugin metadata (its key inside the box)
 *   checkpoint-index/by-plan/<plan>/<id>, by-provider/<provider>/<id>, by-date/<yyyy-mm-dd>/<id>
 *
 * The index objects are empty markers, so listing a plan's or a day's checkpoints is one list call and
 * reads nothing. Object names carry only ids and dates; everything else is inside sealed boxes.
 * The metadata database's checkpoint table is an index of these records and is rebuilt from them by
 * `hoard bank reindex` (src/services/checkpoints/reindex.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Repository } from '../repo/index.js';

export const RECORDS_FORMAT = 1;
const PREFIX = 'checkpoints/';
const INDEX = 'checkpoint-index/';
const ROLE = 'checkpoint-record';
// Ids become key segments; anything else (a caller's odd id) must not reach the key space.
const ID_RE = /^[A-Za-z0-9_.@-]{1,128}$/;

/** BankCheckpoint is a checkpoint's manifest: everything needed to list and restore it elsewhere. */
export interface BankCheckpoint {
  readonly id: string;
  readonly projectId: string;
  readonly providerId: string;
  readonly planId: string;
  /** protectionPlan is the plan as it was when the checkpoint was taken. */
  readonly protectionPlan: unknown;
  readonly resourceGraph: string | null;
  readonly extraInfo: Record<string, unknown> | null;
  readonly createdAt: string;
}

/** StatusEntry is one appended status change. */
export interface StatusEntry {
  readonly status: string;
  readonly at: string;
  readonly reason?: string;
}

/** StoredCheckpoint is a checkpoint read back: its manifest, status history (oldest first) and resources. */
export interface StoredCheckpoint {
  readonly manifest: BankCheckpoint;
  readonly statuses: readonly StatusEntry[];
  /** status is the newest entry's status, or `protecting` when none was appended yet. */
  readonly status: string;
  readonly updatedAt: string;
  readonly resources: ReadonlyMap<string, unknown>;
}

const manifestKey = (id: string) => `${PREFIX}${id}/manifest`;
const statusPrefix = (id: string) => `${PREFIX}${id}/status/`;
const resourcesPrefix = (id: string) => `${PREFIX}${id}/resources/`;
const resourceKey = (id: string, key: string) => resourcesPrefix(id) + createHash('sha256').update(key).digest('hex');
const day = (iso: string) => iso.slice(0, 10);
const indexKeys = (m: BankCheckpoint) => [
  `${INDEX}by-plan/${m.planId}/${m.id}`,
  `${INDEX}by-provider/${m.providerId}/${m.id}`,
  `${INDEX}by-date/${day(m.createdAt)}/${m.id}`,
];

function checkId(what: string, id: string): void {
  if (!ID_RE.test(id)) throw new Error(`${what} ${JSON.stringify(id)} cannot name a bank record`);
}

/** CheckpointRecords reads and writes checkpoint records in one repository. */
export class CheckpointRecords {
  constructor(private readonly repo: Repository) {}

  private seal(value: unknown): Buffer {
    return this.repo.sealObject(ROLE, Buffer.from(JSON.stringify(value)));
  }

  private async open<T>(key: string): Promise<T> {
    return JSON.parse(this.repo.openObject(ROLE, key, await this.repo.backend.get(key)).toString('utf8')) as T;
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.repo.backend.stat(key);
      return true;
    } catch (err) {
      if (this.repo.backend.isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * writeManifest stores the manifest once; a repeat (a resumed protection) leaves the first in place.
   * Index markers follow the manifest, so a marker never points at a checkpoint without one.
   */
  async writeManifest(m: BankCheckpoint): Promise<void> {
    for (const [what, id] of [['checkpoint id', m.id], ['plan id', m.planId], ['provider id', m.providerId]] as const) checkId(what, id);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(m.createdAt)) throw new Error(`checkpoint ${m.id} has no ISO creation time`);
    if (!(await this.exists(manifestKey(m.id)))) {
      try {
        await this.repo.backend.put(manifestKey(m.id), this.seal({ format: RECORDS_FORMAT, ...m }), { ifAbsent: true });
      } catch (err) {
        if (!this.repo.backend.isConflict(err)) throw err;
      }
    }
    for (const key of indexKeys(m)) await this.repo.backend.put(key, new Uint8Array(0));
  }

  /** appendStatus adds a status change; earlier ones stay as they were. */
  async appendStatus(id: string, entry: StatusEntry): Promise<void> {
    checkId('checkpoint id', id);
    // Sortable by time first; the nonce keeps two changes in one millisecond apart.
    const stamp = entry.at.replace(/[^0-9]/g, '').padEnd(17, '0').slice(0, 17);
    await this.repo.backend.put(`${statusPrefix(id)}${stamp}-${randomBytes(4).toString('hex')}`, this.seal(entry), { ifAbsent: true });
  }

  /** putResource stores one resource's metadata (a later put for the same key replaces it while protecting). */
  async putResource(id: string, key: string, value: unknown): Promise<void> {
    checkId('checkpoint id', id);
    await this.repo.backend.put(resourceKey(id, key), this.seal({ key, value }));
  }

  async getResource(id: string, key: string): Promise<unknown> {
    checkId('checkpoint id', id);
    try {
      return (await this.open<{ key: string; value: unknown }>(resourceKey(id, key))).value;
    } catch (err) {
      if (this.repo.backend.isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** read returns a checkpoint's records, or undefined when it has no manifest (never sealed, or removed). */
  async read(id: string): Promise<StoredCheckpoint | undefined> {
    checkId('checkpoint id', id);
    let manifest: BankCheckpoint & { format?: number };
    try {
      manifest = await this.open(manifestKey(id));
    } catch (err) {
      if (this.repo.backend.isNotFound(err)) return undefined;
      throw err;
    }
    if (manifest.format !== RECORDS_FORMAT) throw new Error(`checkpoint ${id} was recorded in format ${String(manifest.format)}, which this Hoard does not read (it reads ${RECORDS_FORMAT})`);
    const { format: _format, ...m } = manifest;
    const statuses: StatusEntry[] = [];
    for await (const o of this.repo.backend.list(statusPrefix(id))) statuses.push(await this.open<StatusEntry>(o.key));
    statuses.sort((a, b) => a.at.localeCompare(b.at));
    const resources = new Map<string, unknown>();
    for await (const o of this.repo.backend.list(resourcesPrefix(id))) {
      const r = await this.open<{ key: string; value: unknown }>(o.key);
      resources.set(r.key, r.value);
    }
    const last = statuses.at(-1);
    return { manifest: m, statuses, status: last?.status ?? 'protecting', updatedAt: last?.at ?? m.createdAt, resources };
  }

  /** ids lists every recorded checkpoint id, through the date index (oldest day first). */
  async ids(filter: { planId?: string; providerId?: string } = {}): Promise<string[]> {
    const prefix = filter.planId !== undefined ? `${INDEX}by-plan/${filter.planId}/`
      : filter.providerId !== undefined ? `${INDEX}by-provider/${filter.providerId}/` : `${INDEX}by-date/`;
    if (filter.planId !== undefined) checkId('plan id', filter.planId);
    if (filter.providerId !== undefined) checkId('provider id', filter.providerId);
    const out: string[] = [];
    for await (const o of this.repo.backend.list(prefix)) out.push(o.key.slice(o.key.lastIndexOf('/') + 1));
    return out;
  }

  /**
   * remove deletes a checkpoint's records: index markers first (so it leaves listings at once), then
   * resources and statuses, the manifest last. Interrupted, it is simply run again.
   */
  async remove(id: string): Promise<void> {
    checkId('checkpoint id', id);
    const existing = await this.read(id).catch(() => undefined);
    if (existing) for (const key of indexKeys(existing.manifest)) await this.repo.backend.remove(key);
    for (const prefix of [resourcesPrefix(id), statusPrefix(id)]) {
      for await (const o of this.repo.backend.list(prefix)) await this.repo.backend.remove(o.key);
    }
    await this.repo.backend.remove(manifestKey(id));
  }
}
