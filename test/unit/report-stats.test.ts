/**
 * The daily report's numbers (lambda/report/stats.ts) and its local days (lambda/report/day.ts),
 * from plain values: the bounds of a day in its time zone (23 and 25 hours where the clocks change,
 * a zone that skips midnight), which day a morning's report is about, calls per hour of the local
 * clock, medians and 90th percentiles per zone and per person, the unanswered and escalated lists,
 * and the edges: an empty day, a day with one call, calls around midnight. No emulator, no clock.
 */
import { describe, expect, it } from 'vitest';
import { EVENT_STATUS } from '../../lambda/domain/record';
import {
  addDays,
  dayHours,
  isLocalDate,
  localDay,
  localHourOf,
  previousLocalDate,
  type LocalDay,
} from '../../lambda/report/day';
import { computeDayStats, median, percentile, sourceDayStats, type ReportRecord } from '../../lambda/report/stats';

const MOSCOW = 'Europe/Moscow';
const LONDON = 'Europe/London';
const ZONES = { hall: ['1-12'], terrace: ['20-29'], window: ['5-6', '20'] };
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

let counter = 0;
/** A delivered attendance call of table 6, first seen at `at`; overrides as given. */
function call(at: number, overrides: Partial<ReportRecord> = {}): ReportRecord {
  counter += 1;
  const hash = `0x${counter.toString(16).padStart(8, '0')}`;
  return {
    recordId: hash,
    hash,
    status: EVENT_STATUS.delivered,
    code: 'waiter_call',
    table: '6',
    firstSeenAt: at,
    needsAck: true,
    escalatedAt: [],
    sentAt: { sns: at + 800 },
    ...overrides,
  };
}
const acked = (at: number, afterMs: number, by = 'Иван', id = '1001', overrides: Partial<ReportRecord> = {}) =>
  call(at, { ackAt: at + afterMs, ackBy: by, ackById: id, ...overrides });

function stats(day: LocalDay, records: ReportRecord[], zones = ZONES) {
  return sourceDayStats({ id: 'lenina', name: 'Пиццерия на Ленина', records }, day, zones);
}

/** Local wall-clock time in Moscow (UTC+3 all year) as epoch ms. */
const moscow = (date: string, time: string) => Date.parse(`${date}T${time}+03:00`);

describe('local days', () => {
  it('gives a Moscow day as 24 hours from local midnight', () => {
    const day = localDay('2026-03-12', MOSCOW);
    expect(day.start).toBe(Date.parse('2026-03-11T21:00:00Z'));
    expect(day.end).toBe(Date.parse('2026-03-12T21:00:00Z'));
    expect(dayHours(day)).toBe(24);
    expect(day.hourMinutes).toEqual(new Array(24).fill(60));
  });

  it("gives London's spring-forward day 23 hours, with no 01:00 hour", () => {
    const day = localDay('2026-03-29', LONDON);
    expect(day.start).toBe(Date.parse('2026-03-29T00:00:00Z'));
    expect(day.end).toBe(Date.parse('2026-03-29T23:00:00Z'));
    expect(dayHours(day)).toBe(23);
    expect(day.hourMinutes[1]).toBe(0);
    expect(day.hourMinutes.reduce((a, b) => a + b, 0)).toBe(23 * 60);
  });

  it("gives London's fall-back day 25 hours, the 01:00 hour twice", () => {
    const day = localDay('2026-10-25', LONDON);
    expect(day.start).toBe(Date.parse('2026-10-24T23:00:00Z'));
    expect(day.end).toBe(Date.parse('2026-10-26T00:00:00Z'));
    expect(dayHours(day)).toBe(25);
    expect(day.hourMinutes[1]).toBe(120);
  });

  it('starts a day at 01:00 in a zone whose clocks skip midnight itself (Santiago, September)', () => {
    const day = localDay('2026-09-06', 'America/Santiago');
    expect(day.start).toBe(Date.parse('2026-09-06T04:00:00Z'));
    expect(localHourOf(day.start, 'America/Santiago')).toBe(1);
    expect(day.hourMinutes[0]).toBe(0);
    expect(dayHours(day)).toBe(23);
  });

  it("handles half-hour DST changes (Lord Howe's 24.5-hour day)", () => {
    const day = localDay('2026-04-05', 'Australia/Lord_Howe');
    expect(dayHours(day)).toBe(24.5);
    expect(day.hourMinutes[1]).toBe(90);
  });

  it("reports on the day before the local date of 'now', not the UTC date", () => {
    // 21:30 UTC on the 12th is already 00:30 on the 13th in Moscow: the report is about the 12th.
    expect(previousLocalDate(Date.parse('2026-03-12T21:30:00Z'), MOSCOW)).toBe('2026-03-12');
    expect(previousLocalDate(Date.parse('2026-03-12T20:30:00Z'), MOSCOW)).toBe('2026-03-11');
    // 09:00 in London on the Monday after the clocks went forward: Sunday's 23-hour day.
    expect(previousLocalDate(Date.parse('2026-03-30T08:00:00Z'), LONDON)).toBe('2026-03-29');
    expect(previousLocalDate(Date.parse('2026-01-01T06:00:00Z'), MOSCOW)).toBe('2025-12-31');
  });

  it('accepts only real calendar dates', () => {
    expect(isLocalDate('2026-03-12')).toBe(true);
    expect(isLocalDate('2028-02-29')).toBe(true);
    expect(isLocalDate('2026-02-29')).toBe(false);
    expect(isLocalDate('2026-3-12')).toBe(false);
    expect(isLocalDate('yesterday')).toBe(false);
    expect(() => localDay('2026-13-01', MOSCOW)).toThrow(RangeError);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('median and 90th percentile', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeUndefined();
    expect(median([42])).toBe(42);
    expect(median([1, 2, 9])).toBe(2);
    expect(median([1, 2, 4, 9])).toBe(3);
  });

  it('takes the 90th percentile by nearest rank: 9 in 10 values are at most it', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile([...ten, 11], 90)).toBe(10);
    expect(percentile([5], 90)).toBe(5);
    expect(percentile([], 90)).toBeUndefined();
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(twenty, 90)).toBe(18);
    expect(twenty.filter((v) => v <= percentile(twenty, 90)!).length / twenty.length).toBeGreaterThanOrEqual(0.9);
  });
});

describe("a day's numbers", () => {
  const day = localDay('2026-03-12', MOSCOW);

  it('an empty day: no calls, no times, empty lists', () => {
    const s = stats(day, []);
    expect(s.calls).toBe(0);
    expect(s.perHour).toEqual(new Array(24).fill(0));
    expect(s.overall).toEqual({ name: null, calls: 0, acknowledged: 0 });
    expect(s.byZone).toEqual([]);
    expect(s.byPerson).toEqual([]);
    expect(s.unanswered).toEqual([]);
    expect(s.escalated).toEqual([]);
    const all = computeDayStats({ day, zones: ZONES, sources: [{ id: 'lenina', name: 'L', records: [] }] });
    expect(all.totals).toEqual({ calls: 0, attendance: 0, acknowledged: 0, unanswered: 0, escalated: 0 });
  });

  it('a day with one call answered after 42 s', () => {
    const s = stats(day, [acked(moscow('2026-03-12', '14:05:09'), 42 * SECOND)]);
    expect(s.calls).toBe(1);
    expect(s.perHour[14]).toBe(1);
    expect(s.overall).toEqual({ name: null, calls: 1, acknowledged: 1, medianMs: 42_000, p90Ms: 42_000 });
    expect(s.byZone).toEqual([
      { name: 'hall', calls: 1, acknowledged: 1, medianMs: 42_000, p90Ms: 42_000 },
      { name: 'window', calls: 1, acknowledged: 1, medianMs: 42_000, p90Ms: 42_000 },
    ]);
    expect(s.byPerson).toEqual([{ name: 'Иван', calls: 1, acknowledged: 1, medianMs: 42_000, p90Ms: 42_000 }]);
    expect(s.unanswered).toEqual([]);
  });

  it('counts calls per hour of the local clock', () => {
    const records = [
      call(moscow('2026-03-12', '00:00:00')),
      call(moscow('2026-03-12', '09:59:59')),
      call(moscow('2026-03-12', '10:00:00')),
      call(moscow('2026-03-12', '10:30:00'), { needsAck: false, code: 'new_order' }),
      call(moscow('2026-03-12', '23:59:59.999')),
    ];
    const s = stats(day, records);
    expect(s.calls).toBe(5);
    expect(s.perHour[0]).toBe(1);
    expect(s.perHour[9]).toBe(1);
    expect(s.perHour[10]).toBe(2);
    expect(s.perHour[23]).toBe(1);
    expect(s.unansweredPerHour[10]).toBe(1); // the order needs nobody to come
  });

  it('takes the calls first seen within the day, whenever they were answered', () => {
    const records = [
      // First seen on the 11th, answered on the 12th: the 11th's call.
      acked(moscow('2026-03-11', '23:58:00'), 3 * MINUTE),
      // The first instant of the day is in; the first of the next day is out.
      acked(day.start, 10 * SECOND),
      acked(day.end, 10 * SECOND),
      // First seen at 23:59:30, answered at 00:01 the next day: this day's call, 90 s.
      acked(moscow('2026-03-12', '23:59:30'), 90 * SECOND, 'Мария', '1002'),
    ];
    const s = stats(day, records);
    expect(s.calls).toBe(2);
    expect(s.perHour[0]).toBe(1);
    expect(s.perHour[23]).toBe(1);
    expect(s.byPerson.map((p) => [p.name, p.medianMs])).toEqual([
      ['Иван', 10_000],
      ['Мария', 90_000],
    ]);
  });

  it("on London's 23-hour day, hour 1 stays empty and 02:30 BST is hour 2", () => {
    const spring = localDay('2026-03-29', LONDON);
    const s = stats(spring, [
      call(Date.parse('2026-03-29T00:30:00Z')), // 00:30 GMT
      call(Date.parse('2026-03-29T01:30:00Z')), // 02:30 BST
      call(Date.parse('2026-03-29T22:59:59Z')), // 23:59:59 BST
      call(Date.parse('2026-03-29T23:00:00Z')), // 00:00 on the 30th: not this day
    ]);
    expect(s.calls).toBe(3);
    expect(s.perHour[0]).toBe(1);
    expect(s.perHour[1]).toBe(0);
    expect(s.perHour[2]).toBe(1);
    expect(s.perHour[23]).toBe(1);
  });

  it("on London's 25-hour day, both 01:30s fall in hour 1", () => {
    const autumn = localDay('2026-10-25', LONDON);
    const s = stats(autumn, [
      call(Date.parse('2026-10-24T23:30:00Z')), // 00:30 BST
      call(Date.parse('2026-10-25T00:30:00Z')), // 01:30 BST
      call(Date.parse('2026-10-25T01:30:00Z')), // 01:30 GMT
      call(Date.parse('2026-10-25T23:30:00Z')), // 23:30 GMT
    ]);
    expect(s.calls).toBe(4);
    expect(s.perHour[0]).toBe(1);
    expect(s.perHour[1]).toBe(2);
    expect(s.perHour[23]).toBe(1);
  });

  it('leaves repeats (counted apart) and the first poll’s backlog out of the calls', () => {
    const at = moscow('2026-03-12', '12:00:00');
    const s = stats(day, [
      acked(at, 30 * SECOND),
      call(at + 10 * SECOND, { status: EVENT_STATUS.suppressed, needsAck: false }),
      call(at + 20 * SECOND, { status: EVENT_STATUS.suppressed }),
      call(at - MINUTE, { status: EVENT_STATUS.baseline }),
    ]);
    expect(s.calls).toBe(1);
    expect(s.repeats).toBe(2);
    expect(s.unanswered).toEqual([]);
  });

  it('gives median and p90 per zone in config order, a table in two zones in both, then "no zone"', () => {
    const at = moscow('2026-03-12', '19:00:00');
    const s = stats(day, [
      acked(at, 10 * SECOND, 'Иван', '1', { table: '3' }),
      acked(at, 20 * SECOND, 'Иван', '1', { table: '4' }),
      acked(at, 60 * SECOND, 'Мария', '2', { table: '20' }),
      acked(at, 30 * SECOND, 'Мария', '2', { table: 'VIP' }),
      call(at, { table: 'VIP' }),
    ]);
    expect(s.byZone.map((z) => [z.name, z.calls, z.acknowledged, z.medianMs, z.p90Ms])).toEqual([
      ['hall', 2, 2, 15_000, 20_000],
      ['terrace', 1, 1, 60_000, 60_000],
      ['window', 1, 1, 60_000, 60_000],
      [null, 2, 1, 30_000, 30_000],
    ]);
  });

  it('groups people by their Telegram id (the last name shown wins), else by name', () => {
    const at = moscow('2026-03-12', '13:00:00');
    const s = stats(day, [
      acked(at, 10 * SECOND, 'Ваня', '1001'),
      acked(at + MINUTE, 30 * SECOND, 'Иван', '1001'),
      acked(at + 2 * MINUTE, 50 * SECOND, 'Иван', '1001'),
      acked(at, 40 * SECOND, 'Гость', undefined, { ackById: undefined }),
      acked(at, 20 * SECOND, 'Гость', undefined, { ackById: undefined }),
      acked(at, 5 * SECOND, 'Ольга', '1004'),
    ]);
    expect(s.byPerson.map((p) => [p.name, p.acknowledged, p.medianMs])).toEqual([
      ['Иван', 3, 30_000],
      ['Гость', 2, 30_000],
      ['Ольга', 1, 5_000],
    ]);
  });

  it('lists unanswered and escalated calls in time order, with how long the guest waited', () => {
    const at = moscow('2026-03-12', '20:00:00');
    const s = stats(day, [
      call(at + 5 * MINUTE, { table: '7', code: 'bill_request' }),
      call(at, { table: '22', escalatedAt: [at + 5 * MINUTE, at + 2 * MINUTE] }),
      acked(at + MINUTE, 4 * MINUTE, 'Мария', '2', { table: '9', escalatedAt: [at + 3 * MINUTE] }),
      call(at + 9 * MINUTE, { status: EVENT_STATUS.failed, sentAt: {} }),
    ]);
    expect(s.unanswered.map((c) => [c.table, c.waitedAtLeastMs, c.escalations, c.delivered])).toEqual([
      ['22', 5 * MINUTE, 2, true],
      ['7', undefined, 0, true],
      ['6', undefined, 0, false],
    ]);
    expect(s.escalated.map((c) => [c.table, c.waitedMs, c.ackBy, c.escalations])).toEqual([
      ['22', undefined, undefined, 2],
      ['9', 4 * MINUTE, 'Мария', 1],
    ]);
    expect(s.unansweredPerHour[20]).toBe(3);
  });

  it('ignores an acknowledgement of a call that needed none, and never counts a negative wait', () => {
    const at = moscow('2026-03-12', '15:00:00');
    const s = stats(day, [
      acked(at, 30 * SECOND, 'Иван', '1', { needsAck: false, code: 'new_order' }),
      acked(at, -2 * SECOND, 'Мария', '2'),
    ]);
    expect(s.overall).toEqual({ name: null, calls: 1, acknowledged: 1, medianMs: 0, p90Ms: 0 });
    expect(s.byPerson.map((p) => p.name)).toEqual(['Мария']);
  });

  it('sums every source into the totals, with the median over all their attendance calls', () => {
    const at = moscow('2026-03-12', '18:00:00');
    const all = computeDayStats({
      day,
      zones: ZONES,
      sources: [
        { id: 'a', name: 'A', records: [acked(at, 10 * SECOND), call(at, { escalatedAt: [at + 2 * MINUTE] })] },
        { id: 'b', name: 'B', records: [acked(at, 30 * SECOND), call(at, { needsAck: false })] },
      ],
    });
    expect(all.sources.map((s) => s.calls)).toEqual([2, 2]);
    expect(all.totals).toEqual({
      calls: 4,
      attendance: 3,
      acknowledged: 2,
      unanswered: 1,
      escalated: 1,
      medianMs: 20_000,
      p90Ms: 30_000,
    });
  });
});
