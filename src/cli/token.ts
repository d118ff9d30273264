/**
 * `hoard token …` manages local-auth tokens directly in the metadata store (it does not need a running
 * server). The plaintext token is printed once and never stored.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { compose } from '../roles/compose.js';
import { tokens } from '../store/index.js';
import { storedTime } from '../util/clock.js';
import { isProjectId } from '../util/ids.js';
import { printTable } from './output.js';

const DURATION = /^(\d+)([smhd])$/;

function parseDuration(v: string): number {
  const m = DURATION.exec(v);
  if (!m) throw new Error(`--expires-in must look like 30m, 12h or 90d, not ${v}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'] * 1000;
}

export function tokenCommand(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens (local auth)');
  token
    .command('create')
    .description('create a token for a project; prints it once')
    .requiredOption('--project <id>', 'project the token acts in (created if new)')
    .option('--role <role>', 'admin or member', 'member')
    .option('--user <id>', 'user id recorded with the token', 'hoard')
    .option('--expires-in <duration>', 'lifetime, e.g. 12h or 90d (default: no expiry)')
    .option('--description <text>', 'what the token is for', '')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print JSON')
    .action(async (o: { project: string; role: string; user: string; expiresIn?: string; description: string; config?: string; json?: boolean }) => {
      if (!isProjectId(o.project)) throw new Error(`--project ${o.project}: use letters, digits, '-' and '_' (at most 64)`);
      if (!isProjectId(o.user)) throw new Error(`--user ${o.user}: use letters, digits, '-' and '_' (at most 64)`);
      if (o.role !== 'admin' && o.role !== 'member') throw new Error('--role must be admin or member');
      const hoard = await compose(loadConfig(o.config));
      try {
        const now = new Date();
        await tokens.ensureProject(hoard.store.db, o.project, storedTime(now));
        const expiresAt = o.expiresIn ? storedTime(new Date(now.getTime() + parseDuration(o.expiresIn))) : null;
        const { token: value, record } = await tokens.createToken(hoard.store.db, {
          projectId: o.project, userId: o.user, roles: o.role === 'admin' ? ['admin', 'member'] : ['member'],
          description: o.description, createdAt: storedTime(now), expiresAt,
        });
        const host = hoard.config.listen.host;
        const url = `http://${host.includes(':') ? `[${host}]` : host}:${hoard.config.listen.port}/v1/${o.project}`;
        if (o.json) console.log(JSON.stringify({ token: value, id: record.id, project_id: o.project, roles: record.roles, expires_at: expiresAt, url }));
        else {
          console.log(value);
          console.error(`token ${record.id} for project ${o.project} (${record.roles.join(', ')})${expiresAt ? `, expires ${expiresAt}` : ''}`);
          console.error(`karbor --os-no-client-auth --karbor-url ${url} --os-auth-token <token> plan-list`);
        }
      } finally {
        await hoard.close();
      }
    });
  token
    .command('list')
    .description('list tokens (never their values)')
    .option('--project <id>', 'only this project')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print JSON')
    .action(async (o: { project?: string; config?: string; json?: boolean }) => {
      const hoard = await compose(loadConfig(o.config));
      try {
        const list = await tokens.listTokens(hoard.store.db, o.project);
        printTable(list.map((t) => ({ id: t.id, project: t.projectId, user: t.userId, roles: t.roles.join(','), expires: t.expiresAt ?? '-', description: t.description })), o.json);
      } finally {
        await hoard.close();
      }
    });
  token
    .command('revoke <id>')
    .description('revoke a token by id')
    .option('-c, --config <file>', 'configuration file')
    .action(async (id: string, o: { config?: string }) => {
      const hoard = await compose(loadConfig(o.config));
      try {
        if (!(await tokens.revokeToken(hoard.store.db, id))) throw new Error(`no token ${id}`);
        console.error(`revoked ${id}`);
      } finally {
        await hoard.close();
      }
    });
}
