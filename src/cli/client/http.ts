/**
 * The HTTP side of the `hoard` client verbs: connection options shared by every verb, and a small
 * client that speaks the Karbor v1 API and turns a Karbor fault into `<message> (HTTP <status>)`.
 */
import { Option, type Command } from 'commander';

export interface ConnectionOptions {
  readonly url: string;
  readonly token?: string;
  readonly project?: string;
  readonly json?: boolean;
}

/** withConnection adds --url, --token, --project and --json (with their HOARD_* variables) to a verb. */
export function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'Hoard API base URL').env('HOARD_URL').default('http://127.0.0.1:8799'))
    .addOption(new Option('--token <token>', 'API token').env('HOARD_TOKEN'))
    .addOption(new Option('--project <id>', 'project to act in').env('HOARD_PROJECT'))
    .option('--json', 'print the raw API JSON');
}

/** ApiClient calls `<url>/v1/<project><path>` with the caller's token. */
export class ApiClient {
  private readonly base: string;

  constructor(private readonly opts: ConnectionOptions) {
    if (!opts.project) throw new Error('no project: pass --project or set HOARD_PROJECT');
    this.base = `${opts.url.replace(/\/+$/, '')}/v1/${encodeURIComponent(opts.project)}`;
  }

  get(path: string, query: Record<string, string | undefined> = {}): Promise<any> {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return this.request('GET', q.size > 0 ? `${path}?${q}` : path);
  }

  post(path: string, body: unknown): Promise<any> {
    return this.request('POST', path, body);
  }

  delete(path: string): Promise<any> {
    return this.request('DELETE', path);
  }

  private async request(method: string, path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.opts.token) headers['X-Auth-Token'] = this.opts.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      throw new Error(`cannot reach Hoard at ${this.opts.url}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    const parsed = parseJson(text);
    if (!res.ok) throw new Error(`${faultMessage(parsed, text)} (HTTP ${res.status})`);
    return parsed;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** faultMessage reads Karbor's fault body the way its client does: the first top-level value's message. */
function faultMessage(body: unknown, text: string): string {
  const first = body && typeof body === 'object' ? Object.values(body)[0] : undefined;
  const msg = first && typeof first === 'object' ? (first as { message?: unknown }).message : undefined;
  return typeof msg === 'string' ? msg : text.slice(0, 200) || 'request failed';
}

/** parseJsonOption parses an option holding a JSON object, naming the option when it is not one. */
export function parseJsonOption(name: string, value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (err) {
    throw new Error(`${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${name} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** collect accumulates a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
