/**
 * runDag executes a task DAG: a task starts once every predecessor is done, as many at once as become
 * ready (the hook runner applies the concurrency limits), except that at most `laneWindow` tasks of one
 * lane (a plugin) are started and not yet settled; the rest wait in the lane's queue as plain numbers.
 * A large plan has thousands of ready tasks at once, and launching them all only parked each one,
 * with its promises and closures, in a semaphore queue for most of the run. One queue per lane keeps a
 * saturated plugin from holding back the others' tasks. Failure policy: `abort` stops launching and
 * aborts in-flight tasks (protect: the checkpoint fails anyway, and quiesced resources must be released
 * soon); `continue` skips only what depends on the failed task (restore and delete do as much as they can).
 */
import { setMaxListeners } from 'node:events';

/** DagRunOptions: the DAG, which tasks the journal already has done, and how to run one task. */
export interface DagRunOptions {
  readonly count: number;
  readonly successors: readonly (readonly number[])[];
  readonly done: (i: number) => boolean;
  /** run resolves true when the task is done, false when it failed (already journaled); throwing stops the run. */
  run(i: number, signal: AbortSignal): Promise<boolean>;
  readonly policy: 'abort' | 'continue';
  /** lane names the limit a task waits on (undefined: none, start it at once); see laneWindow. */
  readonly lane?: (i: number) => string | undefined;
  /** laneWindow is how many tasks of one lane may be started and unsettled; keep it above the lane's own limit. */
  readonly laneWindow?: number;
  /** drain stops launching new tasks (shutdown, lease lost); in-flight tasks finish. */
  readonly drain: AbortSignal;
}

/** DagOutcome: failed tasks, tasks never run because of them, whether the run was drained, and a thrown error. */
export interface DagOutcome {
  readonly failed: readonly number[];
  readonly skipped: readonly number[];
  readonly drained: boolean;
  readonly error?: unknown;
}

/** runDag resolves when nothing is in flight and nothing more can start; it never rejects. */
export function runDag(o: DagRunOptions): Promise<DagOutcome> {
  return new Promise((resolve) => new DagRun(o, resolve).start());
}

/** Lane counts a lane's started, unsettled tasks and queues its ready ones (a queue with a moving head). */
interface Lane { running: number; queue: number[]; head: number }

class DagRun {
  private readonly indegree: Int32Array;
  private readonly blocked: Uint8Array;
  private readonly abort = new AbortController();
  private readonly failed: number[] = [];
  private readonly lanes = new Map<string, Lane>();
  private inflight = 0;
  private stopped = false;
  private ended = false;
  private error: unknown;

  constructor(private readonly o: DagRunOptions, private readonly resolve: (r: DagOutcome) => void) {
    // Every in-flight task links to this signal and unlinks when done; that is not a leak.
    setMaxListeners(0, this.abort.signal);
    this.indegree = new Int32Array(o.count);
    this.blocked = new Uint8Array(o.count);
    for (let i = 0; i < o.count; i++) if (!o.done(i)) for (const s of o.successors[i]!) this.indegree[s]!++;
  }

  start(): void {
    this.o.drain.addEventListener('abort', () => this.stop(false), { once: true });
    if (this.o.drain.aborted) this.stopped = true;
    for (let i = 0; i < this.o.count && !this.stopped; i++) if (!this.o.done(i) && this.indegree[i] === 0) this.launch(i);
    this.maybeEnd();
  }

  /** launch starts a ready task, or queues it behind its lane's window. */
  private launch(i: number): void {
    const name = this.o.lane?.(i);
    let lane: Lane | undefined;
    if (name !== undefined) {
      lane = this.lanes.get(name);
      if (!lane) this.lanes.set(name, (lane = { running: 0, queue: [], head: 0 }));
      if (lane.running >= (this.o.laneWindow ?? Infinity)) {
        lane.queue.push(i);
        return;
      }
      lane.running++;
    }
    this.inflight++;
    this.o.run(i, this.abort.signal).then((ok) => this.settle(i, ok, lane), (err: unknown) => {
      this.error ??= err;
      this.stop(true);
      this.settle(i, null, lane);
    });
  }

  private settle(i: number, ok: boolean | null, lane: Lane | undefined): void {
    this.inflight--;
    if (lane) lane.running--;
    if (ok === true) this.release(i);
    else if (ok === false) this.fail(i);
    if (lane) this.next(lane);
    this.maybeEnd();
  }

  /** next starts the lane's queued tasks while its window has room (never after a stop). */
  private next(lane: Lane): void {
    while (!this.stopped && lane.head < lane.queue.length && lane.running < (this.o.laneWindow ?? Infinity)) {
      const i = lane.queue[lane.head++]!;
      if (lane.head === lane.queue.length) {
        lane.queue = [];
        lane.head = 0;
      }
      if (!this.blocked[i]) this.launch(i);
    }
  }

  private release(i: number): void {
    for (const s of this.o.successors[i]!) {
      if (--this.indegree[s]! === 0 && !this.stopped && !this.blocked[s]) this.launch(s);
    }
  }

  private fail(i: number): void {
    this.failed.push(i);
    if (this.o.policy === 'abort') this.stop(true);
    else this.block(i);
  }

  /** block marks everything downstream of a failed task as never to run. */
  private block(i: number): void {
    const stack = [...this.o.successors[i]!];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (this.blocked[s]) continue;
      this.blocked[s] = 1;
      stack.push(...this.o.successors[s]!);
    }
  }

  private stop(abortInFlight: boolean): void {
    this.stopped = true;
    if (abortInFlight && !this.abort.signal.aborted) this.abort.abort(new Error('the operation is stopping: another resource failed'));
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.inflight > 0 || this.ended) return;
    this.ended = true;
    const skipped: number[] = [];
    for (let i = 0; i < this.o.count; i++) if (this.blocked[i] && !this.o.done(i)) skipped.push(i);
    const drained = this.stopped && this.failed.length === 0 && this.error === undefined;
    this.resolve({ failed: this.failed, skipped, drained, ...(this.error !== undefined ? { error: this.error } : {}) });
  }
}
