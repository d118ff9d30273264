/**
 * The journal writer: a single queue per worker that commits entries in order, many per transaction
 * (group commit). Each entry is still atomic (it lives entirely inside one transaction) and entries
 * commit in the order they were written, so a hook's `finish` is durable no later than the `start` of
 * anything that waited for it. Every transaction first checks, for each operation in it, that this
 * worker still holds the lease: a worker that lost its lease can no longer change anything.
 */
import type { Kysely } from 'kysely';
import type { Database, Store } from '../../store/index.js';
import { holdsLease } from '../../store/operations.js';

/** JournalEntry is one atomic change; `apply` answers false when its guard refused it. */
export interface JournalEntry {
  readonly operationId: string;
  readonly name: string;
  apply(trx: Kysely<Database>): Promise<boolean>;
}

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
  let outcomes: (true | Error)[];
  try {
    outcomes = await store.db.transaction().execute((trx) => applyAll(trx, store, owner, batch));
  } catch (err) {
    for (const p of batch) p.reject(err);
    return;
  }
  batch.forEach((p, i) => (outcomes[i] === true ? p.resolve() : p.reject(outcomes[i])));
}

async function applyAll(trx: Kysely<Database>, store: Store, owner: string | null, batch: Pending[]): Promise<(true | Error)[]> {
  const held = new Map<string, boolean>();
  const out: (true | Error)[] = [];
  for (const { entry } of batch) {
    const id = entry.operationId;
    if (owner !== null && !held.has(id)) held.set(id, await holdsLease(trx, store.dialect, id, owner));
    if (owner !== null && !held.get(id)) out.push(new LeaseLost(id));
    else out.push((await entry.apply(trx)) ? true : new IllegalTransition(entry));
  }
  return out;
}
