/**
 * The report Lambda's entry point. EventBridge Scheduler invokes it once a day at `report.at` in
 * the config's time zone (infra/constructs/daily-report.ts); it sends the report of the day
 * before. To send a day again, invoke it with `{ "day": "2026-03-12" }`:
 *
 *   aws lambda invoke --function-name <ReportFunctionName> --payload '{"day":"2026-03-12"}' out.json
 *
 * The config is the poller's bundled `alerts-config.json`, read by the poller's own
 * `loadRuntimeConfig`; the state table's name comes from STATE_TABLE_NAME. A failure throws, so
 * that the Lambda's Errors metric (and its alarm) sees it: the report is not retried by itself.
 */
import { DynamoDb } from '../state/dynamodb';
import { RUNTIME_ENV } from '../config/runtime';
import { ConfigError, type AlertsConfig } from '../config/schema';
import { systemClock, type Clock, type Log } from '../domain/ports';
import { loadRuntimeConfig } from '../handler';
import { createSesClient, type SesClient } from '../notify/ses';
import { createLogger } from '../obs/telemetry';
import { isLocalDate } from './day';
import { sendDailyReport, type SentReport } from './send';

/** What the handler returns (and Lambda logs): the day, who got it, the day's totals, what reading cost. */
export interface ReportSummary {
  readonly day: string;
  readonly subject: string;
  readonly recipients: number;
  readonly refused: number;
  readonly totals: SentReport['stats']['totals'];
  readonly read: SentReport['read'];
  readonly htmlBytes: number;
}

export interface ReportHandlerDeps {
  readonly config: AlertsConfig;
  readonly tableName: string;
  readonly db: DynamoDb;
  readonly ses: SesClient;
  readonly log: Log;
  readonly clock?: Pick<Clock, 'now'>;
}

export type ReportHandler = (event: unknown) => Promise<ReportSummary>;

/** The day an invocation asks for: `{ "day": "YYYY-MM-DD" }`, or none (the day before). */
export function requestedDay(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object' || !('day' in event) || event.day === undefined) return undefined;
  const { day } = event as { day: unknown };
  if (typeof day !== 'string' || !isLocalDate(day))
    throw new ConfigError([`day: ${JSON.stringify(day)} is not a date like "2026-03-12"`], 'the invocation event');
  return day;
}

export function createReportHandler(deps: ReportHandlerDeps): ReportHandler {
  const clock = deps.clock ?? systemClock;
  return async (event) => {
    const day = requestedDay(event);
    const sent = await sendDailyReport({
      config: deps.config,
      tableName: deps.tableName,
      db: deps.db,
      ses: deps.ses,
      now: clock.now(),
      ...(day !== undefined && { day }),
      log: deps.log,
    });
    return {
      day: sent.day,
      subject: sent.email.subject,
      recipients: sent.recipients.length,
      refused: sent.refused.length,
      totals: sent.stats.totals,
      read: sent.read,
      htmlBytes: Buffer.byteLength(sent.email.html),
    };
  };
}

/** The production wiring, from the environment the CDK stack sets. */
export function createDefaultReportHandler(env: NodeJS.ProcessEnv = process.env): ReportHandler {
  const config = loadRuntimeConfig(env);
  const tableName = env[RUNTIME_ENV.stateTable];
  if (!tableName)
    throw new ConfigError([`${RUNTIME_ENV.stateTable} is not set (the CDK stack sets it)`], 'the Lambda environment');
  return createReportHandler({
    config,
    tableName,
    db: new DynamoDb(),
    ses: createSesClient(),
    log: createLogger(),
  });
}

let cached: ReportHandler | undefined;

/** The Lambda handler: wired once per container, reused by every invocation. */
export const handler: ReportHandler = (event) => {
  cached ??= createDefaultReportHandler();
  return cached(event);
};
