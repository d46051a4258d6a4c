/**
 * The daily report, end to end: which local day (the one before `now` in the config's time zone,
 * or the day asked for, to send one again), its records read from the state table (read.ts, one
 * Query per source), the numbers (stats.ts), the e-mail (render.ts), and the send through SES to
 * `report.to` from `email.from` (lambda/notify/ses.ts: Bcc batches, refused sandbox addresses left
 * out and reported). `buildDailyReport` stops before sending (previews, tests);
 * `sendDailyReport` is what the report Lambda and `npm start` call. The clock is `now`, passed in.
 */
import { ConfigError, sourceName, type AlertsConfig } from '../config/schema';
import type { RenderedEmail } from '../core/email';
import type { RefusedRecipient } from '../domain/delivery';
import type { Log } from '../domain/ports';
import { type SesClient, sendAlertEmail } from '../notify/ses';
import { isLocalDate, localDay, previousLocalDate, type LocalDate } from './day';
import type { DynamoDb } from '../state/dynamodb';
import { readDayRecords } from './read';
import { renderReportEmail } from './render';
import { computeDayStats, type DayStats } from './stats';

export interface BuildDailyReportOptions {
  readonly config: AlertsConfig;
  /** The state table (STATE_TABLE_NAME in the Lambda). */
  readonly tableName: string;
  readonly db: DynamoDb;
  /** Epoch ms: the report is about the local day before this instant, unless `day` is given. */
  readonly now: number;
  /** The local date to report ("2026-03-12"), for sending a report again. */
  readonly day?: LocalDate;
  readonly log?: Log;
}

export interface SendDailyReportOptions extends BuildDailyReportOptions {
  readonly ses: SesClient;
  /** Budget of the SES calls together. Default: the SES adapter's (10 s). */
  readonly sendTimeoutMs?: number;
}

/** What reading the day cost, summed over the sources. */
export interface ReadFigures {
  readonly records: number;
  readonly scanned: number;
  readonly pages: number;
  readonly consumedRcu: number;
  readonly skipped: number;
}

export interface BuiltReport {
  readonly day: LocalDate;
  readonly stats: DayStats;
  readonly email: RenderedEmail;
  readonly read: ReadFigures;
}

export interface SentReport extends BuiltReport {
  /** Who was sent the report (`report.to` less the refused). */
  readonly recipients: readonly string[];
  readonly refused: readonly RefusedRecipient[];
  readonly messageIds: readonly string[];
}

/** The report's part of the config, or a ConfigError that says what is missing. */
function reportSettings(config: AlertsConfig): { to: readonly string[]; from: string; replyTo?: readonly string[] } {
  if (config.report === undefined) throw new ConfigError(['report: is not set, so there is no daily report to send']);
  if (config.email === undefined)
    throw new ConfigError(['email: the daily report is sent by e-mail, so set email.from to a verified SES sender']);
  return {
    to: config.report.to,
    from: config.email.from,
    ...(config.email.replyTo && { replyTo: config.email.replyTo }),
  };
}

/** The local date a report is about: the one asked for, or the day before `now`. */
export function reportDate(now: number, timeZone: string, day?: LocalDate): LocalDate {
  if (day !== undefined) {
    if (!isLocalDate(day)) throw new RangeError(`"${day}" is not a date like "2026-03-12"`);
    return day;
  }
  return previousLocalDate(now, timeZone);
}

/** Read the day and render the report, without sending it. */
export async function buildDailyReport(options: BuildDailyReportOptions): Promise<BuiltReport> {
  const { config } = options;
  const date = reportDate(options.now, config.timeZone, options.day);
  const day = localDay(date, config.timeZone);
  const { db } = options;
  const read = { records: 0, scanned: 0, pages: 0, consumedRcu: 0, skipped: 0 };
  const sources = [];
  for (const source of config.sources) {
    const result = await readDayRecords({
      db,
      tableName: options.tableName,
      sourceId: source.id,
      start: day.start,
      end: day.end,
    });
    read.records += result.records.length;
    read.scanned += result.scanned;
    read.pages += result.pages;
    read.consumedRcu += result.consumedRcu;
    read.skipped += result.skipped;
    if (result.skipped > 0)
      options.log?.warn('records the report cannot read were left out', { source: source.id, skipped: result.skipped });
    sources.push({ id: source.id, name: sourceName(source), records: result.records });
  }
  const stats = computeDayStats({ day, zones: config.zones, sources });
  const email = renderReportEmail(stats, { locale: config.locale, deploymentName: config.name });
  return { day: date, stats, email, read };
}

/** Build the report of a day and send it to `report.to`. Throws when nobody could be sent it. */
export async function sendDailyReport(options: SendDailyReportOptions): Promise<SentReport> {
  const settings = reportSettings(options.config);
  const built = await buildDailyReport(options);
  const sent = await sendAlertEmail({
    client: options.ses,
    from: settings.from,
    ...(settings.replyTo && { replyTo: settings.replyTo }),
    recipients: settings.to,
    email: built.email,
    ...(options.sendTimeoutMs !== undefined && { timeoutMs: options.sendTimeoutMs }),
  });
  if (sent.refused.length > 0)
    options.log?.warn('report recipients refused by SES', {
      refused: sent.refused.map((r) => ({ address: r.address, reason: r.reason })),
    });
  if (sent.recipients.length === 0)
    throw new Error(
      `the daily report of ${built.day} was sent to nobody: SES refused every address of report.to ` +
        `(${sent.refused.map((r) => `${r.address}: ${r.reason}`).join('; ')})`,
    );
  const result: SentReport = {
    ...built,
    recipients: sent.recipients,
    refused: sent.refused,
    messageIds: sent.messageIds,
  };
  options.log?.info('daily report sent', {
    day: built.day,
    recipients: sent.recipients.length,
    calls: built.stats.totals.calls,
    unanswered: built.stats.totals.unanswered,
    escalated: built.stats.totals.escalated,
    htmlBytes: Buffer.byteLength(built.email.html),
    ...built.read,
  });
  return result;
}
