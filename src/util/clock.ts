/** Clock is injected wherever time decides behaviour, so tests can move it without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** isoSeconds formats a time as Karbor's `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no zone suffix). */
export function karborTimestamp(d: Date): string {
  return d.toISOString().replace('Z', '000').replace(/(\.\d{6})\d*$/, '$1');
}

/** storedTime is the sortable text form every timestamp column holds, in both SQLite and PostgreSQL. */
export function storedTime(d: Date): string {
  return d.toISOString();
}
