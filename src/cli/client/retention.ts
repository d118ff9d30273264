/**
 * `hoard retention explain|apply PLAN` and `hoard checkpoint pin|unpin ID`: Hoard's retention extension
 * over the API. The policy comes from --policy JSON or from --keep-* flags (not both); with neither, the
 * server uses the plan's retention_protect scheduled operation.
 */
import type { Command } from 'commander';
import { DEFAULT_PROVIDER_ID } from '../../config/index.js';
import { printObject, printTable } from '../output.js';
import { ApiClient, parseJsonOption, withConnection, type ConnectionOptions } from './http.js';

interface PolicyOptions extends ConnectionOptions {
  policy?: string;
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  minGood?: string;
  keepFailed?: string;
  tz?: string;
  dryRun?: boolean;
}

interface ProviderOptions extends ConnectionOptions {
  provider: string;
}

/** COUNT_FLAGS maps each count flag (commander's camelCase) to its policy key. */
const COUNT_FLAGS = {
  keepLast: 'keep_last', keepHourly: 'keep_hourly', keepDaily: 'keep_daily', keepWeekly: 'keep_weekly',
  keepMonthly: 'keep_monthly', keepYearly: 'keep_yearly', minGood: 'min_good', keepFailed: 'keep_failed',
} as const;

/** policyOf builds the policy from the flags; the server validates it and names what is wrong. */
export function policyOf(o: PolicyOptions): Record<string, unknown> | undefined {
  const p: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(COUNT_FLAGS)) {
    const v = o[flag as keyof typeof COUNT_FLAGS];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw new Error(`--${key.replace(/_/g, '-')} ${v}: expected a whole number`);
    p[key] = Number(v);
  }
  if (o.keepWithin !== undefined) p.keep_within = o.keepWithin;
  if (o.tz !== undefined) p.time_zone = o.tz;
  const fromJson = parseJsonOption('--policy', o.policy);
  if (fromJson && Object.keys(p).length > 0) throw new Error('give the policy either as --policy JSON or as --keep-*/--tz flags, not both');
  return fromJson ?? (Object.keys(p).length > 0 ? p : undefined);
}

function withPolicy(cmd: Command): Command {
  return withConnection(cmd)
    .option('--policy <json>', 'the whole policy as JSON, e.g. \'{"keep_last":7,"keep_daily":14}\'')
    .option('--keep-last <n>', 'keep the n newest available checkpoints')
    .option('--keep-hourly <n>', 'keep the newest checkpoint of each of the n newest hours that have one')
    .option('--keep-daily <n>', 'keep the newest checkpoint of each of the n newest days that have one')
    .option('--keep-weekly <n>', 'the same for ISO weeks')
    .option('--keep-monthly <n>', 'the same for months')
    .option('--keep-yearly <n>', 'the same for years')
    .option('--keep-within <duration>', 'keep checkpoints younger than this, e.g. 7d, 36h, 2w3d')
    .option('--min-good <n>', 'never leave fewer available checkpoints than this (default 1)')
    .option('--keep-failed <n>', 'keep the n newest failed (error) checkpoints (default 1)')
    .option('--tz <zone>', 'IANA time zone of the calendar buckets (default UTC)');
}

/** decisionRows is the table: one line per checkpoint, newest first. */
function decisionRows(r: any): Record<string, unknown>[] {
  return r.checkpoints.map((c: any) => ({
    checkpoint: c.id, created: c.created_at, status: c.status, action: String(c.action).toUpperCase(), reasons: c.reasons.join(', '),
  }));
}

function sourceText(r: any): string {
  return r.policy_source?.kind === 'scheduled_operation' ? `scheduled operation ${r.policy_source.id}` : 'request';
}

function printDecision(r: any): void {
  printTable(decisionRows(r));
  console.log(`Policy (${sourceText(r)}): ${JSON.stringify(r.policy)}`);
  console.log(`${r.keep} kept, ${r.delete} to delete, decided at ${r.decided_at}.`);
}

function planPath(plan: string): string {
  return `/plans/${encodeURIComponent(plan)}/retention`;
}

/** retentionCommands adds `hoard retention` and, to the existing `hoard checkpoint` group, pin and unpin. */
export function retentionCommands(program: Command): void {
  const retention = program.command('retention').description('explain and apply retention policies (Hoard extension)');

  withPolicy(retention.command('explain <plan>').description('show which checkpoints of a plan a policy keeps or deletes, and why'))
    .action(async (plan: string, o: PolicyOptions) => {
      const policy = policyOf(o);
      const body = await new ApiClient(o).get(planPath(plan), { policy: policy ? JSON.stringify(policy) : undefined });
      if (o.json) printObject(body, true);
      else printDecision(body.retention);
    });

  withPolicy(retention.command('apply <plan>').description('delete the checkpoints a policy does not keep'))
    .option('--dry-run', 'decide and report, delete nothing')
    .action(async (plan: string, o: PolicyOptions) => {
      const policy = policyOf(o);
      const body = await new ApiClient(o).post(planPath(plan), { ...(policy ? { policy } : {}), dry_run: o.dryRun === true });
      if (o.json) return printObject(body, true);
      const r = body.retention;
      printDecision(r);
      if (r.dry_run) console.log(`Dry run: nothing was deleted; ${r.delete} checkpoint(s) would be.`);
      else console.log(`Deleting ${r.deleted.length} checkpoint(s).`);
      for (const s of r.skipped) console.log(`Skipped ${s.id}: ${s.message}`);
    });

  pinCommands(checkpointGroup(program));
}

/** checkpointGroup is the existing `hoard checkpoint` command, so pin and unpin sit beside delete. */
function checkpointGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'checkpoint') ?? program.command('checkpoint').description('checkpoints of a provider');
}

function pinCommands(cp: Command): void {
  for (const [verb, what] of [['pin', 'exempt a checkpoint from retention'], ['unpin', 'let retention decide about a checkpoint again']] as const) {
    withConnection(cp.command(`${verb} <id>`).description(what)).option('--provider <id>', 'provider id', DEFAULT_PROVIDER_ID)
      .action(async (id: string, o: ProviderOptions) => {
        const body = await new ApiClient(o).post(`/providers/${encodeURIComponent(o.provider)}/checkpoints/${encodeURIComponent(id)}/${verb}`, {});
        if (o.json) printObject(body, true);
        else console.log(`${verb === 'pin' ? 'Pinned' : 'Unpinned'} checkpoint ${id}.`);
      });
  }
}
