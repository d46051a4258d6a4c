/**
 * The manager's daily report (lambda/report/handler.ts) in AWS: a second Lambda bundled exactly
 * like the poller (POLLER_BUNDLING, the same alerts-config.json next to it), invoked once a day by
 * EventBridge Scheduler at `report.at` in the config's time zone (a cron with
 * ScheduleExpressionTimezone, so 09:00 stays 09:00 across DST), with no retries and a dead-letter
 * queue, like the poll schedule (the same PollSchedule construct). Its own role may do two things:
 * `dynamodb:Query` on the state table (not its index, nothing else) and send e-mail as `email.from`
 * to `report.to` (the poller's SES grant). Its own log group; an alarm on its errors and one on
 * its dead-letter queue page the operator through the ops topic. A failed report is not retried
 * by itself: the operator re-sends a day with `{"day":"YYYY-MM-DD"}` (docs/DEPLOY.md).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BUNDLED_CONFIG_FILE } from '../../lambda/config/runtime';
import type { AlertsConfig } from '../../lambda/config/schema';
import { alarmName } from '../config/names';
import { PollSchedule } from './poll-schedule';
import { copyCommand, POLLER_BUNDLING, POLLER_RUNTIME, writeBundledConfig } from './poller';
import { grantSendEmail } from './ses-sender';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REPORT_ENTRY = join(REPO_ROOT, 'lambda', 'report', 'handler.ts');
export const REPORT_MEMORY_MB = 256;
/** One Query per source (a few pages) and one SES call: seconds. Two minutes leaves room for a slow day. */
export const REPORT_TIMEOUT = Duration.minutes(2);
/** A report an hour late is still worth reading; later, the operator re-sends it by hand. */
export const REPORT_MAX_EVENT_AGE = Duration.hours(1);
/** The only DynamoDB action of lambda/report/read.ts, on the table itself. */
export const REPORT_TABLE_ACTIONS = ['dynamodb:Query'] as const;

export interface DailyReportProps {
  readonly deploymentName: string;
  /** The poller's bundled config (tokens pointing at their SSM parameters): the report reads the same file. */
  readonly lambdaConfig: AlertsConfig;
  /** `report.at`, "HH:MM" in `timeZone`. */
  readonly at: string;
  /** The config's IANA time zone. */
  readonly timeZone: string;
  readonly table: dynamodb.ITable;
  /** The sender address (`email.from` without its display name) and the report's recipients. */
  readonly from: string;
  readonly recipients: readonly string[];
  /** Environment variables (RUNTIME_ENV names, Powertools settings). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly retainLogs: boolean;
  readonly opsTopic: sns.ITopic;
}

/** The cron fields of "HH:MM": minute and hour, every day. */
export function dailyCron(at: string): { minute: string; hour: string } {
  const match = /^(\d{2}):(\d{2})$/.exec(at);
  if (!match) throw new Error(`report.at: "${at}" is not a time like "09:00"`);
  return { minute: String(Number(match[2])), hour: String(Number(match[1])) };
}

export class DailyReport extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly schedule: PollSchedule;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DailyReportProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'qrmenu-alerts daily report: its log group, Query on the state table, SES as the sender only',
    });
    this.logGroup.grantWrite(this.role);
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: [...REPORT_TABLE_ACTIONS],
      resourceArns: [props.table.tableArn],
    });
    grantSendEmail(this.role, this, props.from, props.recipients);

    const configFile = writeBundledConfig(props.lambdaConfig);
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      description: "Sends the manager's daily report: calls per hour, response times, unanswered calls",
      entry: REPORT_ENTRY,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: POLLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: REPORT_MEMORY_MB,
      timeout: REPORT_TIMEOUT,
      // Not retried by Lambda either: a retry could send the report twice; the alarm tells the operator.
      retryAttempts: 0,
      maxEventAge: REPORT_MAX_EVENT_AGE,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        ...POLLER_BUNDLING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            copyCommand(configFile, join(outputDir, BUNDLED_CONFIG_FILE)),
          ],
        },
      },
    });

    this.schedule = new PollSchedule(this, 'Schedule', {
      fn: this.fn,
      description: `Sends the daily report of qrmenu-alerts-${props.deploymentName} at ${props.at} ${props.timeZone}`,
      schedule: scheduler.ScheduleExpression.cron({ ...dailyCron(props.at), timeZone: TimeZone.of(props.timeZone) }),
      maxEventAge: REPORT_MAX_EVENT_AGE,
    });

    const action = new actions.SnsAction(props.opsTopic);
    const alarm = (what: string, description: string, metric: cloudwatch.IMetric) => {
      const created = new cloudwatch.Alarm(this, what, {
        alarmName: alarmName(props.deploymentName, what),
        alarmDescription: description,
        metric,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };
    const fiveMinutes = Duration.minutes(5);
    this.alarms = [
      alarm(
        'report-errors',
        'The daily report failed (DynamoDB, SES, or the config): see its logs; send the day again with {"day":"YYYY-MM-DD"} (docs/DEPLOY.md).',
        this.fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      ),
      alarm(
        'report-dlq',
        'EventBridge Scheduler could not invoke the daily report (see the message in its dead-letter queue for the reason).',
        this.schedule.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: 'Maximum',
        }),
      ),
    ];
  }
}
