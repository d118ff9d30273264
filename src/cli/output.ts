import Table from 'cli-table3';

/** printTable prints rows as a readable table, or as JSON with --json. */
export function printTable(rows: readonly Record<string, unknown>[], json = false): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const head = Object.keys(rows[0]!);
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(head.map((h) => cell(r[h])));
  console.log(t.toString());
}

/** printObject prints one object as a two-column table, or as JSON with --json. */
export function printObject(obj: Record<string, unknown>, json = false): void {
  if (json) {
    console.log(JSON.stringify(obj, null, 2));
    return;
  }
  const t = new Table({ head: ['Property', 'Value'], style: { head: [], border: [] } });
  for (const [k, v] of Object.entries(obj)) t.push([k, cell(v)]);
  console.log(t.toString());
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v, null, 1);
  return String(v);
}
