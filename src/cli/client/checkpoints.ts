/** `hoard checkpoint list|create|show|copy|delete`: checkpoints of one provider over the API. */
import type { Command } from 'commander';
import { DEFAULT_PROVIDER_ID } from '../../config/index.js';
import { printObject, printTable } from '../output.js';
import { ApiClient, collect, withConnection, type ConnectionOptions } from './http.js';
import { intervalMs, watch, type WatchFlags } from './watch.js';

interface ProviderOptions extends ConnectionOptions {
  provider: string;
}

interface ListOptions extends ProviderOptions {
  plan?: string;
  status?: string;
  startDate?: string;
  endDate?: string;
}

interface CreateOptions extends ProviderOptions {
  plan: string;
  extraInfo: string[];
}

const path = (o: ProviderOptions, id?: string) =>
  `/providers/${encodeURIComponent(o.provider)}/checkpoints${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;

function withProvider(cmd: Command): Command {
  return withConnection(cmd).option('--provider <id>', 'provider id', DEFAULT_PROVIDER_ID);
}

/** checkpointRow is one line of `checkpoint list`. */
function checkpointRow(c: any): Record<string, unknown> {
  return { id: c.id, status: c.status, plan: c.protection_plan?.name ?? '', plan_id: c.protection_plan?.id ?? '', created_at: c.created_at };
}

/** parseExtraInfo reads repeated KEY=VALUE options into Karbor's extra info map. */
function parseExtraInfo(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(pairs.map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`--extra-info ${p}: expected KEY=VALUE`);
    return [p.slice(0, i), p.slice(i + 1)];
  }));
}

export function checkpointCommands(program: Command): void {
  const cp = program.command('checkpoint').description('list, take, show and delete checkpoints');

  withProvider(cp.command('list').description('list checkpoints of a provider'))
    .option('--plan <id>', 'only checkpoints of this plan')
    .option('--status <status>', 'only checkpoints in this status')
    .option('--start-date <YYYY-MM-DD>', 'taken on or after this day')
    .option('--end-date <YYYY-MM-DD>', 'taken on or before this day')
    .action(async (o: ListOptions) => {
      const body = await new ApiClient(o).get(path(o), { plan_id: o.plan, status: o.status, start_date: o.startDate, end_date: o.endDate });
      if (o.json) printObject(body, true);
      else printTable(body.checkpoints.map(checkpointRow));
    });

  withProvider(cp.command('create').description('take a checkpoint of a plan now'))
    .requiredOption('--plan <id>', 'plan to protect')
    .option('--extra-info <KEY=VALUE>', 'extra information kept with the checkpoint (repeatable)', collect, [])
    .action(async (o: CreateOptions) => {
      const extra = parseExtraInfo(o.extraInfo);
      const body = await new ApiClient(o).post(path(o), { checkpoint: { plan_id: o.plan, ...(extra ? { 'extra-info': extra } : {}) } });
      printObject(o.json ? body : body.checkpoint, o.json);
    });

  withProvider(cp.command('show <id>').description('show one checkpoint; --watch follows it to its end with a progress bar'))
    .option('--watch', 'poll until the checkpoint is available, error or deleted, drawing progress on stderr')
    .option('--interval <seconds>', 'seconds between polls with --watch', '1')
    .action(async (id: string, o: ProviderOptions & WatchFlags) => {
      const api = new ApiClient(o);
      if (o.watch) {
        const status = await watch({
          read: async () => { const c = (await api.get(path(o, id))).checkpoint; return { status: c.status, progress: c.progress }; },
          final: ['available', 'error', 'deleted', 'error-deleting'], intervalMs: intervalMs(o.interval),
        });
        if (status === 'error' || status === 'error-deleting') process.exitCode = 1;
      }
      const body = await api.get(path(o, id));
      printObject(o.json ? body : body.checkpoint, o.json);
    });

  withProvider(cp.command('copy').description('copy a plan\'s available checkpoints (or one) into another provider\'s bank'))
    .requiredOption('--plan <id>', 'plan whose checkpoints are copied')
    .requiredOption('--to <provider id>', 'provider whose bank receives the copies')
    .option('--checkpoint <id>', 'copy only this checkpoint')
    .action(async (o: ProviderOptions & { plan: string; to: string; checkpoint?: string }) => {
      const parameters = { destination_provider_id: o.to, ...(o.checkpoint ? { checkpoint_id: o.checkpoint } : {}) };
      const body = await new ApiClient(o).post(path(o, 'action'), { copy: { plan_id: o.plan, parameters } });
      if (o.json) return printObject(body, true);
      const pairs = body.copy.checkpoint_id as { checkpoint_protect_id: string; checkpoint_copy_id: string }[];
      if (pairs.length === 0) console.log(`Nothing to copy: every available checkpoint of plan ${o.plan} already has a copy in provider ${o.to}.`);
      else printTable(pairs.map((p) => ({ checkpoint: p.checkpoint_protect_id, copy: p.checkpoint_copy_id, provider: o.to })));
    });

  withProvider(cp.command('delete <id>').description('delete a checkpoint')).action(async (id: string, o: ProviderOptions) => {
    const body = await new ApiClient(o).delete(path(o, id));
    if (o.json) printObject(body ?? {}, true);
    else console.log(`Deleting checkpoint ${id}.`);
  });
}
