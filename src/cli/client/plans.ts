/** `hoard plan list|create|show|delete`: plans over the API. */
import type { Command } from 'commander';
import { DEFAULT_PROVIDER_ID } from '../../config/index.js';
import { printObject, printTable } from '../output.js';
import { ApiClient, collect, parseJsonOption, withConnection, type ConnectionOptions } from './http.js';

interface CreateOptions extends ConnectionOptions {
  name: string;
  provider: string;
  resource: string[];
  description?: string;
  parametersJson?: string;
}

/** parseResource reads `TYPE=ID[=NAME]`; the name defaults to the id and may itself contain '='. */
export function parseResource(spec: string): { type: string; id: string; name: string } {
  const [type, id, ...rest] = spec.split('=');
  if (!type || !id) throw new Error(`--resource ${spec}: expected TYPE=ID[=NAME]`);
  return { type, id, name: rest.length > 0 ? rest.join('=') : id };
}

/** planRow is one line of `plan list`. */
function planRow(p: any): Record<string, unknown> {
  return { id: p.id, name: p.name, status: p.status, provider_id: p.provider_id, resources: p.resources.length };
}

export function planCommands(program: Command): void {
  const plan = program.command('plan').description('manage protection plans on a Hoard server');

  withConnection(plan.command('list').description('list plans')).action(async (o: ConnectionOptions) => {
    const body = await new ApiClient(o).get('/plans');
    if (o.json) printObject(body, true);
    else printTable(body.plans.map(planRow));
  });

  withConnection(plan.command('create').description('create a plan (created suspended)'))
    .requiredOption('--name <name>', 'plan name')
    .option('--provider <id>', 'provider id', DEFAULT_PROVIDER_ID)
    .requiredOption('--resource <TYPE=ID[=NAME]>', 'a resource to protect (repeatable)', collect, [])
    .option('--description <text>', 'plan description')
    .option('--parameters-json <json>', 'parameters as JSON, e.g. {"Hoard::FileSystem::Directory":{"exclude":"*.tmp"}}')
    .action(async (o: CreateOptions) => {
      const plan = {
        name: o.name,
        provider_id: o.provider,
        resources: o.resource.map(parseResource),
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.parametersJson !== undefined ? { parameters: parseJsonOption('--parameters-json', o.parametersJson) } : {}),
      };
      const body = await new ApiClient(o).post('/plans', { plan });
      printObject(o.json ? body : body.plan, o.json);
    });

  withConnection(plan.command('show <id>').description('show one plan')).action(async (id: string, o: ConnectionOptions) => {
    const body = await new ApiClient(o).get(`/plans/${encodeURIComponent(id)}`);
    printObject(o.json ? body : body.plan, o.json);
  });

  withConnection(plan.command('delete <id>').description('delete a plan')).action(async (id: string, o: ConnectionOptions) => {
    const body = await new ApiClient(o).delete(`/plans/${encodeURIComponent(id)}`);
    if (o.json) printObject(body ?? {}, true);
    else console.log(`Deleted plan ${id}.`);
  });
}
