/**
 * The scheduler: runs a task DAG with a failure policy (dag.ts), under global and per-plugin limits
 * (limits.ts), with exponential backoff for retries and polls (backoff.ts), and cheap per-call
 * cancellation linked to long-lived signals (abort.ts).
 */
export { runDag, type DagOutcome, type DagRunOptions } from './dag.js';
export { limits, Semaphore, type Limits } from './limits.js';
export { backoffMs, sleep, type BackoffPolicy } from './backoff.js';
export { CallScope, onAbort } from './abort.js';
