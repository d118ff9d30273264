/**
 * HookError is how every hook failure leaves this module: a stable reason code from HOOK_REASONS and a
 * message that names the hook, says what happened and what to check. Messages and the attached result
 * have already been through the hook's redactor, so they are safe to log and to record in a checkpoint.
 * These codes are meant for model/errors.ts REASONS; until they are there, HookError mirrors HoardError's
 * shape (reason, status, message) so that callers can treat both alike.
 */
import type { HookRunResult } from './output.js';

export const HOOK_REASONS = {
  hook_spec_invalid: 400,
  hook_secret_unavailable: 400,
  hook_failed: 502,
  hook_timeout: 504,
  hook_cancelled: 409,
  hook_connect_failed: 502,
  hook_auth_failed: 502,
  hook_host_key_unknown: 502,
  hook_host_key_mismatch: 502,
  hook_session_lost: 502,
} as const satisfies Record<string, number>;

export type HookReason = keyof typeof HOOK_REASONS;

export class HookError extends Error {
  readonly reason: HookReason;
  readonly status: number;
  /** result is what the hook produced before it failed (exit code, output tails), when it ran at all. */
  readonly result: HookRunResult | undefined;

  constructor(reason: HookReason, message: string, options?: { result?: HookRunResult }) {
    super(message);
    this.name = 'HookError';
    this.reason = reason;
    this.status = HOOK_REASONS[reason];
    this.result = options?.result;
  }
}

export function isHookError(err: unknown): err is HookError {
  return err instanceof HookError;
}
