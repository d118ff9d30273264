import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { compose } from '../roles/compose.js';
import { startApi } from '../roles/api.js';
import { startHeartbeat } from '../roles/heartbeat.js';
import { startProtection } from '../roles/protection.js';
import { startScheduler } from '../roles/scheduler.js';

const ROLES = ['api', 'protection', 'scheduler'] as const;

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run Hoard: the API, protection and scheduler roles in one process (the embedded default), or one role')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also HOARD_CONFIG')
    .option('--role <role...>', `roles to run: ${ROLES.join(', ')} (default: all)`)
    .action(async (opts: { config?: string; role?: string[] }) => {
      const roles = opts.role ?? [...ROLES];
      const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (bad.length) throw new Error(`unknown role ${bad.join(', ')}; roles are ${ROLES.join(', ')}`);
      const config = loadConfig(opts.config);
      const hoard = await compose(config);
      const stops: (() => Promise<void>)[] = [];
      if (roles.includes('api')) {
        const app = await startApi(hoard);
        stops.push(() => app.close());
      }
      if (roles.includes('protection')) {
        const protection = startProtection(hoard);
        stops.push(() => protection.stop());
      }
      if (roles.includes('scheduler')) {
        const scheduler = startScheduler(hoard);
        // Stopped before protection so no new checkpoint is submitted while workers drain.
        stops.unshift(() => scheduler.stop());
      }
      const heartbeat = await startHeartbeat({ osServices: hoard.services.osServices, roles: roles as (typeof ROLES)[number][], intervalSeconds: config.services.heartbeatSeconds });
      stops.unshift(async () => heartbeat.stop());
      const stop = async () => {
        for (const s of stops) await s();
        await hoard.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
