/**
 * The daily report e-mail, from the day's numbers (stats.ts): a subject, a plain-text body and an
 * HTML body in the deployment's locale. The HTML is built for mail clients, not browsers: tables
 * for layout, inline styles only, at most 600 px wide, no script, no external image, no CSS class.
 * The calls-per-hour chart is a table of 24 fixed-height cells whose bars are nested cells with a
 * height and a background colour (`bgcolor` too, for Outlook's Word engine): it renders the same
 * in Gmail, Outlook, Apple Mail and a phone, and survives image blocking. Every string that comes
 * from the QR-menu server (tables, codes), from Telegram (names) or from the config is escaped
 * and clipped. Lists are capped so that a bad day stays well under Gmail's 102 KB clipping size.
 * Pure functions: no I/O, times formatted in the day's time zone.
 */
import { escapeHtml, type RenderedEmail } from '../core/email';
import { clip } from '../core/sms';
import { displayTable, eventText, formatDuration, line, type Locale } from '../core/texts';
import { formatClock } from '../notify/telegram/texts';
import { dayHours } from './day';
import type { CallLine, DayStats, ResponseSummary, SourceDayStats } from './stats';
import { countCalls, formatDate, hourSpan, reportTexts, type ReportTexts } from './texts';

export interface ReportRenderOptions {
  /** Default 'ru'. */
  readonly locale?: Locale;
  /** The deployment's name (config `name`), in the footer. */
  readonly deploymentName: string;
}

/** Rows of each list (unanswered, escalated) per source; the rest is "and N more". */
export const REPORT_LIST_LIMIT = 30;
/** People in the per-person table. */
export const REPORT_PERSON_LIMIT = 30;
/** Graphemes of a table name, a person's name and a source's name shown. */
export const REPORT_TEXT_LIMITS = { table: 40, person: 40, source: 100 } as const;

/** The chart's geometry and colours (the Chromium test looks for these very colours). */
export const CHART = {
  /** Height of the tallest bar, px. */
  barMaxPx: 120,
  /** Room above the bars for the count, px. */
  labelPx: 14,
  /** A non-empty hour is at least this tall, px. */
  minBarPx: 2,
  callsColour: '#2f6fb0',
  unansweredColour: '#d64545',
  skippedColour: '#eeeeee',
  axisColour: '#9aa5b1',
} as const;

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const MUTED = '#666666';

/** The report e-mail for a day's numbers. */
export function renderReportEmail(stats: DayStats, options: ReportRenderOptions): RenderedEmail {
  const t = reportTexts(options.locale);
  const where = stats.sources.length === 1 ? sourceLabel(stats.sources[0]!) : undefined;
  const subject = line(
    t.subject(
      formatDate(stats.day.date, t, 'short'),
      countCalls(stats.totals.calls, t),
      stats.totals.unanswered,
      where,
    ),
  );
  return {
    subject,
    text: reportText(stats, t, options, where),
    html: reportHtml(stats, t, options, where),
  };
}

function sourceLabel(source: SourceDayStats): string {
  return clip(line(source.sourceName), REPORT_TEXT_LIMITS.source) || source.sourceId;
}

const duration = (ms: number | undefined): string => (ms === undefined ? '—' : formatDuration(ms));

function clockOf(epochMs: number, stats: DayStats, locale: Locale | undefined): string {
  return formatClock(epochMs, { timeZone: stats.day.timeZone, ...(locale && { locale }) });
}

function tableName(table: string): string {
  return clip(displayTable(table), REPORT_TEXT_LIMITS.table);
}

function personName(name: string | null | undefined): string {
  return clip(line(name ?? ''), REPORT_TEXT_LIMITS.person) || '?';
}

/** "никто не нажал «Иду»; не меньше 4:00; эскалаций: 2" — how long the guest of an unanswered call waited. */
function waitedText(call: CallLine, t: ReportTexts): string {
  const parts = [
    call.waitedAtLeastMs !== undefined ? t.waitedAtLeast(formatDuration(call.waitedAtLeastMs)) : t.noAnswer,
  ];
  if (call.escalations > 0) parts.push(t.escalations(call.escalations));
  if (!call.delivered) parts.push(t.notDelivered);
  return parts.join('; ');
}

/** The notes under the chart on a day the clocks changed. */
function clockNotes(stats: DayStats, t: ReportTexts): string[] {
  const notes: string[] = [];
  stats.day.hourMinutes.forEach((minutes, hour) => {
    if (minutes === 0) notes.push(t.chart.skipped(hourSpan(hour)));
    else if (minutes > 60) notes.push(t.chart.repeated(hourSpan(hour)));
  });
  const hours = dayHours(stats.day);
  if (hours !== 24) notes.push(t.chart.hoursOfDay(hours));
  return notes;
}

// --- plain text ------------------------------------------------------------------------------

function reportText(stats: DayStats, t: ReportTexts, options: ReportRenderOptions, where: string | undefined): string {
  const { totals } = stats;
  const out: string[] = [
    `${t.title}${where ? ` — ${where}` : ''}`,
    t.intro(formatDate(stats.day.date, t, 'long')),
    '',
    `${t.tiles.calls}: ${totals.calls}`,
    `${t.tiles.answered}: ${t.tiles.answeredOf(totals.acknowledged, totals.attendance)}`,
    `${t.tiles.median}: ${duration(totals.medianMs)}`,
    `${t.tiles.p90}: ${duration(totals.p90Ms)}`,
    `${t.tiles.unanswered}: ${totals.unanswered}`,
    `${t.tiles.escalated}: ${totals.escalated}`,
  ];
  for (const source of stats.sources) {
    out.push('');
    if (stats.sources.length > 1) out.push(`== ${sourceLabel(source)} ==`, '');
    if (source.calls === 0) {
      out.push(t.noCalls);
      continue;
    }
    out.push(`${t.chart.heading}:`);
    const max = Math.max(...source.perHour);
    source.perHour.forEach((count, hour) => {
      const bar = count === 0 ? '' : '█'.repeat(Math.max(1, Math.round((count / max) * 30)));
      out.push(`  ${String(hour).padStart(2, '0')}  ${bar}${count > 0 ? ` ${count}` : ''}`);
    });
    out.push(...clockNotes(stats, t).map((note) => `  ${note}`));
    if (source.overall.calls === 0) {
      out.push('', t.noAttendance);
    } else {
      const row = (s: ResponseSummary, name: string) =>
        `  ${name}: ${s.acknowledged}/${s.calls}, ${t.columns.median.toLowerCase()} ${duration(s.medianMs)}, ${t.columns.p90} ${duration(s.p90Ms)}`;
      out.push('', `${t.byZone}:`, ...source.byZone.map((s) => row(s, s.name ?? t.noZone)));
      if (source.byPerson.length > 0) {
        out.push(
          '',
          `${t.byPerson}:`,
          ...source.byPerson
            .slice(0, REPORT_PERSON_LIMIT)
            .map(
              (s) =>
                `  ${personName(s.name)}: ${s.acknowledged}, ${t.columns.median.toLowerCase()} ${duration(s.medianMs)}, ${t.columns.p90} ${duration(s.p90Ms)}`,
            ),
        );
      }
      out.push('', `${t.unanswered(source.unanswered.length)}:`);
      if (source.unanswered.length === 0) out.push(`  ${t.allAnswered}`);
      for (const call of source.unanswered.slice(0, REPORT_LIST_LIMIT)) {
        out.push(
          `  ${clockOf(call.firstSeenAt, stats, options.locale)}  ${tableName(call.table)}  ${eventText(call.code, options.locale)} — ${waitedText(call, t)}`,
        );
      }
      if (source.unanswered.length > REPORT_LIST_LIMIT)
        out.push(`  ${t.more(source.unanswered.length - REPORT_LIST_LIMIT)}`);
      const answered = source.escalated.filter((c) => c.waitedMs !== undefined);
      if (answered.length > 0) {
        out.push('', `${t.escalatedAnswered(answered.length)}:`);
        for (const call of answered.slice(0, REPORT_LIST_LIMIT)) {
          out.push(
            `  ${clockOf(call.firstSeenAt, stats, options.locale)}  ${tableName(call.table)}  ${eventText(call.code, options.locale)} — ${personName(call.ackBy)}, ${duration(call.waitedMs)}`,
          );
        }
        if (answered.length > REPORT_LIST_LIMIT) out.push(`  ${t.more(answered.length - REPORT_LIST_LIMIT)}`);
      }
    }
    if (source.repeats > 0) out.push('', t.repeats(source.repeats));
  }
  out.push('', '—', t.footer(options.deploymentName, stats.day.timeZone), '');
  return out.join('\n');
}

// --- HTML ------------------------------------------------------------------------------------

const e = escapeHtml;

function heading(text: string, level: 2 | 3): string {
  const size = level === 2 ? 18 : 15;
  return `<h${level} style="margin:24px 0 8px;font-size:${size}px;line-height:1.3;color:#222222;">${e(text)}</h${level}>`;
}

function paragraph(text: string, style = ''): string {
  return `<p style="margin:6px 0;font-size:13px;line-height:1.4;color:${MUTED};${style}">${e(text)}</p>`;
}

/** The six numbers of the day at the top, three to a row. */
function tilesHtml(stats: DayStats, t: ReportTexts): string {
  const { totals } = stats;
  const tiles: [string, string, string?][] = [
    [t.tiles.calls, String(totals.calls)],
    [t.tiles.answered, t.tiles.answeredOf(totals.acknowledged, totals.attendance)],
    [t.tiles.median, duration(totals.medianMs)],
    [t.tiles.p90, duration(totals.p90Ms)],
    [t.tiles.unanswered, String(totals.unanswered), totals.unanswered > 0 ? CHART.unansweredColour : undefined],
    [t.tiles.escalated, String(totals.escalated)],
  ];
  const cell = ([label, value, colour]: [string, string, string?]) =>
    '<td width="33%" valign="top" style="width:33%;padding:10px 8px;background-color:#f5f7fa;border:4px solid #ffffff;">' +
    `<div style="font-size:22px;line-height:1.2;font-weight:bold;color:${colour ?? '#222222'};">${e(value)}</div>` +
    `<div style="font-size:12px;line-height:1.3;color:${MUTED};">${e(label)}</div></td>`;
  return (
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:8px 0;">' +
    `<tr>${tiles.slice(0, 3).map(cell).join('')}</tr><tr>${tiles.slice(3).map(cell).join('')}</tr></table>`
  );
}

/** A solid block of a colour and height: a table cell, which every mail client sizes as told. */
function block(heightPx: number, colour: string): string {
  return (
    `<tr><td height="${heightPx}" bgcolor="${colour}" style="height:${heightPx}px;background-color:${colour};` +
    'font-size:0;line-height:0;mso-line-height-rule:exactly;">&nbsp;</td></tr>'
  );
}

/** Bar heights of one hour: the unanswered part on top of the rest. */
export function barHeights(count: number, unanswered: number, max: number): { totalPx: number; unansweredPx: number } {
  if (count <= 0 || max <= 0) return { totalPx: 0, unansweredPx: 0 };
  const totalPx = Math.max(CHART.minBarPx, Math.round((count / max) * CHART.barMaxPx));
  const share = Math.min(unanswered, count) / count;
  const unansweredPx = unanswered > 0 ? Math.min(totalPx, Math.max(CHART.minBarPx, Math.round(share * totalPx))) : 0;
  return { totalPx, unansweredPx };
}

/** The calls-per-hour chart: 24 columns of bars, the count above each, the hour below. */
export function chartHtml(source: SourceDayStats, hourMinutes: readonly number[], t: ReportTexts): string {
  const max = Math.max(0, ...source.perHour);
  const bars = source.perHour
    .map((count, hour) => {
      const skipped = hourMinutes[hour] === 0;
      const { totalPx, unansweredPx } = barHeights(count, source.unansweredPerHour[hour] ?? 0, max);
      const label =
        count > 0
          ? `<div style="font-size:9px;line-height:${CHART.labelPx}px;color:#444444;text-align:center;">${count}</div>`
          : '';
      const blocks =
        totalPx > 0
          ? '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;">' +
            (unansweredPx > 0 ? block(unansweredPx, CHART.unansweredColour) : '') +
            (totalPx - unansweredPx > 0 ? block(totalPx - unansweredPx, CHART.callsColour) : '') +
            '</table>'
          : '';
      const background = skipped ? `background-color:${CHART.skippedColour};` : '';
      return (
        `<td width="4%" height="${CHART.barMaxPx + CHART.labelPx}" valign="bottom"${skipped ? ` bgcolor="${CHART.skippedColour}"` : ''} ` +
        `style="width:4%;height:${CHART.barMaxPx + CHART.labelPx}px;vertical-align:bottom;padding:0 2px;` +
        `border-bottom:1px solid ${CHART.axisColour};${background}">${label}${blocks}</td>`
      );
    })
    .join('');
  const hours = source.perHour
    .map(
      (_, hour) =>
        `<td width="4%" style="width:4%;padding:3px 0 0;font-size:10px;line-height:12px;color:${MUTED};text-align:center;">` +
        // Every other hour: 24 labels do not fit side by side on a phone.
        `${hourMinutes[hour] === 0 ? '—' : hour % 2 === 0 ? hour : ''}</td>`,
    )
    .join('');
  const legend =
    `<p style="margin:4px 0 0;font-size:12px;color:${MUTED};">` +
    `<span style="color:${CHART.callsColour};">&#9632;</span> ${e(t.chart.legendCalls)} &nbsp; ` +
    `<span style="color:${CHART.unansweredColour};">&#9632;</span> ${e(t.chart.legendUnanswered)}</p>`;
  return (
    `<table role="presentation" id="calls-per-hour-${e(source.sourceId)}" width="100%" cellpadding="0" cellspacing="0" ` +
    'style="border-collapse:collapse;table-layout:fixed;margin:4px 0 0;">' +
    `<tr>${bars}</tr><tr>${hours}</tr></table>${legend}`
  );
}

interface Column {
  readonly title: string;
  readonly numeric?: boolean;
  /** Never wrapped (times). */
  readonly nowrap?: boolean;
}

function dataTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const align = (c: Column) => (c.numeric ? 'right' : 'left');
  const head = columns
    .map(
      (c) =>
        `<th align="${align(c)}" style="padding:5px 6px;font-size:12px;font-weight:bold;color:#444444;` +
        `text-align:${align(c)};background-color:#eef2f6;border-bottom:1px solid #d5dde6;">${e(c.title)}</th>`,
    )
    .join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row
          .map(
            (value, i) =>
              `<td align="${align(columns[i]!)}" valign="top" style="padding:4px 6px;font-size:13px;color:#222222;` +
              `text-align:${align(columns[i]!)};border-bottom:1px solid #eeeeee;` +
              `${columns[i]!.nowrap ? 'white-space:nowrap;' : ''}">${e(value)}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  return (
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:4px 0;">' +
    `<tr>${head}</tr>${body}</table>`
  );
}

function moreHtml(total: number, t: ReportTexts): string {
  return total > REPORT_LIST_LIMIT ? paragraph(t.more(total - REPORT_LIST_LIMIT)) : '';
}

function sourceHtml(
  source: SourceDayStats,
  stats: DayStats,
  t: ReportTexts,
  options: ReportRenderOptions,
  many: boolean,
): string {
  const parts: string[] = [];
  if (many) parts.push(heading(sourceLabel(source), 2));
  if (source.calls === 0) {
    parts.push(paragraph(t.noCalls, 'font-size:14px;color:#222222;'));
    return parts.join('');
  }
  parts.push(heading(t.chart.heading, 3), chartHtml(source, stats.day.hourMinutes, t));
  parts.push(...clockNotes(stats, t).map((note) => paragraph(note)));

  if (source.overall.calls === 0) {
    parts.push(paragraph(t.noAttendance, 'font-size:14px;color:#222222;'));
  } else {
    const c = t.columns;
    parts.push(
      heading(t.byZone, 3),
      dataTable(
        [
          { title: c.zone },
          { title: c.calls, numeric: true },
          { title: c.answered, numeric: true },
          { title: c.median, numeric: true },
          { title: c.p90, numeric: true },
        ],
        source.byZone.map((s) => [
          s.name ?? t.noZone,
          String(s.calls),
          String(s.acknowledged),
          duration(s.medianMs),
          duration(s.p90Ms),
        ]),
      ),
    );
    if (source.byPerson.length > 0) {
      parts.push(
        heading(t.byPerson, 3),
        dataTable(
          [
            { title: c.person },
            { title: c.answers, numeric: true },
            { title: c.median, numeric: true },
            { title: c.p90, numeric: true },
          ],
          source.byPerson
            .slice(0, REPORT_PERSON_LIMIT)
            .map((s) => [personName(s.name), String(s.acknowledged), duration(s.medianMs), duration(s.p90Ms)]),
        ),
      );
      if (source.byPerson.length > REPORT_PERSON_LIMIT)
        parts.push(paragraph(t.more(source.byPerson.length - REPORT_PERSON_LIMIT)));
    }
    parts.push(heading(t.unanswered(source.unanswered.length), 3));
    if (source.unanswered.length === 0) parts.push(paragraph(t.allAnswered));
    else
      parts.push(
        dataTable(
          [{ title: c.time, nowrap: true }, { title: c.table }, { title: c.event }, { title: c.waited }],
          source.unanswered
            .slice(0, REPORT_LIST_LIMIT)
            .map((call) => [
              clockOf(call.firstSeenAt, stats, options.locale),
              tableName(call.table),
              eventText(call.code, options.locale),
              waitedText(call, t),
            ]),
        ),
        moreHtml(source.unanswered.length, t),
      );
    const answered = source.escalated.filter((call) => call.waitedMs !== undefined);
    if (answered.length > 0) {
      parts.push(
        heading(t.escalatedAnswered(answered.length), 3),
        dataTable(
          [
            { title: c.time, nowrap: true },
            { title: c.table },
            { title: c.event },
            { title: c.by },
            { title: c.after, numeric: true },
          ],
          answered
            .slice(0, REPORT_LIST_LIMIT)
            .map((call) => [
              clockOf(call.firstSeenAt, stats, options.locale),
              tableName(call.table),
              eventText(call.code, options.locale),
              personName(call.ackBy),
              duration(call.waitedMs),
            ]),
        ),
        moreHtml(answered.length, t),
      );
    }
  }
  if (source.repeats > 0) parts.push(paragraph(t.repeats(source.repeats)));
  return parts.join('');
}

function reportHtml(stats: DayStats, t: ReportTexts, options: ReportRenderOptions, where: string | undefined): string {
  const title = `${t.title}${where ? ` — ${where}` : ''}`;
  const many = stats.sources.length > 1;
  const sections = stats.sources.map((source) => sourceHtml(source, stats, t, options, many)).join('');
  return (
    `<!DOCTYPE html><html lang="${options.locale ?? 'ru'}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${e(title)}</title></head>` +
    `<body style="margin:0;padding:0;background-color:#f4f4f4;${FONT}color:#222222;">` +
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" bgcolor="#f4f4f4" style="background-color:#f4f4f4;">' +
    '<tr><td align="center" style="padding:16px 8px;">' +
    '<table role="presentation" width="600" cellpadding="0" cellspacing="0" bgcolor="#ffffff" ' +
    'style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid #dddddd;border-collapse:separate;">' +
    `<tr><td style="padding:20px;${FONT}">` +
    `<h1 style="margin:0 0 4px;font-size:20px;line-height:1.3;color:#222222;">${e(title)}</h1>` +
    paragraph(t.intro(formatDate(stats.day.date, t, 'long'))) +
    tilesHtml(stats, t) +
    sections +
    `<p style="margin:24px 0 0;font-size:11px;color:#888888;">${e(t.footer(options.deploymentName, stats.day.timeZone))}</p>` +
    '</td></tr></table></td></tr></table></body></html>'
  );
}
