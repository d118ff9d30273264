/** clientCommands registers the `hoard` verbs that talk to a running server over the Karbor v1 API. */
import type { Command } from 'commander';
import { cancelCommands } from './cancel.js';
import { checkpointCommands } from './checkpoints.js';
import { planCommands } from './plans.js';
import { restoreCommands } from './restores.js';
import { retentionCommands } from './retention.js';
import { triggerCommands } from './triggers.js';

export function clientCommands(program: Command): void {
  planCommands(program);
  checkpointCommands(program);
  restoreCommands(program);
  triggerCommands(program);
  // After checkpointCommands: it adds pin and unpin to the `checkpoint` group.
  retentionCommands(program);
  // After checkpointCommands and restoreCommands: it adds `cancel` to both groups.
  cancelCommands(program);
}
