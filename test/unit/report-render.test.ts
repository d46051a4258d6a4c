/**
 * The daily report e-mail (lambda/report/render.ts) as a mail client receives it: subject with
 * Russian plurals and English, every server, Telegram and config string escaped, HTML a mail
 * client renders (tables and inline styles only: no script, no style sheet, no class, no external
 * resource, at most 600 px wide), the calls-per-hour chart's 24 columns with bars in proportion,
 * the notes on a day the clocks changed, capped lists, and a bad day staying under Gmail's
 * clipping size. Pure functions on generated values: no emulator, no browser (see
 * test/integration/report-chromium.test.ts for the picture).
 */
import { describe, expect, it } from 'vitest';
import { EVENT_STATUS } from '../../lambda/domain/record';
import { localDay } from '../../lambda/report/day';
import { barHeights, CHART, REPORT_LIST_LIMIT, renderReportEmail } from '../../lambda/report/render';
import { computeDayStats, type ReportRecord } from '../../lambda/report/stats';
import { countCalls, reportTexts } from '../../lambda/report/texts';
import { sampleReportEmail } from '../../local/report-sample';

const DAY = localDay('2026-03-12', 'Europe/Moscow');
const HOUR = 3_600_000;
const XSS = '<img src=x onerror=alert(1)>';

let n = 0;
function record(at: number, overrides: Partial<ReportRecord> = {}): ReportRecord {
  n += 1;
  return {
    recordId: `0x${n}`,
    hash: `0x${n}`,
    status: EVENT_STATUS.delivered,
    code: 'waiter_call',
    table: '6',
    firstSeenAt: at,
    needsAck: true,
    escalatedAt: [],
    sentAt: { sns: at + 500 },
    ...overrides,
  };
}

function render(records: ReportRecord[], options: { locale?: 'ru' | 'en'; day?: typeof DAY; name?: string } = {}) {
  const day = options.day ?? DAY;
  const stats = computeDayStats({
    day,
    zones: { hall: ['1-12'] },
    sources: [{ id: 'lenina', name: options.name ?? 'Пиццерия на Ленина', records }],
  });
  return { stats, email: renderReportEmail(stats, { locale: options.locale ?? 'ru', deploymentName: 'pizzeria' }) };
}

/** Tag counts of the HTML: every opened table, row and cell is closed. */
function balanced(html: string, tag: string): boolean {
  const open = html.match(new RegExp(`<${tag}[\\s>]`, 'g'))?.length ?? 0;
  const close = html.match(new RegExp(`</${tag}>`, 'g'))?.length ?? 0;
  return open === close && open > 0;
}

/** The bars of the chart: the height of each hour's blocks, from the HTML. */
function chartBars(html: string): { calls: number; unanswered: number }[] {
  const chart = html.slice(html.indexOf('id="calls-per-hour-'), html.indexOf('</table>', html.lastIndexOf('bgcolor=')));
  const cells = chart.split(/<td width="4%" height=/).slice(1, 25);
  return cells.map((cell) => {
    const px = (colour: string) =>
      [...cell.matchAll(new RegExp(`height:(\\d+)px;background-color:${colour}`, 'g'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    return { calls: px(CHART.callsColour), unanswered: px(CHART.unansweredColour) };
  });
}

describe('the subject', () => {
  it('counts calls with Russian plurals and names the restaurant and the unanswered', () => {
    const t = reportTexts('ru');
    expect([1, 2, 5, 11, 21, 22, 25, 101].map((c) => countCalls(c, t))).toEqual([
      '1 вызов',
      '2 вызова',
      '5 вызовов',
      '11 вызовов',
      '21 вызов',
      '22 вызова',
      '25 вызовов',
      '101 вызов',
    ]);
    const at = DAY.start + 13 * HOUR;
    const { email } = render([record(at), record(at, { ackAt: at + 30_000, ackBy: 'Иван' })]);
    expect(email.subject).toBe('Отчёт за 12 марта: 2 вызова, без ответа 1 — Пиццерия на Ленина');
  });

  it('in English', () => {
    const at = DAY.start + 13 * HOUR;
    const { email } = render([record(at, { ackAt: at + 30_000, ackBy: 'Ivan' })], { locale: 'en', name: 'Pizzeria' });
    expect(email.subject).toBe('Report for 12 March: 1 call — Pizzeria');
    expect(email.text).toContain('Guest calls and how fast staff answered them on Thursday, 12 March 2026.');
  });

  it('is one line even when the restaurant name is not', () => {
    const { email } = render([], { name: 'Пиццерия\nна Ленина' });
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});

describe('escaping', () => {
  it('escapes table names, codes, names from Telegram and the restaurant name', () => {
    const at = DAY.start + 20 * HOUR;
    const { email } = render(
      [
        record(at, { table: XSS, escalatedAt: [at + 120_000] }),
        record(at + 1, {
          table: '"><script>alert(1)</script>',
          code: '<b>evil</b>',
          ackAt: at + 60_000,
          ackBy: '<a href="https://evil.example">Иван</a>',
          escalatedAt: [at + 30_000],
        }),
      ],
      { name: 'Café & <Bar>' },
    );
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('<script');
    expect(email.html).not.toContain('<b>evil');
    expect(email.html).not.toContain('<a ');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('&lt;a href=&quot;https://evil.example&quot;&gt;Иван&lt;/a&gt;');
    expect(email.html).toContain('Café &amp; &lt;Bar&gt;');
    // The text part is not HTML: it keeps the characters, made one line.
    expect(email.text).toContain('<b>evil</b>');
  });

  it('clips a huge table name', () => {
    const at = DAY.start + 20 * HOUR;
    const { email } = render([record(at, { table: 'x'.repeat(100_000) })]);
    expect(email.html.length).toBeLessThan(20_000);
    expect(email.html).toContain(`${'x'.repeat(40)}…`);
  });
});

describe('the HTML', () => {
  const { email, stats } = sampleReportEmail();

  it('is tables and inline styles only: no script, style sheet, class, form or external resource', () => {
    expect(email.html.startsWith('<!DOCTYPE html><html lang="ru">')).toBe(true);
    for (const forbidden of ['<script', '<style', 'class=', '<link', '<img', '<form', 'src=', 'url(', '@import'])
      expect(email.html, forbidden).not.toContain(forbidden);
    expect(email.html).not.toMatch(/https?:\/\//);
    for (const tag of ['table', 'tr', 'td', 'h1', 'h3', 'p']) expect(balanced(email.html, tag), tag).toBe(true);
  });

  it('is at most 600 px wide', () => {
    expect(email.html).toContain('width="600"');
    expect(email.html).toContain('max-width:600px');
    const widths = [...email.html.matchAll(/width(?:=|:)"?(\d+)(?:px)?/g)].map((m) => Number(m[1]));
    expect(Math.max(...widths)).toBeLessThanOrEqual(600);
  });

  it('draws 24 columns, the busiest hour 120 px tall, every bar in proportion to its count', () => {
    const source = stats.sources[0]!;
    const bars = chartBars(email.html);
    expect(bars).toHaveLength(24);
    const max = Math.max(...source.perHour);
    source.perHour.forEach((count, hour) => {
      const expected = barHeights(count, source.unansweredPerHour[hour]!, max);
      expect(bars[hour]!.calls + bars[hour]!.unanswered, `hour ${hour}`).toBe(expected.totalPx);
      expect(bars[hour]!.unanswered, `hour ${hour}`).toBe(expected.unansweredPx);
      if (count > 0) expect(Math.abs(expected.totalPx - (count / max) * CHART.barMaxPx)).toBeLessThanOrEqual(1);
    });
    expect(Math.max(...bars.map((b) => b.calls + b.unanswered))).toBe(CHART.barMaxPx);
    // Outlook's Word engine reads bgcolor, everyone else the style.
    expect(email.html).toContain(`bgcolor="${CHART.callsColour}"`);
  });

  it('has the tables per zone and per person and both lists', () => {
    for (const heading of [
      'Вызовы по часам',
      'Время до «Иду» по зонам',
      'По сотрудникам',
      'Без ответа (',
      'Ответили только после эскалации (',
    ])
      expect(email.html, heading).toContain(escapeForTest(heading));
    expect(email.html).toContain('Иван');
    expect(email.html).toContain('без зоны');
  });

  it('has a plain-text part with the same numbers and a chart of its own', () => {
    const total = stats.totals;
    expect(email.text).toContain(`Вызовов: ${total.calls}`);
    expect(email.text).toContain(`Без ответа: ${total.unanswered}`);
    expect(email.text).toMatch(/\n {2}20 {2}█+ \d+/);
  });
});

function escapeForTest(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

describe('bars', () => {
  it('are 2 px at least, the unanswered part on top, never taller than the bar', () => {
    expect(barHeights(0, 0, 10)).toEqual({ totalPx: 0, unansweredPx: 0 });
    expect(barHeights(1, 0, 1000)).toEqual({ totalPx: 2, unansweredPx: 0 });
    expect(barHeights(10, 10, 10)).toEqual({ totalPx: 120, unansweredPx: 120 });
    expect(barHeights(10, 1, 10)).toEqual({ totalPx: 120, unansweredPx: 12 });
    expect(barHeights(1, 1, 1000)).toEqual({ totalPx: 2, unansweredPx: 2 });
  });
});

describe('days and edge cases', () => {
  it('an empty day says there were no calls, and draws no chart', () => {
    const { email } = render([]);
    expect(email.subject).toBe('Отчёт за 12 марта: 0 вызовов — Пиццерия на Ленина');
    expect(email.html).toContain('Вызовов не было.');
    expect(email.html).not.toContain('calls-per-hour');
    expect(email.text).toContain('Вызовов не было.');
  });

  it('a day of orders only says no call needed someone to come', () => {
    const { email } = render([record(DAY.start + 12 * HOUR, { needsAck: false, code: 'new_order' })]);
    expect(email.html).toContain('Вызовов, к которым нужно подойти, не было.');
    expect(email.html).toContain('calls-per-hour');
  });

  it('notes the hour that did not happen on the spring-forward day, and greys its column', () => {
    const day = localDay('2026-03-29', 'Europe/London');
    const { email } = render([record(day.start + 3 * HOUR)], { day, locale: 'en' });
    expect(email.html).toContain('The clocks went forward: the hour 01:00–02:00 did not happen that day.');
    expect(email.html).toContain('This day had 23 hours.');
    expect(email.html).toContain(`bgcolor="${CHART.skippedColour}"`);
  });

  it('notes the hour that happened twice on the fall-back day', () => {
    const day = localDay('2026-10-25', 'Europe/London');
    const { email } = render([record(day.start + 3 * HOUR)], { day });
    expect(email.html).toContain('Часы переводили назад: час 01:00–02:00 был дважды, его столбик считает оба.');
    expect(email.html).toContain('В этих сутках 25 ч.');
  });

  it(`lists ${REPORT_LIST_LIMIT} calls at most, then says how many more`, () => {
    const records = Array.from({ length: REPORT_LIST_LIMIT + 12 }, (_, i) => record(DAY.start + 12 * HOUR + i * 1000));
    const { email } = render(records);
    expect(email.html).toContain(`Без ответа (${REPORT_LIST_LIMIT + 12})`);
    expect(email.html).toContain('и ещё 12');
    expect(email.text).toContain('и ещё 12');
  });

  it('a bad day — 2,000 calls, 500 of them unanswered, 60 waiters — stays under Gmail’s 102 KB clipping size', () => {
    const records = Array.from({ length: 2_000 }, (_, i) => {
      const at = DAY.start + 10 * HOUR + i * 20_000;
      return i % 4 === 0
        ? record(at, { table: `Terrace-${i % 97}`, escalatedAt: [at + 120_000, at + 300_000] })
        : record(at, {
            ackAt: at + 30_000 + (i % 200) * 1000,
            ackBy: `Официант Номер ${i % 60}`,
            ackById: String(i % 60),
            escalatedAt: i % 7 === 0 ? [at + 120_000] : [],
          });
    });
    const { email } = render(records);
    expect(Buffer.byteLength(email.html)).toBeLessThan(102_000);
    expect(Buffer.byteLength(email.text)).toBeLessThan(102_000);
  });
});
