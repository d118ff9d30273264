/**
 * Secret references and redaction. A hook resolves each secret once, right before it runs, and registers
 * the value with its Redactor; everything the hook hands back (messages, stdout, stderr) goes through
 * that redactor, so a password echoed by a script or quoted by a driver's error never leaves the hook.
 */
import { readFile } from 'node:fs/promises';
import { HookError } from './errors.js';

/** Redactor replaces every registered secret value with `***` (longest first, so no part survives). */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string | undefined): void {
    if (!value) return;
    this.secrets.add(value);
    // A private key or multi-line secret may be printed line by line.
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) this.secrets.add(line.trim());
  }

  redact(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
    return out;
  }
}

/**
 * resolveSecret turns `env:NAME`, `file:/path`, `inline:literal` or a plain literal into its value and
 * registers it with `redactor`. It throws hook_secret_unavailable naming the reference, never the value.
 */
export async function resolveSecret(ref: string | undefined, what: string, redactor: Redactor): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  const value = await lookup(ref, what);
  redactor.add(value);
  return value;
}

async function lookup(ref: string, what: string): Promise<string> {
  if (ref.startsWith('inline:')) return ref.slice('inline:'.length);
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const v = process.env[name];
    if (v === undefined || v === '') throw new HookError('hook_secret_unavailable', `The ${what} refers to environment variable ${name}, which is not set in Hoard's environment.`);
    return v;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new HookError('hook_secret_unavailable', `The ${what} refers to file ${path}, which Hoard cannot read (${code}); check the path and that the Hoard user may read it.`);
    }
  }
  return ref;
}

/**
 * resolveEnv resolves an env map. Values given as references are secrets and get redacted; plain literal
 * values (`MODE: fast`) are configuration, and redacting them would garble every output they appear in.
 */
export async function resolveEnv(env: Readonly<Record<string, string>> | undefined, redactor: Redactor): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    const value = await lookup(v, `environment variable ${k}`);
    if (v !== value) redactor.add(value);
    out[k] = value;
  }
  return out;
}
