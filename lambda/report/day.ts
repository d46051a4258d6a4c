/**
 * Local days of the daily report, in the deployment's IANA time zone: a date like "2026-03-29"
 * becomes the half-open interval [start, end) of epoch ms that the restaurant calls that day.
 * DST-safe by construction: the start of a day is found by asking Intl for the local date of
 * instants (a binary search), never by adding 24 hours, so a day has 23, 24 or 25 hours where
 * the clocks change (and starts at 01:00 where a zone skips midnight itself).
 * Calls are counted per hour of the local clock: 24 buckets, whose real length is 60 minutes,
 * 0 (the hour the clocks skipped in spring) or 120 (the hour they repeated in autumn).
 * Pure functions; "now" is always passed in.
 */

/** A calendar date, "YYYY-MM-DD". */
export type LocalDate = string;

export interface LocalDay {
  readonly date: LocalDate;
  readonly timeZone: string;
  /** First instant of the day (epoch ms, included). */
  readonly start: number;
  /** First instant of the next day (epoch ms, excluded). */
  readonly end: number;
  /** Real minutes in each hour of the local clock, 0–23 (60 on most days; 0 or 120 where the clocks change). */
  readonly hourMinutes: readonly number[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Every UTC offset in use lies within ±14 h; a local midnight is within this of UTC midnight. */
const SEARCH_MS = 27 * HOUR_MS;
/** Offsets change by whole quarter hours (30 min for Lord Howe's DST): sample the clock this finely. */
const STEP_MS = 15 * 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The local date and hour (0–23) of an instant. Throws a RangeError for an unknown zone. */
export function localDateHour(epochMs: number, timeZone: string): { date: LocalDate; hour: number } {
  const parts = formatter(timeZone).formatToParts(epochMs);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')) % 24 };
}

/** Is the text a real calendar date "YYYY-MM-DD" (no 2026-02-30)? */
export function isLocalDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = new Date(Date.UTC(y, m - 1, d));
  return utc.getUTCFullYear() === y && utc.getUTCMonth() === m - 1 && utc.getUTCDate() === d;
}

/** The date `days` after (or before, when negative) a date: calendar arithmetic, no time zone involved. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const match = DATE.exec(date);
  if (!match) throw new RangeError(`"${date}" is not a date like "2026-03-29"`);
  const utc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + days * DAY_MS;
  return new Date(utc).toISOString().slice(0, 10);
}

/** The first instant whose local date is `date` or later. */
function startOf(date: LocalDate, timeZone: string): number {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  let lo = midnightUtc - SEARCH_MS; // surely the day before
  let hi = midnightUtc + SEARCH_MS; // surely this day or later
  // Second precision is enough (no zone has changed its offset by a fraction of a second since 1972).
  while (hi - lo > 1_000) {
    const mid = lo + Math.floor((hi - lo) / 2_000) * 1_000;
    if (localDateHour(mid, timeZone).date >= date) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local day `date` in `timeZone`: its bounds and the real length of each of its clock hours. */
export function localDay(date: LocalDate, timeZone: string): LocalDay {
  if (!isLocalDate(date)) throw new RangeError(`"${date}" is not a date like "2026-03-29"`);
  const start = startOf(date, timeZone);
  const end = startOf(addDays(date, 1), timeZone);
  const hourMinutes = new Array<number>(24).fill(0);
  for (let t = start; t < end; t += STEP_MS) hourMinutes[localDateHour(t, timeZone).hour]! += STEP_MS / 60_000;
  return { date, timeZone, start, end, hourMinutes };
}

/** The local date of an instant. */
export function localDateOf(epochMs: number, timeZone: string): LocalDate {
  return localDateHour(epochMs, timeZone).date;
}

/** The day before the local date of `now`: what the morning's report is about. */
export function previousLocalDate(now: number, timeZone: string): LocalDate {
  return addDays(localDateOf(now, timeZone), -1);
}

/** The hour of the local clock (0–23) of an instant, for the calls-per-hour chart. */
export function localHourOf(epochMs: number, timeZone: string): number {
  return localDateHour(epochMs, timeZone).hour;
}

/** How many hours the day really had (23, 24 or 25 where the clocks change). */
export function dayHours(day: Pick<LocalDay, 'start' | 'end'>): number {
  return (day.end - day.start) / HOUR_MS;
}
