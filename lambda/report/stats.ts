/**
 * The numbers of the manager's daily report, from the event records of one local day (day.ts):
 * per source, the calls per hour of the local clock; for attendance calls (`needsAck`: someone has
 * to come), how long the guest waited for an "On my way" (`ackAt − firstSeenAt`), as the median and
 * the 90th percentile per zone (`zonesOf` the table; "no zone" otherwise) and per person who
 * pressed it; and the calls nobody acknowledged and those that were escalated, one line each.
 *
 * What counts as a call: every record first seen within the day, except repeats collapsed by the
 * cooldown (`suppressed`, counted apart) and what was already queued when a source was first
 * polled (`baseline`: not that day's calls). Percentiles: the median is the middle value (the mean
 * of the two middle ones for an even count); the 90th percentile is by nearest rank, "9 in 10
 * calls were answered at least this fast". Pure functions: records in, numbers out.
 */
import { zonesOf } from '../core/routing';
import { EVENT_STATUS } from '../domain/record';
import type { Zones } from '../domain/routes';
import { localHourOf, type LocalDay } from './day';

/** What the report reads of one event record (lambda/domain/record.ts names the attributes). */
export interface ReportRecord {
  readonly recordId: string;
  readonly hash: string;
  readonly status: string;
  readonly code: string;
  readonly table: string;
  /** When the call was first seen (epoch ms). */
  readonly firstSeenAt: number;
  /** An attendance call: someone has to come, and presses "On my way". */
  readonly needsAck: boolean;
  readonly ackAt?: number;
  /** Who pressed "On my way", as shown to staff. */
  readonly ackBy?: string;
  /** Their Telegram user id (groups one person across a change of display name). */
  readonly ackById?: string;
  /** When each escalation step was sent (epoch ms), step 1 first. */
  readonly escalatedAt: readonly number[];
  /** First successful send per channel (epoch ms). */
  readonly sentAt: Readonly<Record<string, number>>;
}

/** Response times of a group of attendance calls (a zone, a person, or all of them). */
export interface ResponseSummary {
  /** The zone or person (for a person: the name last seen); `null` = the tables in no zone. */
  readonly name: string | null;
  /** Attendance calls of the group (a person's group only has the calls they acknowledged). */
  readonly calls: number;
  readonly acknowledged: number;
  /** Of the acknowledged calls; absent when none was. */
  readonly medianMs?: number;
  readonly p90Ms?: number;
}

/** One call in the lists of unanswered and escalated calls. */
export interface CallLine {
  readonly recordId: string;
  readonly hash: string;
  readonly table: string;
  readonly code: string;
  readonly firstSeenAt: number;
  /** How long the guest waited for the "On my way": present when someone acknowledged. */
  readonly waitedMs?: number;
  /** Unanswered but escalated: the guest was still waiting at least this long (the last step). */
  readonly waitedAtLeastMs?: number;
  readonly ackBy?: string;
  /** Escalation steps sent. */
  readonly escalations: number;
  /** Did any alert of it go out (a channel's `sentAt`, or the record delivered)? */
  readonly delivered: boolean;
}

export interface SourceDayStats {
  readonly sourceId: string;
  readonly sourceName: string;
  /** Calls of the day (repeats and the first poll's backlog left out). */
  readonly calls: number;
  /** Repeat taps collapsed by the cooldown. */
  readonly repeats: number;
  /** Calls per hour of the local clock, 0–23. */
  readonly perHour: readonly number[];
  /** Of those, the attendance calls nobody acknowledged. */
  readonly unansweredPerHour: readonly number[];
  readonly overall: ResponseSummary;
  /** Config order of the zones, then "no zone"; only groups with calls. */
  readonly byZone: readonly ResponseSummary[];
  /** Most acknowledgements first. */
  readonly byPerson: readonly ResponseSummary[];
  /** Attendance calls nobody acknowledged, in time order. */
  readonly unanswered: readonly CallLine[];
  /** Attendance calls with at least one escalation step, in time order (acknowledged later or not). */
  readonly escalated: readonly CallLine[];
}

export interface DayStats {
  readonly day: LocalDay;
  readonly sources: readonly SourceDayStats[];
  readonly totals: {
    readonly calls: number;
    readonly attendance: number;
    readonly acknowledged: number;
    readonly unanswered: number;
    readonly escalated: number;
    readonly medianMs?: number;
    readonly p90Ms?: number;
  };
}

export interface SourceRecords {
  readonly id: string;
  readonly name: string;
  readonly records: readonly ReportRecord[];
}

/** Median of sorted numbers (mean of the two middle ones); undefined for none. */
export function median(sorted: readonly number[]): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0 < p ≤ 100) of sorted numbers by nearest rank; undefined for none. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Does the record count as a call of the day? */
export function isCall(record: Pick<ReportRecord, 'status'>): boolean {
  return record.status !== EVENT_STATUS.suppressed && record.status !== EVENT_STATUS.baseline;
}

/** Time to acknowledgement, never negative (a clock a little off must not make a record of speed). */
function responseMs(record: ReportRecord): number | undefined {
  return record.ackAt === undefined ? undefined : Math.max(0, record.ackAt - record.firstSeenAt);
}

function summary(name: string | null, records: readonly ReportRecord[]): ResponseSummary {
  const times = records.map(responseMs).filter((ms): ms is number => ms !== undefined);
  times.sort((a, b) => a - b);
  const medianMs = median(times);
  const p90Ms = percentile(times, 90);
  return {
    name,
    calls: records.length,
    acknowledged: times.length,
    ...(medianMs !== undefined && { medianMs }),
    ...(p90Ms !== undefined && { p90Ms }),
  };
}

function callLine(record: ReportRecord): CallLine {
  const waitedMs = responseMs(record);
  const lastStep = record.escalatedAt.length > 0 ? Math.max(...record.escalatedAt) : undefined;
  return {
    recordId: record.recordId,
    hash: record.hash,
    table: record.table,
    code: record.code,
    firstSeenAt: record.firstSeenAt,
    ...(waitedMs !== undefined && { waitedMs }),
    ...(waitedMs === undefined &&
      lastStep !== undefined && { waitedAtLeastMs: Math.max(0, lastStep - record.firstSeenAt) }),
    ...(record.ackAt !== undefined && record.ackBy !== undefined && { ackBy: record.ackBy }),
    escalations: record.escalatedAt.length,
    delivered: Object.keys(record.sentAt).length > 0 || record.status === EVENT_STATUS.delivered,
  };
}

/** The numbers of one source's day. Records outside the day are ignored. */
export function sourceDayStats(source: SourceRecords, day: LocalDay, zones: Zones): SourceDayStats {
  const inDay = source.records.filter((r) => r.firstSeenAt >= day.start && r.firstSeenAt < day.end);
  const calls = inDay.filter(isCall).sort((a, b) => a.firstSeenAt - b.firstSeenAt || a.hash.localeCompare(b.hash));
  const perHour = new Array<number>(24).fill(0);
  const unansweredPerHour = new Array<number>(24).fill(0);
  for (const call of calls) {
    const hour = localHourOf(call.firstSeenAt, day.timeZone);
    perHour[hour]! += 1;
    if (call.needsAck && call.ackAt === undefined) unansweredPerHour[hour]! += 1;
  }

  const attendance = calls.filter((c) => c.needsAck);
  const byZoneName = new Map<string | null, ReportRecord[]>([...Object.keys(zones), null].map((z) => [z, []]));
  for (const call of attendance) {
    const names = zonesOf(call.table, zones);
    for (const zone of names.length > 0 ? names : [null]) byZoneName.get(zone)!.push(call);
  }
  const byPersonKey = new Map<string, { name: string; records: ReportRecord[] }>();
  for (const call of attendance) {
    if (call.ackAt === undefined) continue;
    const key = call.ackById !== undefined ? `id:${call.ackById}` : `name:${call.ackBy ?? ''}`;
    const person = byPersonKey.get(key) ?? { name: call.ackBy ?? '?', records: [] };
    // The name last seen wins (calls are in time order).
    if (call.ackBy !== undefined) person.name = call.ackBy;
    person.records.push(call);
    byPersonKey.set(key, person);
  }
  const byPerson = [...byPersonKey.values()]
    .map((p) => summary(p.name, p.records))
    .sort((a, b) => b.acknowledged - a.acknowledged || (a.name ?? '').localeCompare(b.name ?? ''));

  return {
    sourceId: source.id,
    sourceName: source.name,
    calls: calls.length,
    repeats: inDay.filter((r) => r.status === EVENT_STATUS.suppressed).length,
    perHour,
    unansweredPerHour,
    overall: summary(null, attendance),
    byZone: [...byZoneName]
      .filter(([, records]) => records.length > 0)
      .map(([name, records]) => summary(name, records)),
    byPerson,
    unanswered: attendance.filter((c) => c.ackAt === undefined).map(callLine),
    escalated: attendance.filter((c) => c.escalatedAt.length > 0).map(callLine),
  };
}

/** The report's numbers for one local day and every source. */
export function computeDayStats(input: {
  readonly day: LocalDay;
  readonly zones: Zones;
  readonly sources: readonly SourceRecords[];
}): DayStats {
  const sources = input.sources.map((source) => sourceDayStats(source, input.day, input.zones));
  const all = input.sources.flatMap((source) =>
    source.records.filter(
      (r) => r.firstSeenAt >= input.day.start && r.firstSeenAt < input.day.end && isCall(r) && r.needsAck,
    ),
  );
  const overall = summary(null, all);
  return {
    day: input.day,
    sources,
    totals: {
      calls: sources.reduce((n, s) => n + s.calls, 0),
      attendance: overall.calls,
      acknowledged: overall.acknowledged,
      unanswered: sources.reduce((n, s) => n + s.unanswered.length, 0),
      escalated: sources.reduce((n, s) => n + s.escalated.length, 0),
      ...(overall.medianMs !== undefined && { medianMs: overall.medianMs }),
      ...(overall.p90Ms !== undefined && { p90Ms: overall.p90Ms }),
    },
  };
}
