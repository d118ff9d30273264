/**
 * The journal writer: a single queue per worker that commits entries in order, many per transaction
 * (group commit). Each entry is still atomic (it lives entirely inside one transaction) and entries
 * commit in the order they were written, so a hook's `finish` is durable no later than the `start` of
 * anything that waited for it. Every transaction first checks, for each operation in it, that this
 * worker still holds the lease: a worker that lost its lease can no longer change anything.
 *
 * Task transitions are data (TaskEntry), not code, so that a transaction applies all the same-shaped
 * ones of a turn (same operation, hook, transition and values) in one guarded statement: per-task
 * statements were most of the engine's cost with thousands of resources. Each task still gets its own
 * answer (done, or refused), exactly as if it had been updated alone.
 */
import type { Kysely } from 'kysely';
import type { Database, Store } from '../../store/index.js';
import { holdsLease, lockForWrite, updateTasks, type TaskKey, type TaskRow, type TaskState } from '../../store/operations.js';

/** TaskEntry changes one task from one of `from` to `set`; `stamp` columns (and updated_at) get the commit time. */
export interface TaskEntry {
  readonly kind: 'task';
  readonly operationId: string;
  readonly name: string;
  readonly task: TaskKey;
  readonly from: readonly TaskState[];
  readonly set: Partial<TaskRow>;
  readonly stamp: readonly ('started_at' | 'ended_at')[];
}

/** ApplyEntry is any other atomic change; `apply` answers false when its guard refused it. */
export interface ApplyEntry {
  readonly kind: 'apply';
  readonly operationId: string;
  readonly name: string;
  apply(trx: Kysely<Database>): Promise<boolean>;
}

/** JournalEntry is one atomic change of the journal. */
export type JournalEntry = TaskEntry | ApplyEntry;

/** LeaseLost: the operation now belongs to another worker; the caller must stop working on it. */
export class LeaseLost extends Error {
  constructor(operationId: string) {
    super(`operation ${operationId} is no longer held by this worker (its lease expired and was taken over)`);
    this.name = 'LeaseLost';
  }
}

/** IllegalTransition: the entry's guard refused it (the row was not in an allowed state). */
export class IllegalTransition extends Error {
  constructor(entry: JournalEntry) {
    super(`journal refused ${entry.name} on operation ${entry.operationId}: the row is not in a state that allows it`);
    this.name = 'IllegalTransition';
  }
}

/** JournalWriter writes entries; `write` resolves once the entry is committed, and rejects if it was not. */
export interface JournalWriter {
  write(entry: JournalEntry): Promise<void>;
}

interface Pending { readonly entry: JournalEntry; resolve(): void; reject(e: unknown): void }
type Outcome = true | Error;

const MAX_BATCH = 1000;

/** journalWriter builds the writer of one worker (`owner`); null owner skips the lease fence (submission). */
export function journalWriter(store: Store, owner: string | null): JournalWriter {
  const queue: Pending[] = [];
  let busy = false;

  const drain = async (): Promise<void> => {
    while (queue.length > 0) await commit(store, owner, queue.splice(0, MAX_BATCH));
    busy = false;
  };

  return {
    write(entry) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ entry, resolve, reject });
        if (busy) return;
        busy = true;
        // setImmediate lets every hook that finishes in this turn join the same transaction.
        setImmediate(() => void drain());
      });
    },
  };
}

async function commit(store: Store, owner: string | null, batch: Pending[]): Promise<void> {
  let outcomes: Outcome[];
  try {
    outcomes = await store.db.transaction().execute(async (trx) => {
      // The lease check reads before the batch writes; on SQLite, another process (an API cancelling) may write in between.
      await lockForWrite(trx, store.dialect);
      return applyAll(trx, store, owner, batch.map((p) => p.entry));
    });
  } catch (err) {
    for (const p of batch) p.reject(err);
    return;
  }
  batch.forEach((p, i) => (outcomes[i] === true ? p.resolve() : p.reject(outcomes[i])));
}

/**
 * applyAll applies a batch in order. Task entries gather into a segment that is applied as grouped
 * statements when an ApplyEntry comes (it may depend on them) or when a task repeats in the segment
 * (its second change must see its first); inside a segment every entry touches its own row, so grouping
 * them cannot change any outcome.
 */
async function applyAll(trx: Kysely<Database>, store: Store, owner: string | null, batch: readonly JournalEntry[]): Promise<Outcome[]> {
  const held = new Map<string, boolean>();
  const out: Outcome[] = new Array<Outcome>(batch.length);
  const segment = new Segment();
  for (let i = 0; i < batch.length; i++) {
    const entry = batch[i]!;
    const id = entry.operationId;
    if (owner !== null && !held.has(id)) held.set(id, await holdsLease(trx, store.dialect, id, owner));
    if (owner !== null && !held.get(id)) {
      out[i] = new LeaseLost(id);
    } else if (entry.kind === 'task') {
      if (!segment.add(i, entry)) {
        await segment.flush(trx, out);
        segment.add(i, entry);
      }
    } else {
      await segment.flush(trx, out);
      out[i] = (await entry.apply(trx)) ? true : new IllegalTransition(entry);
    }
  }
  await segment.flush(trx, out);
  return out;
}

interface Group { readonly first: TaskEntry; readonly members: { readonly i: number; readonly entry: TaskEntry }[] }

/** HookTasks is what a segment holds of one operation's hook: which tasks it touches, and their groups. */
interface HookTasks { readonly keys: Set<string>; readonly groups: Map<string, Map<object, Group>> }

/**
 * Segment holds task entries on distinct tasks, grouped by what one statement can apply: the same
 * operation, hook, transition and values. A frozen `set` is a transition's shared constant (it sets
 * the state only), so entries holding the same one group by identity; any other entry carries values
 * of its own (a reason, progress) and is applied alone.
 */
class Segment {
  private byOperation = new Map<string, Map<string, HookTasks>>();
  private size = 0;

  /** add answers false, adding nothing, when the entry's task is already in the segment. */
  add(i: number, entry: TaskEntry): boolean {
    const { operationId, resourceKey, hook } = entry.task;
    let byHook = this.byOperation.get(operationId);
    if (!byHook) this.byOperation.set(operationId, (byHook = new Map()));
    let tasks = byHook.get(hook);
    if (!tasks) byHook.set(hook, (tasks = { keys: new Set(), groups: new Map() }));
    if (tasks.keys.has(resourceKey)) return false;
    tasks.keys.add(resourceKey);
    this.size++;
    let byShape = tasks.groups.get(entry.name);
    if (!byShape) tasks.groups.set(entry.name, (byShape = new Map()));
    const shape = Object.isFrozen(entry.set) ? entry.set : entry;
    const g = byShape.get(shape);
    if (g) g.members.push({ i, entry });
    else byShape.set(shape, { first: entry, members: [{ i, entry }] });
    return true;
  }

  async flush(trx: Kysely<Database>, out: Outcome[]): Promise<void> {
    if (this.size === 0) return;
    const groups: Group[] = [];
    for (const byHook of this.byOperation.values()) for (const t of byHook.values()) for (const byShape of t.groups.values()) groups.push(...byShape.values());
    this.byOperation = new Map();
    this.size = 0;
    const now = new Date().toISOString();
    for (const { first, members } of groups) {
      const set: Partial<TaskRow> = { ...first.set, updated_at: now };
      for (const column of first.stamp) set[column] = now;
      const changed = await updateTasks(trx, first.task.operationId, first.task.hook, members.map((m) => m.entry.task.resourceKey), first.from, set);
      for (const m of members) out[m.i] = changed.has(m.entry.task.resourceKey) ? true : new IllegalTransition(m.entry);
    }
  }
}
