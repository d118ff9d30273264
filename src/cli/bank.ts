/**
 * `hoard bank …` works on a data repository directly (no server): check its integrity, prune it, list
 * its snapshots. The repository is a file-system bank given by --path; its passphrase comes from
 * --passphrase-file or HOARD_BANK_PASSPHRASE, never from the command line (it would show in `ps`).
 * Configuration-based banks per provider come later.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { fsBackend } from '../bank/fs/index.js';
import { Repository, check, formatFinding, listSnapshots, prune, type Credential } from '../bank/repo/index.js';
import { printTable } from './output.js';
import { loadConfig } from '../config/index.js';
import { providerBanks } from '../engine/index.js';
import { hasConfig } from '../engine/bank-data.js';
import { reindex } from '../services/checkpoints/reindex.js';
import { bankSpecs, compose } from '../roles/compose.js';

interface BankOpts {
  path: string;
  passphraseFile?: string;
  json?: boolean;
}

async function credential(o: BankOpts): Promise<Credential> {
  if (o.passphraseFile) return (await readFile(o.passphraseFile, 'utf8')).replace(/\r?\n$/, '');
  const env = process.env.HOARD_BANK_PASSPHRASE;
  if (env === undefined || env === '') throw new Error('no passphrase: give --passphrase-file <file> or set HOARD_BANK_PASSPHRASE');
  return env;
}

async function openRepo(o: BankOpts): Promise<Repository> {
  // Index files are read by check and prune themselves, so one damaged file is reported, not fatal.
  return Repository.open(fsBackend({ root: o.path }), await credential(o), { loadIndex: false });
}

function withRepo(cmd: Command): Command {
  return cmd
    .requiredOption('--path <dir>', 'file-system bank directory')
    .option('--passphrase-file <file>', 'file holding the passphrase (else HOARD_BANK_PASSPHRASE)')
    .option('--json', 'print JSON');
}

/** bankCommand registers `hoard bank check|prune|snapshots|reindex`. Damage found by check exits with 1. */
export function bankCommand(program: Command): void {
  const bank = program.command('bank').description('check, prune and list a bank repository');
  withRepo(bank.command('check').description('verify structure; with --read-data also read and re-hash every blob'))
    .option('--read-data', 'read every pack and blob')
    .action(async (o: BankOpts & { readData?: boolean }) => {
      const repo = await openRepo(o);
      const result = await check(repo, { readData: o.readData === true });
      if (o.json) console.log(JSON.stringify(result));
      else {
        for (const f of result.findings) console.log(formatFinding(f));
        const s = result.stats;
        console.error(`${s.snapshots} snapshots, ${s.trees} trees, ${s.packs} packs, ${s.blobs} blobs, ${s.indexFiles} index files checked`
          + `${o.readData ? `, ${s.bytesRead} bytes read` : ''}; ${result.unindexedPacks.length} unindexed packs (left by interrupted writers)`);
        if (result.ok) console.error('no damage found');
        else console.error(`DAMAGE: ${result.findings.length} findings; damaged snapshots: ${result.damagedSnapshots.join(', ') || 'none'}`);
      }
      if (!result.ok) process.exitCode = 1;
    });
  withRepo(bank.command('prune').description('forget snapshots and delete data no snapshot or live writer needs'))
    .option('--forget <ids...>', 'snapshot ids to delete first')
    .option('--wait <seconds>', 'wait this long for writers that started before the prune', '0')
    .action(async (o: BankOpts & { forget?: string[]; wait: string }) => {
      const repo = await openRepo(o);
      const result = await prune(repo, { forget: o.forget, waitMs: Number(o.wait) * 1000 });
      await repo.close();
      if (o.json) console.log(JSON.stringify(result));
      else {
        console.log(`forgot ${result.forgotten.length} snapshots; deleted ${result.packsDeleted} packs, repacked ${result.packsRepacked}, `
          + `removed ${result.orphansDeleted} leftover packs, ${result.blobsDeleted} blobs, ${result.bytesFreed} bytes freed`);
        if (result.deferred.length > 0) console.log(`deferred: writers still running (${result.deferred.join(', ')}); run prune again later or use --wait`);
      }
    });
  withRepo(bank.command('snapshots').description('list snapshots, oldest first'))
    .action(async (o: BankOpts) => {
      const repo = await Repository.open(fsBackend({ root: o.path }), await credential(o));
      const list = await listSnapshots(repo);
      printTable(list.map(({ id, snapshot: s }) => ({
        id, time: s.time, host: s.host, sections: Object.keys(s.sections).join(','), bytes: Object.values(s.sections).reduce((n, x) => n + x.bytes, 0),
      })), o.json);
    });
  bank.command('reindex')
    .description("rebuild the checkpoint index of this deployment's database from the checkpoint records in its providers' banks")
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also HOARD_CONFIG')
    .option('--provider <id>', 'only this provider (default: every provider with a bank)')
    .option('--dry-run', 'show what would be added without changing the database')
    .option('--json', 'print JSON')
    .action(async (o: { config?: string; provider?: string; dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig(o.config);
      const specs = bankSpecs(config).filter((s) => o.provider === undefined || s.providerId === o.provider);
      if (specs.length === 0) throw new Error(o.provider ? `no provider ${o.provider} with a bank in the configuration` : 'no provider with a bank in the configuration');
      const hoard = await compose(config);
      const banks = providerBanks(specs);
      const rows: Record<string, unknown>[] = [];
      try {
        for (const spec of specs) {
          // Reindexing must never create a bank: an empty or wrong path is reported instead.
          if (!(await hasConfig(await spec.backend()))) {
            rows.push({ provider: spec.providerId, bank: spec.label, error: 'no bank here' });
            process.exitCode = 1;
            continue;
          }
          const r = await banks.records(spec.providerId, (records) => reindex(hoard.store, records, { providerId: spec.providerId, dryRun: o.dryRun === true }));
          if (!r) continue;
          if (r.unreadable.length > 0) process.exitCode = 1;
          rows.push({
            provider: spec.providerId, bank: spec.label, added: r.added.length, present: r.present.length,
            plans_recreated: r.plansRecreated.length, unreadable: r.unreadable.map((u) => `${u.id}: ${u.reason}`).join('; '),
            ...(o.json ? { added_ids: r.added, plan_ids: r.plansRecreated } : {}),
          });
        }
      } finally {
        await banks.close();
        await hoard.close();
      }
      if (o.dryRun && !o.json) console.error('dry run: nothing was written');
      printTable(rows, o.json);
    });
}
