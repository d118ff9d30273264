/**
 * Calendar buckets for GFS retention: the local hour, day, ISO week, month and year a moment falls in,
 * in one IANA time zone. The zone arithmetic is Intl's (ICU's tz database); only the ISO week number is
 * computed here, and that is arithmetic on a civil date, with no zone involved.
 */

/** CalendarBuckets names the buckets one moment falls in; equal names mean the same bucket. */
export interface CalendarBuckets {
  /** hourly carries the UTC offset, so the hour repeated when clocks go back is two buckets, not one. */
  readonly hourly: string;
  readonly daily: string;
  readonly weekly: string;
  readonly monthly: string;
  readonly yearly: string;
}

export type BucketKind = keyof CalendarBuckets;

/** BUCKET_KINDS lists the GFS periods from the shortest to the longest. */
export const BUCKET_KINDS: readonly BucketKind[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/**
 * bucketer returns a function naming the buckets of a moment (milliseconds since the epoch) in
 * `timeZone`. It throws a RangeError for a zone Intl does not know; build it once per decision, since
 * creating the formatter is the expensive part.
 */
export function bucketer(timeZone: string): (ms: number) => CalendarBuckets {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
  });
  return (ms) => {
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(ms)) parts[p.type] = p.value;
    const year = Number(parts.year);
    const month = Number(parts.month);
    const day = Number(parts.day);
    const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
    const week = isoWeek(year, month, day);
    return {
      hourly: `${date}T${parts.hour}:00${offsetOf(parts.timeZoneName ?? 'GMT')}`,
      daily: date,
      weekly: `${pad(week.year, 4)}-W${pad(week.week, 2)}`,
      monthly: date.slice(0, 7),
      yearly: date.slice(0, 4),
    };
  };
}

/** isTimeZone tells whether Intl knows the IANA zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * isoWeek is ISO 8601's week-numbering year and week of a civil date: weeks start on Monday and week 1
 * holds the year's first Thursday, so 31 December may be in week 1 of the next year and 1 January in
 * week 52 or 53 of the previous one.
 */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7;
  // The Thursday of the same ISO week decides which year the week belongs to.
  const thursday = new Date(date + (3 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS));
  return { year: weekYear, week };
}

const DAY_MS = 86_400_000;

/** offsetOf turns Intl's `GMT+05:30` (or plain `GMT` for zero) into `+05:30`. */
function offsetOf(gmt: string): string {
  return gmt === 'GMT' ? '+00:00' : gmt.slice(3);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
