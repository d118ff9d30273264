/**
 * A writer process for the concurrency and crash tests, run as `node --import tsx writer-fixture.ts
 * <bank root> <passphrase> <mode> <ttlMs> [src dir]`:
 * - `backup`: backs up the src dir under a writer lease, saves a snapshot, prints {"snapshot","root"};
 * - `hang`: stores a stream and flushes (indexed, never snapshotted), then stores more until packs
 *   are uploaded unindexed, prints READY <lease name> and waits to be killed with SIGKILL.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { fsBackend } from '../../../src/bank/fs/index.js';
import { backupTree, openWriter, saveSnapshot, writeStream } from '../../../src/bank/repo/index.js';

const [root, passphrase, mode, ttl, src] = process.argv.slice(2) as [string, string, string, string, string | undefined];

function seeded(n: number, seed: string): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(n));
}

const session = await openWriter(fsBackend({ root }), passphrase, { ttlMs: Number(ttl), packTarget: 512 * 1024 });
if (mode === 'backup') {
  const { root: tree, stats } = await backupTree(session.repo, src!);
  const snapshot = await saveSnapshot(session.repo, { tags: [], sections: { files: { kind: 'tree', root: tree, bytes: stats.bytes, items: stats.files } } });
  await session.close();
  console.log(JSON.stringify({ snapshot, root: tree, deduped: session.repo.stats.blobsDeduped, added: session.repo.stats.blobsAdded }));
} else {
  async function* part(seed: string, bytes: number, hang: boolean): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes; i += 128 * 1024) yield seeded(128 * 1024, `${seed}-${i}`);
    if (hang) await new Promise(() => undefined);
  }
  await writeStream(session.repo, part('indexed', 1024 * 1024, false));
  await session.repo.flush();
  const before = session.repo.stats.packsWritten;
  void writeStream(session.repo, part('unindexed', 2 * 1024 * 1024, true));
  while (session.repo.stats.packsWritten < before + 2) await new Promise((r) => setTimeout(r, 20));
  console.log(`READY ${session.lease.lease.name}`);
  setInterval(() => undefined, 1000);
}
