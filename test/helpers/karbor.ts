/** karbor runs the real python-karborclient CLI (Debian's `karbor`) against a Hoard endpoint. */
import { execFile } from 'node:child_process';

export interface CliResult { code: number; stdout: string; stderr: string }

export function karbor(endpoint: string, token: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('karbor', ['--os-no-client-auth', '--karbor-url', endpoint, '--os-auth-token', token, ...args],
      { timeout: 60_000, env: { ...process.env, PYTHONWARNINGS: 'ignore' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** tableRows parses the CLI's prettytable output into objects keyed by header. */
export function tableRows(out: string): Record<string, string>[] {
  const lines = out.split('\n').filter((l) => l.startsWith('|'));
  if (lines.length === 0) return [];
  const cells = (l: string) => l.split('|').slice(1, -1).map((c) => c.trim());
  const head = cells(lines[0]!);
  return lines.slice(1).map((l) => Object.fromEntries(cells(l).map((c, i) => [head[i], c])));
}

/** propertyTable parses a `Property | Value` table (show commands), joining wrapped lines. */
export function propertyTable(out: string): Record<string, string> {
  const result: Record<string, string> = {};
  let last = '';
  for (const row of tableRows(out)) {
    const key = row.Property ?? '';
    const value = row.Value ?? '';
    if (key) { last = key; result[key] = value; } else if (last) result[last] += `\n${value}`;
  }
  return result;
}
