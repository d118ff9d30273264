import { randomUUID } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Project ids are Keystone ids (32 hex) or local slugs; nothing that could escape a path or a query. */
const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function newId(): string {
  return randomUUID();
}

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export function isProjectId(value: string): boolean {
  return PROJECT_RE.test(value);
}
