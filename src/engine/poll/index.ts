/**
 * Durable polling (ARCHITECTURE decision 3): a hook that started long work elsewhere hands back a
 * handle; the journal has persisted it (with the time polling began) before pollUntilSettled is
 * called, so after a restart the next owner calls this again with the same handle and the same
 * deadline, and the hook is never run twice. Polls back off exponentially up to a cap.
 */
import { RetryLater, Unrecoverable, type PollResult, type Progress } from '../../plugins/sdk/index.js';
import { backoffMs, sleep, type BackoffPolicy } from '../scheduler/index.js';

/** PollOptions: backoff, the deadline (absolute, from the persisted start), cancellation and progress. */
export interface PollOptions {
  readonly backoff: BackoffPolicy;
  readonly deadline: number;
  readonly signal: AbortSignal;
  onProgress(p: Progress): void;
}

/**
 * pollUntilSettled calls `poll` until it reports done (resolves) or failed (rejects with Unrecoverable
 * carrying the plugin's reason). A poll that throws RetryLater is retried; any other throw rejects.
 * Passing the deadline rejects with a reason naming how long polling lasted.
 */
export async function pollUntilSettled(poll: () => Promise<PollResult>, o: PollOptions): Promise<void> {
  for (let n = 1; ; n++) {
    const result = await pollOnce(poll);
    if (result?.state === 'done') return;
    if (result?.state === 'failed') throw new Unrecoverable(result.reason);
    if (result?.progress) o.onProgress(result.progress);
    const wait = backoffMs(o.backoff, n);
    if (Date.now() + wait > o.deadline) throw new Unrecoverable(`the work it started did not finish in time (polled until ${new Date(o.deadline).toISOString()})`);
    await sleep(wait, o.signal);
  }
}

async function pollOnce(poll: () => Promise<PollResult>): Promise<PollResult | undefined> {
  try {
    return await poll();
  } catch (err) {
    if (err instanceof RetryLater) return undefined;
    throw err;
  }
}
