/** `hoard trigger list|create|show|delete`: time triggers over the API (Karbor's `trigger_info` shape). */
import type { Command } from 'commander';
import { printObject, printTable } from '../output.js';
import { ApiClient, withConnection, type ConnectionOptions } from './http.js';

interface CreateOptions extends ConnectionOptions {
  name: string;
  type: string;
  format: string;
  pattern: string;
  startTime?: string;
  endTime?: string;
  window?: string;
}

/** triggerRow is one line of `trigger list`. */
function triggerRow(t: any): Record<string, unknown> {
  const p = t.properties ?? {};
  return { id: t.id, name: t.name, type: t.type, format: p.format ?? '', pattern: p.pattern ?? '', window: p.window ?? '' };
}

/** properties builds Karbor's time-trigger properties; window goes as an integer, as Karbor's schema wants. */
function properties(o: CreateOptions): Record<string, unknown> {
  if (o.window !== undefined && !/^\d+$/.test(o.window)) throw new Error(`--window ${o.window}: expected a number of seconds`);
  return {
    format: o.format,
    pattern: o.pattern,
    ...(o.startTime !== undefined ? { start_time: o.startTime } : {}),
    ...(o.endTime !== undefined ? { end_time: o.endTime } : {}),
    ...(o.window !== undefined ? { window: Number(o.window) } : {}),
  };
}

export function triggerCommands(program: Command): void {
  const trigger = program.command('trigger').description('manage time triggers for scheduled operations');

  withConnection(trigger.command('list').description('list triggers')).action(async (o: ConnectionOptions) => {
    const body = await new ApiClient(o).get('/triggers');
    if (o.json) printObject(body, true);
    else printTable(body.triggers.map(triggerRow));
  });

  withConnection(trigger.command('create').description('create a time trigger'))
    .requiredOption('--name <name>', 'trigger name')
    .requiredOption('--pattern <pattern>', 'schedule, e.g. "FREQ=DAILY;BYHOUR=2" (calendar) or "0 2 * * *" (crontab)')
    .option('--format <format>', 'calendar or crontab', 'calendar')
    .option('--type <type>', 'trigger type', 'time')
    .option('--start-time <time>', 'first possible run, "YYYY-MM-DD HH:MM:SS" UTC')
    .option('--end-time <time>', 'last possible run, "YYYY-MM-DD HH:MM:SS" UTC')
    .option('--window <seconds>', 'how late a run may still start')
    .action(async (o: CreateOptions) => {
      const body = await new ApiClient(o).post('/triggers', { trigger_info: { name: o.name, type: o.type, properties: properties(o) } });
      printObject(o.json ? body : body.trigger_info, o.json);
    });

  withConnection(trigger.command('show <id>').description('show one trigger')).action(async (id: string, o: ConnectionOptions) => {
    const body = await new ApiClient(o).get(`/triggers/${encodeURIComponent(id)}`);
    printObject(o.json ? body : body.trigger_info, o.json);
  });

  withConnection(trigger.command('delete <id>').description('delete a trigger')).action(async (id: string, o: ConnectionOptions) => {
    const body = await new ApiClient(o).delete(`/triggers/${encodeURIComponent(id)}`);
    if (o.json) printObject(body ?? {}, true);
    else console.log(`Deleted trigger ${id}.`);
  });
}
