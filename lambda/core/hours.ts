/**
 * Opening hours of a restaurant, in the deployment's time zone: parsed once from the config
 * (`{ "mon-fri": "10:00-23:00", sat: ["12:00-15:00", "18:00-02:00"], sun: "closed" }`) and asked
 * `isOpen(hours, instant)`. A span that ends at or before it starts runs past midnight into the
 * next day ("18:00-02:00" is open at 01:30 on the following day). Days not named are closed.
 * Pure functions; the clock is the caller's.
 */

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

/** Minutes since midnight, [from, to) — `to` may exceed 1440 for a span past midnight. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

export type OpeningHours = Readonly<Record<Day, readonly Span[]>>;

export type OpeningHoursSpec = Readonly<Record<string, string | readonly string[]>>;

export class OpeningHoursError extends Error {
  override readonly name = 'OpeningHoursError';
}

const SPAN = /^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)$/;

/** Throws {@link OpeningHoursError} with a message that says what to write instead. */
export function parseOpeningHours(spec: OpeningHoursSpec): OpeningHours {
  const hours: Record<Day, Span[]> = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  const named = new Set<Day>();
  for (const [key, value] of Object.entries(spec)) {
    const days = dayRange(key);
    const texts = typeof value === 'string' ? [value] : value;
    const spans = texts.flatMap((text) => (text.trim().toLowerCase() === 'closed' ? [] : [span(text, key)]));
    for (const day of days) {
      if (named.has(day)) throw new OpeningHoursError(`"${key}": ${day} is already given by another key`);
      named.add(day);
      hours[day].push(...spans);
    }
  }
  return hours;
}

function dayRange(key: string): Day[] {
  const [first, last, ...rest] = key.trim().toLowerCase().split('-');
  const from = DAYS.indexOf(first as Day);
  const to = last === undefined ? from : DAYS.indexOf(last as Day);
  if (rest.length > 0 || from < 0 || to < 0) {
    throw new OpeningHoursError(`"${key}" is not a day or a range of days (write "mon", "sat-sun" or "mon-fri")`);
  }
  const days: Day[] = [];
  for (let i = from; ; i = (i + 1) % 7) {
    days.push(DAYS[i]!);
    if (i === to) break;
  }
  return days;
}

function span(text: string, key: string): Span {
  const match = SPAN.exec(text.trim());
  if (!match)
    throw new OpeningHoursError(`"${key}": "${text}" is not a span of hours (write "10:00-23:00", or "closed")`);
  const from = Number(match[1]) * 60 + Number(match[2]);
  let to = Number(match[3]) * 60 + Number(match[4]);
  if (to > 24 * 60) throw new OpeningHoursError(`"${key}": "${text}" ends after 24:00`);
  if (to <= from) to += 24 * 60; // past midnight
  return { from, to };
}

/** The weekday and minute of the day of an instant in a time zone. */
export function localTime(epochMs: number, timeZone: string): { day: Day; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(epochMs);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as Day;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Open at this instant? A span past midnight counts on the day after too. */
export function isOpen(hours: OpeningHours, epochMs: number, timeZone: string): boolean {
  const { day, minute } = localTime(epochMs, timeZone);
  const today = DAYS.indexOf(day);
  const yesterday = DAYS[(today + 6) % 7]!;
  return (
    hours[day].some((s) => minute >= s.from && minute < s.to) ||
    hours[yesterday].some((s) => s.to > 24 * 60 && minute < s.to - 24 * 60)
  );
}
