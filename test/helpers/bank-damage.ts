/** damagePacks flips one byte in the middle of every pack of a file-system bank; the result undoes it. */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function damagePacks(bank: string): Promise<{ packs: number; undo(): Promise<void> }> {
  const packs: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else packs.push(join(d, e.name));
    }
  };
  await walk(join(bank, 'data'));
  const saved = new Map<string, Buffer>();
  for (const p of packs) {
    const bytes = await readFile(p);
    saved.set(p, Buffer.from(bytes));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(p, bytes);
  }
  return { packs: packs.length, undo: async () => { for (const [p, bytes] of saved) await writeFile(p, bytes); } };
}
