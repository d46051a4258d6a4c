/**
 * A made-up but plausible restaurant day for looking at the daily report without a restaurant:
 * a pizzeria open 10:00–23:00 with a lunch and a dinner peak, three zones (hall, terrace, bar),
 * four waiters who press "On my way" after 10 s to 3 min, a few calls nobody answers (escalated
 * after 2 and 5 minutes), repeat taps collapsed by the cooldown, and one call just before
 * midnight answered after it. Seeded: the same seed gives the same day, to the millisecond.
 * `npm run report:preview` renders it; the Chromium test looks at the same picture.
 */
import { parseAlertsConfig, type AlertsConfig } from '../lambda/config/schema';
import { EVENT_STATUS } from '../lambda/domain/record';
import type { RenderedEmail } from '../lambda/core/email';
import { localDay, type LocalDay } from '../lambda/report/day';
import { renderReportEmail } from '../lambda/report/render';
import { computeDayStats, type DayStats, type ReportRecord } from '../lambda/report/stats';
import { createRandom, type Random } from './simulator/random';

export const SAMPLE_DATE = '2026-03-12';
export const SAMPLE_SEED = 20260312;

/** The sample deployment: one pizzeria, zones, the report going to the manager. */
export function sampleReportConfig(locale: 'ru' | 'en' = 'ru'): AlertsConfig {
  return parseAlertsConfig({
    name: 'pizzeria',
    locale,
    timeZone: 'Europe/Moscow',
    sources: [
      { id: 'lenina', name: locale === 'ru' ? 'Пиццерия на Ленина' : 'Pizzeria Lenina', url: 'https://127.0.0.1:8443' },
    ],
    zones: { hall: ['1-12'], terrace: ['20-26'], bar: ['Bar-1', 'Bar-2'] },
    email: { from: 'Пиццерия <alerts@pizzeria.example>' },
    report: { to: ['manager@pizzeria.example'], at: '09:00' },
  });
}

const WAITERS = [
  { id: '1001', ru: 'Иван', en: 'Ivan' },
  { id: '1002', ru: 'Мария', en: 'Maria' },
  { id: '1003', ru: 'Алексей', en: 'Alexei' },
  { id: '1004', ru: 'Ольга', en: 'Olga' },
] as const;

const TABLES = [
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '10',
  '11',
  '12',
  '20',
  '21',
  '22',
  '23',
  '24',
  '25',
  '26',
];
const OTHER_TABLES = ['Bar-1', 'Bar-2', 'VIP'];
const CODES = [
  ['waiter_call', 55],
  ['bill_request', 25],
  ['new_order', 10],
  ['waiter_call_cash', 5],
  ['order_paid', 5],
] as const;
const ACK_CODES = new Set<string>(['waiter_call', 'waiter_call_cash', 'bill_request']);

/** Relative number of calls in each local hour: closed at night, lunch at 13–14, dinner at 19–21. */
const HOURLY_WEIGHT = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 6, 9, 8, 4, 3, 4, 6, 9, 10, 8, 5, 2];

function responseMs(random: Random): number {
  // Mostly quick, a long tail: 10 s to about 3 min.
  const u = random.next();
  return Math.round(10_000 + 170_000 * u ** 2.2 + random.int(0, 999));
}

/** The sample day's records, as the report reads them. */
export function sampleReportRecords(
  options: { seed?: number; date?: string; timeZone?: string; locale?: 'ru' | 'en' } = {},
): { day: LocalDay; records: ReportRecord[] } {
  const random = createRandom(options.seed ?? SAMPLE_SEED);
  const day = localDay(options.date ?? SAMPLE_DATE, options.timeZone ?? 'Europe/Moscow');
  const locale = options.locale ?? 'ru';
  const records: ReportRecord[] = [];
  const add = (firstSeenAt: number, table: string, code: string, fate: 'answered' | 'unanswered' | 'late') => {
    const hash = `0x${random.hex(8)}`;
    const needsAck = ACK_CODES.has(code);
    const waiter = random.pick(WAITERS);
    const record: ReportRecord = {
      recordId: hash,
      hash,
      status: EVENT_STATUS.delivered,
      code,
      table,
      firstSeenAt,
      needsAck,
      escalatedAt: [],
      sentAt: { sns: firstSeenAt + 900, email: firstSeenAt + 1_100, 'telegram:-1001234567890': firstSeenAt + 700 },
    };
    if (!needsAck) {
      records.push(record);
      return;
    }
    if (fate === 'answered') {
      records.push({ ...record, ackAt: firstSeenAt + responseMs(random), ackBy: waiter[locale], ackById: waiter.id });
    } else if (fate === 'late') {
      records.push({
        ...record,
        escalatedAt: [firstSeenAt + 120_000],
        ackAt: firstSeenAt + 120_000 + random.int(20_000, 150_000),
        ackBy: waiter[locale],
        ackById: waiter.id,
      });
    } else {
      records.push({ ...record, escalatedAt: [firstSeenAt + 120_000, firstSeenAt + 300_000] });
    }
  };

  const hourMs = 3_600_000;
  HOURLY_WEIGHT.forEach((weight, hour) => {
    const calls = weight === 0 ? 0 : weight + random.int(0, Math.ceil(weight / 2));
    for (let i = 0; i < calls; i += 1) {
      const at = day.start + hour * hourMs + random.int(0, hourMs - 1);
      const table = random.chance(0.12) ? random.pick(OTHER_TABLES) : random.pick(TABLES);
      const code = random.weighted(CODES);
      const roll = random.next();
      add(at, table, code, roll < 0.05 ? 'unanswered' : roll < 0.12 ? 'late' : 'answered');
      if (random.chance(0.08)) {
        // A repeat tap within the cooldown: recorded, not sent, not a call of its own.
        const hash = `0x${random.hex(8)}`;
        records.push({
          recordId: hash,
          hash,
          status: EVENT_STATUS.suppressed,
          code,
          table,
          firstSeenAt: at + random.int(5_000, 40_000),
          needsAck: false,
          escalatedAt: [],
          sentAt: {},
        });
      }
    }
  });
  // A call just before midnight, answered after it: it belongs to this day.
  add(day.end - 90_000, '7', 'bill_request', 'answered');
  return { day, records: records.sort((a, b) => a.firstSeenAt - b.firstSeenAt) };
}

/** The sample report's e-mail (the Chromium test renders the very same). */
export function sampleReportEmail(options: { locale?: 'ru' | 'en'; seed?: number } = {}): {
  config: AlertsConfig;
  stats: DayStats;
  email: RenderedEmail;
} {
  const locale = options.locale ?? 'ru';
  const config = sampleReportConfig(locale);
  const { day, records } = sampleReportRecords({ locale, ...(options.seed !== undefined && { seed: options.seed }) });
  const source = config.sources[0]!;
  const stats = computeDayStats({
    day,
    zones: config.zones,
    sources: [{ id: source.id, name: source.name ?? source.id, records }],
  });
  return { config, stats, email: renderReportEmail(stats, { locale, deploymentName: config.name }) };
}
