/**
 * `hoard checkpoint cancel ID` and `hoard restore cancel ID`: Hoard's cancel extension over the API.
 * The server answers at once; the operation ends (`error`, `fail`) when its worker notices, which
 * `show --watch` follows. Added to the existing groups so that each group's own file stays untouched.
 */
import type { Command } from 'commander';
import { DEFAULT_PROVIDER_ID } from '../../config/index.js';
import { printObject } from '../output.js';
import { ApiClient, withConnection, type ConnectionOptions } from './http.js';

interface CancelOptions extends ConnectionOptions {
  reason?: string;
  provider?: string;
}

const group = (program: Command, name: string, description: string): Command =>
  program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);

const body = (o: CancelOptions) => (o.reason === undefined ? undefined : { cancel: { reason: o.reason } });

/** say prints what the cancel did: ended now, or asked of the worker running it. */
function say(kind: string, id: string, answer: { status?: string; cancel?: { status?: string } }): void {
  const how = answer.cancel?.status === 'ended' ? `ended (${answer.status ?? 'unknown status'})` : 'requested; it ends when its worker notices (follow it with show --watch)';
  console.log(`Cancel of ${kind} ${id} ${how}.`);
}

export function cancelCommands(program: Command): void {
  withConnection(group(program, 'checkpoint', 'checkpoints of a provider').command('cancel <id>').description('cancel the protection of a checkpoint that is still protecting'))
    .option('--provider <id>', 'provider id', DEFAULT_PROVIDER_ID)
    .option('--reason <text>', 'why, kept with the request')
    .action(async (id: string, o: CancelOptions) => {
      const path = `/providers/${encodeURIComponent(o.provider ?? DEFAULT_PROVIDER_ID)}/checkpoints/${encodeURIComponent(id)}/cancel`;
      const r = await new ApiClient(o).post(path, body(o));
      if (o.json) printObject(r, true);
      else say('checkpoint', id, r.checkpoint);
    });

  withConnection(group(program, 'restore', 'restore checkpoints and follow restores').command('cancel <id>').description('cancel a restore that is still in progress'))
    .option('--reason <text>', 'why, kept with the request')
    .action(async (id: string, o: CancelOptions) => {
      const r = await new ApiClient(o).post(`/restores/${encodeURIComponent(id)}/cancel`, body(o));
      if (o.json) printObject(r, true);
      else say('restore', id, r.restore);
    });
}
