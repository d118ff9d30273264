/**
 * Time trigger schedules: checking a trigger's properties and computing its occurrences. Crontab patterns
 * go through croner, iCalendar patterns (a VEVENT holding an RRULE) through rrule. Both honour an IANA
 * time zone: a pattern means wall-clock times there, while start_time and end_time stay UTC as in Karbor.
 */
import { Cron } from 'croner';
import rrulePkg from 'rrule';
import type { Options as RRuleOptions } from 'rrule';
import { HoardError } from '../../model/errors.js';
import type { TriggerPropertiesRecord } from '../../store/index.js';

// rrule ships CommonJS as its Node entry point, so named ESM imports are not available.
const { RRule } = rrulePkg;

export type TriggerFormat = TriggerPropertiesRecord['format'];

/** TriggerLimits are the configured bounds every trigger must respect (config.triggers). */
export interface TriggerLimits {
  readonly minWindow: number;
  readonly maxWindow: number;
  readonly minInterval: number;
  readonly defaultFormat: TriggerFormat;
}

/** Schedule answers when a trigger fires: occurrences strictly after a time, within start and end. */
export interface Schedule {
  next(after: Date): Date | null;
  upcoming(after: Date, count: number): Date[];
}

const PROPERTY_KEYS = ['format', 'pattern', 'start_time', 'end_time', 'window', 'timezone'] as const;
/** How many consecutive occurrences are compared against minInterval: enough to catch a tight pair that
 * only appears at a day, week or month boundary, cheap enough to compute on every create. */
const INTERVAL_SAMPLE = 100;
/** Iteration budget for one rrule query; an RRULE whose BY-parts never match would otherwise make rrule
 * walk period by period up to the year 9999 while holding the event loop. */
const RRULE_BUDGET = 40_000;
const CRON_NICKNAMES = /^@(yearly|annually|monthly|weekly|daily|hourly)$/i;
const RRULE_KEYS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'WKST', 'BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYDAY', 'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYMONTH', 'BYSETPOS']);
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(Z?)$/;

const invalid = (message: string) => new HoardError('invalid_trigger', message);

/**
 * checkTriggerProperties validates a request's properties against the limits and returns the effective
 * ones: format and window defaulted, start_time defaulted to `now`, times normalised to Karbor's form.
 */
export function checkTriggerProperties(input: Readonly<Record<string, unknown>>, limits: TriggerLimits, now: Date): TriggerPropertiesRecord {
  for (const key of Object.keys(input)) {
    if (!(PROPERTY_KEYS as readonly string[]).includes(key)) throw invalid(`Unknown trigger property '${key}'; a time trigger takes ${PROPERTY_KEYS.join(', ')}.`);
  }
  const format = checkFormat(input.format, limits.defaultFormat);
  const pattern = checkPattern(input.pattern);
  const timezone = checkTimezone(input.timezone);
  const start = input.start_time === undefined || input.start_time === null ? wholeSeconds(now) : parseTriggerTime(input.start_time, 'start_time');
  const end = input.end_time === undefined || input.end_time === null ? undefined : parseTriggerTime(input.end_time, 'end_time');
  if (end && end.getTime() <= start.getTime()) {
    throw invalid(`end_time ${formatTriggerTime(end)} must be after start_time ${formatTriggerTime(start)}.`);
  }
  const window = checkWindow(input.window, limits);
  const props: TriggerPropertiesRecord = {
    format, pattern, start_time: formatTriggerTime(start), ...(end ? { end_time: formatTriggerTime(end) } : {}), window, timezone,
  };
  checkOccurrences(props, scheduleOf(props), limits.minInterval);
  return props;
}

/** scheduleOf builds the occurrence calculator for already validated properties. */
export function scheduleOf(props: TriggerPropertiesRecord): Schedule {
  const start = parseTriggerTime(props.start_time, 'start_time');
  const end = props.end_time ? parseTriggerTime(props.end_time, 'end_time') : undefined;
  const upcoming = props.format === 'crontab'
    ? cronOccurrences(props.pattern, props.timezone, start)
    : calendarOccurrences(props.pattern, props.timezone, start);
  const bounded = (after: Date, count: number) => upcoming(after, count).filter((d) => !end || d.getTime() <= end.getTime());
  return { upcoming: bounded, next: (after) => bounded(after, 1)[0] ?? null };
}

/** parseTriggerTime reads Karbor's `YYYY-MM-DD HH:MM:SS` (UTC) and the ISO `T` form, with or without `Z`. */
export function parseTriggerTime(value: unknown, key: string): Date {
  const m = typeof value === 'string' ? TIME_RE.exec(value.trim()) : null;
  const hint = `use "YYYY-MM-DD HH:MM:SS" in UTC, e.g. "2026-05-01 02:00:00"`;
  if (!m) throw invalid(`${key} ${JSON.stringify(value)} is not a time; ${hint}.`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches impossible dates.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw invalid(`${key} ${JSON.stringify(value)} is not a valid date and time; ${hint}.`);
  }
  return date;
}

/** formatTriggerTime writes Karbor's `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatTriggerTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function checkFormat(v: unknown, fallback: TriggerFormat): TriggerFormat {
  if (v === undefined || v === null) return fallback;
  if (v === 'crontab' || v === 'calendar') return v;
  throw invalid(`Trigger format ${JSON.stringify(v)} is not supported; use "crontab" or "calendar".`);
}

function checkPattern(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw invalid('The trigger property pattern is required: a crontab line such as "0 2 * * *" or an iCalendar VEVENT with an RRULE.');
  }
  if (v.length > 4096) throw invalid('The trigger pattern is longer than 4096 characters.');
  return v;
}

function checkTimezone(v: unknown): string {
  if (v === undefined || v === null || v === '') return 'UTC';
  try {
    if (typeof v !== 'string') throw new RangeError('not a string');
    return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    throw invalid(`Unknown time zone ${JSON.stringify(v)}; use an IANA name such as "UTC" or "Europe/Berlin".`);
  }
}

function checkWindow(v: unknown, limits: TriggerLimits): number {
  if (v === undefined || v === null) return limits.minWindow;
  // Karbor's CLI converts window to an integer, other clients may send its decimal text.
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`The trigger window ${JSON.stringify(v)} is not a whole number of seconds.`);
  if (n < limits.minWindow || n > limits.maxWindow) {
    throw invalid(`The trigger window ${n} must be between ${limits.minWindow} and ${limits.maxWindow} seconds.`);
  }
  return n;
}

function checkOccurrences(props: TriggerPropertiesRecord, schedule: Schedule, minInterval: number): void {
  const start = parseTriggerTime(props.start_time, 'start_time');
  // One second before start so that an occurrence exactly at start_time counts.
  const times = schedule.upcoming(new Date(start.getTime() - 1000), INTERVAL_SAMPLE);
  if (times.length === 0) {
    throw invalid(`The pattern ${JSON.stringify(props.pattern)} has no occurrence after start_time ${props.start_time}${props.end_time ? ` and before end_time ${props.end_time}` : ''}, so the trigger would never fire.`);
  }
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i]!.getTime() - times[i - 1]!.getTime()) / 1000;
    if (gap < minInterval) {
      throw invalid(`The pattern ${JSON.stringify(props.pattern)} fires at ${formatTriggerTime(times[i - 1]!)} and again ${gap} s later at ${formatTriggerTime(times[i]!)} (UTC); occurrences must be at least ${minInterval} s apart.`);
    }
  }
}

// ---- crontab

function cronOccurrences(pattern: string, timezone: string, start: Date): (after: Date, count: number) => Date[] {
  const text = pattern.trim();
  // croner would also take a date or a six-field line with seconds first, which croniter reads differently.
  if (!CRON_NICKNAMES.test(text) && text.split(/\s+/).length !== 5) {
    throw invalid(`The crontab pattern ${JSON.stringify(pattern)} must have five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *".`);
  }
  let cron: Cron;
  try {
    // Like the calendar, croner works on wall-clock times in UTC fields: its own time zone support
    // costs milliseconds per occurrence, too slow to sample a hundred on every request.
    cron = new Cron(text, { utcOffset: 0, paused: true });
  } catch (err) {
    throw invalid(`The crontab pattern ${JSON.stringify(pattern)} is invalid: ${(err as Error).message}.`);
  }
  return (after, count) => {
    const from = new Date(Math.max(after.getTime(), start.getTime() - 1000));
    return cron.nextRuns(count, wallClock(from, timezone)).map((wall) => fromWallClock(wall, timezone)).filter((d) => d.getTime() > from.getTime());
  };
}

// ---- iCalendar

interface CalendarRule {
  readonly options: Partial<RRuleOptions>;
  /** UNTIL written in UTC (with `Z`) is an instant; without it, a wall-clock time in the trigger's zone. */
  readonly untilIsUtc: boolean;
}

function calendarOccurrences(pattern: string, timezone: string, start: Date): (after: Date, count: number) => Date[] {
  const rule = parseCalendar(pattern);
  // rrule works on "floating" wall-clock times held in Date's UTC fields; zones are applied around it.
  const dtstart = wallClock(start, timezone);
  checkReachable(rule.options, dtstart, pattern);
  const until = rule.options.until && rule.untilIsUtc ? wallClock(rule.options.until, timezone) : rule.options.until;
  return (after, count) => {
    const out: Date[] = [];
    let exhausted = false;
    const r = new RRule({ ...rule.options, dtstart, until: until ?? null }, true);
    limitIterations(r, () => { exhausted = true; });
    r.all((wall) => {
      const instant = fromWallClock(wall, timezone);
      if (instant.getTime() > after.getTime() && instant.getTime() >= start.getTime()) out.push(instant);
      return out.length < count;
    });
    if (exhausted && out.length === 0) {
      throw invalid(`The calendar pattern ${JSON.stringify(pattern)} matches too rarely (or never) to be computed; check its BY… parts.`);
    }
    return out;
  };
}

/** parseCalendar finds the RRULE of the first VEVENT, accepting literal `\n` escapes as Karbor did. */
export function parseCalendar(pattern: string): CalendarRule {
  const text = pattern.replace(/\\r\\n|\\n|\\r/g, '\n').replace(/\r?\n[ \t]/g, '');
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const begin = lines.findIndex((l) => l.toUpperCase() === 'BEGIN:VEVENT');
  const end = lines.findIndex((l, i) => i > begin && l.toUpperCase() === 'END:VEVENT');
  const example = '"BEGIN:VEVENT\\nRRULE:FREQ=WEEKLY;INTERVAL=1;\\nEND:VEVENT"';
  if (begin < 0 || end < 0) throw invalid(`The calendar pattern must contain a VEVENT (BEGIN:VEVENT … END:VEVENT) with an RRULE, e.g. ${example}.`);
  const rrules = lines.slice(begin + 1, end).filter((l) => /^RRULE[;:]/i.test(l));
  if (rrules.length !== 1) throw invalid(`The VEVENT of a calendar pattern must hold exactly one RRULE line (it has ${rrules.length}), e.g. ${example}.`);
  const value = rrules[0]!.slice(rrules[0]!.indexOf(':') + 1);
  return parseRRule(value);
}

function parseRRule(value: string): CalendarRule {
  const parts = value.split(';').map((p) => p.trim()).filter(Boolean);
  for (const p of parts) {
    const key = p.split('=')[0]!.toUpperCase();
    if (!RRULE_KEYS.has(key) || !p.includes('=')) throw invalid(`RRULE part ${JSON.stringify(p)} is not supported; use ${[...RRULE_KEYS].join(', ')}.`);
  }
  let options: Partial<RRuleOptions>;
  try {
    options = RRule.parseString(parts.join(';'));
  } catch (err) {
    throw invalid(`The RRULE ${JSON.stringify(value)} is invalid: ${(err as Error).message}.`);
  }
  checkRuleOptions(options, value);
  return { options, untilIsUtc: /UNTIL=[0-9T]+Z/i.test(value) };
}

function checkRuleOptions(o: Partial<RRuleOptions>, value: string): void {
  const bad = (why: string) => invalid(`The RRULE ${JSON.stringify(value)} ${why}.`);
  if (o.freq === undefined || o.freq === null || Number.isNaN(o.freq)) throw bad('needs a valid FREQ (YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY)');
  if (o.freq === RRule.SECONDLY) throw bad('uses FREQ=SECONDLY; the finest frequency is MINUTELY');
  if (o.interval !== undefined && !(Number.isInteger(o.interval) && o.interval >= 1)) throw bad('needs INTERVAL to be a positive integer');
  if (o.count !== undefined && o.count !== null && !(Number.isInteger(o.count) && o.count >= 1)) throw bad('needs COUNT to be a positive integer');
  if (o.until !== undefined && o.until !== null && Number.isNaN(o.until.getTime())) throw bad('has an UNTIL that is not a date');
  const ranges: [keyof RRuleOptions, string, number, number, boolean][] = [
    ['bysecond', 'BYSECOND', 0, 59, false], ['byminute', 'BYMINUTE', 0, 59, false], ['byhour', 'BYHOUR', 0, 23, false],
    ['bymonth', 'BYMONTH', 1, 12, false], ['bymonthday', 'BYMONTHDAY', 1, 31, true], ['byyearday', 'BYYEARDAY', 1, 366, true],
    ['byweekno', 'BYWEEKNO', 1, 53, true], ['bysetpos', 'BYSETPOS', 1, 366, true],
  ];
  for (const [key, name, min, max, signed] of ranges) {
    const raw = o[key];
    if (raw === undefined || raw === null) continue;
    const values = (Array.isArray(raw) ? raw : [raw]) as number[];
    for (const v of values) {
      const abs = signed ? Math.abs(v) : v;
      if (!Number.isInteger(v) || abs < min || abs > max) throw bad(`has ${name}=${v}, outside ${signed ? `±${min}..${max}` : `${min}..${max}`}`);
    }
  }
}

/**
 * checkReachable refuses HOURLY/MINUTELY rules whose INTERVAL can never land on the BYHOUR/BYMINUTE
 * values from the start time (e.g. every 2 hours, only at odd hours, from an even one): rrule would
 * search for the next step forever.
 */
function checkReachable(o: Partial<RRuleOptions>, dtstart: Date, pattern: string): void {
  const interval = o.interval ?? 1;
  const list = (v: unknown): number[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v as number[] : [v as number]);
  const hours = list(o.byhour);
  const minutes = list(o.byminute);
  let ok = true;
  if (o.freq === RRule.HOURLY && hours.length > 0) {
    const g = gcd(interval, 24);
    ok = hours.some((h) => mod(h - dtstart.getUTCHours(), g) === 0);
  } else if (o.freq === RRule.MINUTELY && (hours.length > 0 || minutes.length > 0)) {
    const g = gcd(interval, 1440);
    const from = dtstart.getUTCHours() * 60 + dtstart.getUTCMinutes();
    const hs = hours.length > 0 ? hours : range(24);
    const ms = minutes.length > 0 ? minutes : range(60);
    ok = hs.some((h) => ms.some((m) => mod(h * 60 + m - from, g) === 0));
  }
  if (!ok) throw invalid(`The calendar pattern ${JSON.stringify(pattern)} can never fire: its INTERVAL never reaches the BYHOUR/BYMINUTE values from the start time.`);
}

/**
 * limitIterations stops rrule's generator after RRULE_BUDGET steps. rrule reads `options.interval` once
 * per step and ends cleanly when it reads 0, which is the only hook it offers to bound a search.
 */
function limitIterations(rule: InstanceType<typeof RRule>, onExhausted: () => void): void {
  const options = rule.options as unknown as Record<string, unknown>;
  const interval = options.interval;
  let reads = 0;
  Object.defineProperty(options, 'interval', {
    configurable: true,
    get() {
      if (++reads > RRULE_BUDGET) { onExhausted(); return 0; }
      return interval;
    },
  });
}

// ---- time zones

/** wallClock is the local date and time of `instant` in `zone`, held in a Date's UTC fields. */
function wallClock(instant: Date, zone: string): Date {
  return new Date(instant.getTime() + offsetMs(instant, zone));
}

/** fromWallClock is the instant when `zone`'s clocks show `wall`; in a DST gap, the time an hour on. */
function fromWallClock(wall: Date, zone: string): Date {
  const guess = new Date(wall.getTime() - offsetMs(wall, zone));
  return new Date(wall.getTime() - offsetMs(guess, zone));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function offsetMs(instant: Date, zone: string): number {
  if (zone === 'UTC') return 0;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, Number(x.value)]));
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return local - Math.floor(instant.getTime() / 1000) * 1000;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
