/**
 * Entries: the scheduler's in-memory view of the operations it may fire. Rebuilt from the store on every
 * refresh and re-checked against it before each claim; the only state that matters across processes
 * (each operation's cursor) lives in schedule_runs, so a new or restarted scheduler picks up exactly
 * where the others are.
 */
import type { ScheduledOperationRecord, Store } from '../../store/index.js';
import { lastDueAt } from '../../store/schedule-runs.js';
import { listSchedulable, listSchedulableVersions, type SchedulableOperation, type SchedulableVersion } from '../../store/scheduled-operations.js';
import { scheduleOf, type Schedule } from '../triggers/schedule.js';
import { jitterMs, latest, misfireOf, type JitterBounds, type MisfirePolicy } from './timing.js';

/** Entry is one schedulable operation and where its schedule stands. */
export interface Entry {
  readonly operation: ScheduledOperationRecord;
  readonly triggerId: string;
  readonly triggerUpdatedAt: string;
  /** version changes whenever the operation, its plan or its trigger is written (resume, enable, edit). */
  readonly version: string;
  readonly schedule: Schedule;
  readonly windowMs: number;
  readonly jitterMs: number;
  readonly misfire: MisfirePolicy;
  /** cursor: occurrences after it are pending. */
  cursor: Date;
  /** next is the first occurrence after the cursor, or null when the trigger has ended. */
  next: Date | null;
}

/** versionOf is what, when it changes, invalidates an entry. */
export function versionOf(s: SchedulableOperation): string {
  return versionKey({ id: s.operation.id, updatedAt: s.operation.updatedAt, planUpdatedAt: s.planUpdatedAt, triggerUpdatedAt: s.trigger.updatedAt });
}

function versionKey(v: SchedulableVersion): string {
  return `${v.updatedAt}|${v.planUpdatedAt}|${v.triggerUpdatedAt}`;
}

/** EntryTable holds the entries by operation id and keeps a cache of parsed schedules per trigger version. */
export class EntryTable {
  readonly byId = new Map<string, Entry>();
  private readonly schedules = new Map<string, Schedule>();

  constructor(private readonly store: Store, private readonly jitter: JitterBounds, private readonly misfire: MisfirePolicy = 'run-once') {}

  /** refresh reloads every schedulable operation; entries whose inputs did not change keep their cursor. */
  async refresh(): Promise<void> {
    // Versions first, full rows only for what is new or changed: with 10,000 operations the full read
    // (definitions and trigger properties as JSON) costs far more than the scheduler's other work.
    const versions = await listSchedulableVersions(this.store.db);
    const seen = new Set(versions.map((v) => v.id));
    for (const id of this.byId.keys()) if (!seen.has(id)) this.byId.delete(id);
    const changed = versions.filter((v) => this.byId.get(v.id)?.version !== versionKey(v)).map((v) => v.id);
    if (changed.length > 0) await this.upsert(await listSchedulable(this.store.db, changed));
    // Schedules of triggers since changed or deleted would otherwise stay cached forever.
    const used = new Set([...this.byId.values()].map((e) => `${e.triggerId}|${e.triggerUpdatedAt}`));
    for (const key of this.schedules.keys()) if (!used.has(key)) this.schedules.delete(key);
  }

  /**
   * recheck reads the given operations' versions again and answers those still schedulable and
   * unchanged; those that changed are rebuilt (and decided on the next tick), those gone are dropped. It
   * runs before every claim, so a disable or suspend is honoured at once, not at the next refresh.
   */
  async recheck(ids: readonly string[]): Promise<Set<string>> {
    const versions = await listSchedulableVersions(this.store.db, ids);
    const present = new Set(versions.map((v) => v.id));
    for (const id of ids) if (!present.has(id)) this.byId.delete(id);
    const changed = versions.filter((v) => this.byId.get(v.id)?.version !== versionKey(v)).map((v) => v.id);
    if (changed.length > 0) await this.upsert(await listSchedulable(this.store.db, changed));
    const unchanged = new Set(present);
    for (const id of changed) unchanged.delete(id);
    return unchanged;
  }

  private async upsert(rows: readonly SchedulableOperation[]): Promise<void> {
    const fresh = rows.filter((r) => this.byId.get(r.operation.id)?.version !== versionOf(r));
    if (fresh.length === 0) return;
    const last = await lastDueAt(this.store.db, fresh.map((r) => r.operation.id));
    for (const r of fresh) {
      const entry = this.build(r, last.get(r.operation.id));
      if (entry) this.byId.set(entry.operation.id, entry);
    }
  }

  /**
   * build makes an entry whose cursor is the latest of: the last claimed due time, and the times the
   * operation, its plan and its trigger were last written. So a resumed plan, a re-enabled operation or a
   * changed trigger counts due runs from that moment: no surprise catch-up for the paused time.
   */
  private build(r: SchedulableOperation, lastDue: string | undefined): Entry | undefined {
    const schedule = this.scheduleFor(r);
    if (!schedule) return undefined;
    const op = r.operation;
    const cursor = latest(op.createdAt, op.updatedAt, r.planUpdatedAt, r.trigger.updatedAt, lastDue);
    const window = r.trigger.properties.window;
    return {
      operation: op, triggerId: r.trigger.id, triggerUpdatedAt: r.trigger.updatedAt, version: versionOf(r), schedule, windowMs: window * 1000,
      jitterMs: jitterMs(op.id, window, this.jitter), misfire: misfireOf(op.operationDefinition, this.misfire), cursor, next: schedule.next(cursor),
    };
  }

  private scheduleFor(r: SchedulableOperation): Schedule | undefined {
    const key = `${r.trigger.id}|${r.trigger.updatedAt}`;
    let s = this.schedules.get(key);
    if (!s) {
      try {
        s = scheduleOf(r.trigger.properties);
      } catch {
        // Properties were validated on write; a trigger that no longer parses (a library upgrade) is left
        // out rather than stopping every other schedule.
        return undefined;
      }
      this.schedules.set(key, s);
    }
    return s;
  }
}
