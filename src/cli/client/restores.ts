/** `hoard restore list|create|show`: restores over the API. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DEFAULT_PROVIDER_ID } from '../../config/index.js';
import { printObject, printTable } from '../output.js';
import { ApiClient, parseJsonOption, withConnection, type ConnectionOptions } from './http.js';
import { intervalMs, watch, type WatchFlags } from './watch.js';

interface ListOptions extends ConnectionOptions {
  status?: string;
}

interface CreateOptions extends ConnectionOptions {
  checkpoint: string;
  provider: string;
  parametersJson?: string;
  restoreTarget?: string;
  restoreAuthFile?: string;
}

/**
 * restoreAuthOf reads --restore-auth-file: a JSON restore_auth object, from a file so that credentials
 * stay out of argv (visible to every user in ps) and shell history. Errors never quote the file.
 */
async function restoreAuthOf(path: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (path === undefined) return undefined;
  const text = await readFile(path, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`--restore-auth-file ${path} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`--restore-auth-file ${path} must hold a JSON object`);
  return v as Record<string, unknown>;
}

/** restoreRow is one line of `restore list`. */
function restoreRow(r: any): Record<string, unknown> {
  return { id: r.id, status: r.status, checkpoint_id: r.checkpoint_id, provider_id: r.provider_id, created_at: r.created_at ?? '' };
}

export function restoreCommands(program: Command): void {
  const restore = program.command('restore').description('restore checkpoints and follow restores');

  withConnection(restore.command('list').description('list restores'))
    .option('--status <status>', 'only restores in this status')
    .action(async (o: ListOptions) => {
      const body = await new ApiClient(o).get('/restores', { status: o.status });
      if (o.json) printObject(body, true);
      else printTable(body.restores.map(restoreRow));
    });

  withConnection(restore.command('create').description('restore a checkpoint'))
    .requiredOption('--checkpoint <id>', 'checkpoint to restore')
    .option('--provider <id>', 'provider of the checkpoint', DEFAULT_PROVIDER_ID)
    .option('--parameters-json <json>', 'restore parameters as JSON, e.g. {"Hoard::FileSystem::Directory":{"restore_path":"/tmp/r"}}')
    .option('--restore-target <target>', 'restore to another host instead of in place, e.g. sftp://user@host:22 (restore_path is the directory there)')
    .option('--restore-auth-file <path>', 'JSON file with restore_auth, e.g. {"type":"ssh","username":"u","private_key":"…","host_key":"SHA256:…"}')
    .action(async (o: CreateOptions) => {
      const auth = await restoreAuthOf(o.restoreAuthFile);
      const restore = {
        provider_id: o.provider,
        checkpoint_id: o.checkpoint,
        parameters: parseJsonOption('--parameters-json', o.parametersJson) ?? {},
        ...(o.restoreTarget !== undefined ? { restore_target: o.restoreTarget } : {}),
        ...(auth !== undefined ? { restore_auth: auth } : {}),
      };
      const body = await new ApiClient(o).post('/restores', { restore });
      printObject(o.json ? body : body.restore, o.json);
    });

  withConnection(restore.command('show <id>').description('show one restore; --watch follows it to its end with a progress bar'))
    .option('--watch', 'poll until the restore succeeds or fails, drawing progress on stderr')
    .option('--interval <seconds>', 'seconds between polls with --watch', '1')
    .action(async (id: string, o: ConnectionOptions & WatchFlags) => {
      const api = new ApiClient(o);
      const path = `/restores/${encodeURIComponent(id)}`;
      if (o.watch) {
        const status = await watch({
          read: async () => { const r = (await api.get(path)).restore; return { status: r.status, progress: r.progress }; },
          final: ['success', 'fail'], intervalMs: intervalMs(o.interval),
        });
        if (status === 'fail') process.exitCode = 1;
      }
      const body = await api.get(path);
      printObject(o.json ? body : body.restore, o.json);
    });
}
