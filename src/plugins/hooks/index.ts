/**
 * Exec hooks: commands a plan attaches before and after a resource's protection, of three kinds —
 * `local` (a command on the Hoard host), `sql` (a statement on PostgreSQL or MariaDB/MySQL, optionally
 * on a named session held from pre to post, as FLUSH TABLES WITH READ LOCK needs) and `ssh` (a script
 * uploaded to a guest, run and removed, agentless).
 *
 * Invariants:
 * - Once the first pre hook has started, the post hooks run exactly once (beginHooks/HookScope.end,
 *   withHooks), also when a pre hook or the main work failed or the operation was cancelled.
 * - Every hook has a timeout; on it (or on cancellation) the local process group, the remote process
 *   group or the database backend is killed, not just abandoned.
 * - ssh never connects to a guest whose host key is not pinned or in the spec's known_hosts.
 * - Secrets (inline, `env:NAME`, `file:/path`) never appear in errors, reports or results.
 * - Failures are HookErrors with a stable reason from HOOK_REASONS.
 */
export { HookSpecSchema, HookSchema, LocalHookSchema, SqlHookSchema, SshHookSchema } from './schema.js';
export type { Hook, HookSpec, LocalHook, SqlHook, SshHook, SqlConnection } from './schema.js';
export { parseHookSpec } from './validate.js';
export { HookError, HOOK_REASONS, isHookError, type HookReason } from './errors.js';
export type { HookRunResult } from './output.js';
export { runHook, hookLabel, DEFAULT_TIMEOUT_SECONDS, type RunHookOptions } from './run-hook.js';
export { SqlSessions } from './sql.js';
export { beginHooks, runPostHooks, type HookScope, type HookReport, type HookOptions, type PhaseResult, type Outcome, type HookPhase } from './scope.js';
export { withHooks } from './with-hooks.js';
export { fingerprint } from './host-keys.js';
export { withExecHooks } from './resource.js';
// SFTP sessions with the same host key checks, for plugins that write to another host (restore targets).
export { sftpAccess, type SftpAccess, type SftpLogin, type SftpSession } from './sftp-access.js';
