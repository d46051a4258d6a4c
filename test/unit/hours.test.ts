/**
 * Opening hours (lambda/core/hours.ts): day ranges, spans past midnight, closed days, and the
 * deployment's time zone — Moscow is UTC+3, so 07:00 UTC is 10:00 there.
 */
import { describe, expect, it } from 'vitest';
import { isOpen, OpeningHoursError, parseOpeningHours } from '../../lambda/core/hours';

const MSK = 'Europe/Moscow';
/** 2026-12-07 is a Monday. */
const at = (day: number, hh: number, mm = 0) => Date.UTC(2026, 11, 7 + day, hh - 3, mm);

describe('opening hours', () => {
  const hours = parseOpeningHours({ 'mon-fri': '10:00-23:00', sat: ['12:00-15:00', '18:00-02:00'], sun: 'closed' });

  it('open inside a span, in the deployment time zone', () => {
    expect(isOpen(hours, at(0, 10, 0), MSK)).toBe(true);
    expect(isOpen(hours, at(0, 9, 59), MSK)).toBe(false);
    expect(isOpen(hours, at(4, 22, 59), MSK)).toBe(true);
    expect(isOpen(hours, at(4, 23, 0), MSK)).toBe(false);
  });

  it('a span past midnight is open into the next day; a closed day is closed', () => {
    expect(isOpen(hours, at(5, 16, 0), MSK)).toBe(false);
    expect(isOpen(hours, at(5, 23, 30), MSK)).toBe(true);
    expect(isOpen(hours, at(6, 1, 30), MSK)).toBe(true); // Sunday 01:30, from Saturday's evening
    expect(isOpen(hours, at(6, 2, 0), MSK)).toBe(false);
    expect(isOpen(hours, at(6, 12, 0), MSK)).toBe(false);
  });

  it('a range may wrap the week, and a day named twice is refused', () => {
    const weekend = parseOpeningHours({ 'fri-mon': '00:00-24:00' });
    expect(isOpen(weekend, at(0, 3), MSK)).toBe(true);
    expect(isOpen(weekend, at(2, 3), MSK)).toBe(false);
    expect(() => parseOpeningHours({ 'mon-fri': '10:00-23:00', wed: 'closed' })).toThrow(/wed is already given/);
  });

  it.each<Record<string, string>>([{ mo: '10:00-23:00' }, { mon: '10-23' }, { mon: '10:00-25:00' }])(
    'refuses %j',
    (spec) => {
      expect(() => parseOpeningHours(spec)).toThrow(OpeningHoursError);
    },
  );
});
