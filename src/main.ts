#!/usr/bin/env node
/** The `hoard` program: server roles, token management and client verbs. */
import { Command } from 'commander';
import { serveCommand } from './cli/serve.js';
import { tokenCommand } from './cli/token.js';
import { clientCommands } from './cli/client/index.js';
import { bankCommand } from './cli/bank.js';

const program = new Command('hoard').description('Hoard: application data protection as a service (Karbor v1 API)').version('0.1.0');
serveCommand(program);
tokenCommand(program);
clientCommands(program);
bankCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`hoard: ${(err as Error).message}`);
  process.exit(1);
});
