/**
 * The qrmenu-alerts stack: everything one `cdk deploy` puts into a restaurant's AWS account,
 * derived from one validated deployment config (infra/config.ts):
 * state table, poller Lambda (+ log group), its one-minute schedule (+ dead-letter queue), where
 * each token lives (SSM parameters the operator puts), one KMS key for both topics, the alerts
 * topic with its SMS and extra subscriptions, the optional SES sender identity and SMS account defaults, the ops topic with the operator's e-mails,
 * alarms, dashboard, the manager's daily report when the config asks for one (its own Lambda,
 * schedule and alarms: constructs/daily-report.ts), and outputs that tell the operator what to do next.
 * This file wires the constructs together and grants the poller exactly what it uses.
 */
import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { sourceName, usesTelegram } from '../lambda/config/schema';
import { putTokenCommand, storeOf } from '../lambda/config/tokens';
import { RUNTIME_ENV } from '../lambda/config/runtime';
import { shardCount } from '../lambda/config/shards';
import { METRICS_PER_SOURCE_ENV, METRICS_SERVICE } from '../lambda/domain/metrics';
import { lambdaConfigOf, reservedConcurrencyOf, senderAddress, type DeploymentConfig } from './config/deployment';
import { PollerAlarms } from './constructs/alarms';
import { DailyReport } from './constructs/daily-report';
import { AlertSubscriptions } from './constructs/alert-subscriptions';
import { PollerDashboard } from './constructs/dashboard';
import { DeploymentKey } from './constructs/deployment-key';
import { EncryptedTopic } from './constructs/encrypted-topic';
import { PollSchedule } from './constructs/poll-schedule';
import { Poller } from './constructs/poller';
import { PollerMetrics } from './constructs/poller-metrics';
import { grantSendEmail, SesSenderIdentity } from './constructs/ses-sender';
import { SmsSettings } from './constructs/sms-settings';
import { SourceTokens } from './constructs/source-secrets';
import { StateTable } from './constructs/state-table';
import { alarmNamePrefix, logicalIdPart, resourcePrefix } from './config/names';

export interface QrmenuAlertsStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** SNS's default SMS spend limit of a new account (USD): the alarm's default base. */
export const DEFAULT_SMS_SPEND_LIMIT_USD = 1;

export class QrmenuAlertsStack extends Stack {
  readonly stateTable: StateTable;
  readonly poller: Poller;
  readonly schedule: PollSchedule;
  /** Where each token lives (SSM parameters the operator puts after the deploy). */
  readonly tokens: SourceTokens;
  /** The one KMS customer managed key of the deployment (both topics). */
  readonly key: DeploymentKey;
  readonly alertsTopic: EncryptedTopic;
  readonly opsTopic: EncryptedTopic;
  readonly subscriptions: AlertSubscriptions;
  readonly alarms: PollerAlarms;
  readonly dashboard?: PollerDashboard;
  /** The manager's daily report, when the config has `report`. */
  readonly report?: DailyReport;

  constructor(scope: Construct, id: string, props: QrmenuAlertsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { aws } = config;
    const prefix = resourcePrefix(config.name);
    const metrics = new PollerMetrics(config.name);
    const sources = config.sources.map((s) => ({ id: s.id, name: sourceName(s) }));
    const logRetention = aws.logRetentionDays as logs.RetentionDays;
    Tags.of(this).add('app', 'qrmenu-alerts');
    Tags.of(this).add('qrmenu-alerts:deployment', config.name);

    this.stateTable = new StateTable(this, 'State', { retain: aws.retainData });
    this.tokens = new SourceTokens(this, 'Tokens', {
      deploymentName: config.name,
      sources: config.sources,
      telegramBot: usesTelegram(config),
      ...(config.telegram ? { botToken: config.telegram.token } : {}),
    });
    this.key = new DeploymentKey(this, 'TopicKey', {
      description: `Encrypts the SNS topics of ${prefix}: guest events (alerts) and operator notices and alarms (ops)`,
    });
    this.alertsTopic = new EncryptedTopic(this, 'Alerts', { key: this.key });
    this.opsTopic = new EncryptedTopic(this, 'Ops', {
      key: this.key,
      displayName: 'QR-menu alerts: operations',
      allowAlarmsWithPrefix: alarmNamePrefix(config.name),
    });
    this.subscriptions = new AlertSubscriptions(this, 'AlertSubscriptions', {
      topic: this.alertsTopic.topic,
      config,
      extra: aws.subscriptions,
    });
    for (const address of aws.ops.emails)
      this.opsTopic.topic.addSubscription(new subscriptions.EmailSubscription(address));

    this.poller = new Poller(this, 'Poller', {
      lambdaConfig: lambdaConfigOf(config, (sourceId) => this.tokens.refOf(sourceId), this.tokens.bot),
      environment: {
        [RUNTIME_ENV.stateTable]: this.stateTable.tableName,
        [RUNTIME_ENV.alertsTopicArn]: this.alertsTopic.topicArn,
        [RUNTIME_ENV.opsTopicArn]: this.opsTopic.topicArn,
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: metrics.namespace,
        // The dashboard's graphs need its names per source (each series 0.30 USD/month): only when it is on.
        ...(aws.dashboard ? { [METRICS_PER_SOURCE_ENV]: 'true' } : {}),
      },
      reservedConcurrency: reservedConcurrencyOf(config),
      logRetention,
      retainLogs: aws.retainData,
      vpc: aws.vpc,
    });
    const fn = this.poller.fn;
    this.stateTable.grantStateAccess(fn);
    this.tokens.grantRead(fn);
    this.alertsTopic.grantPublish(fn);
    this.opsTopic.grantPublish(fn);
    const emailRecipients = [...new Set(config.routes.flatMap((r) => r.email.map((a) => a.toLowerCase())))];
    const from = config.email ? senderAddress(config.email.from) : undefined;
    if (from !== undefined && emailRecipients.length > 0) grantSendEmail(fn, this, from, emailRecipients);

    if (aws.sesIdentity) new SesSenderIdentity(this, 'SesIdentity', { identity: aws.sesIdentity });
    if (aws.sms.senderId !== undefined || aws.sms.smsType !== undefined) {
      new SmsSettings(this, 'SmsSettings', { senderId: aws.sms.senderId, smsType: aws.sms.smsType, logRetention });
    }

    this.schedule = new PollSchedule(this, 'PollSchedule', {
      fn,
      description: `Runs the ${prefix} poller once a minute`,
      shards: shardCount(config),
    });

    const hasSms = config.routes.some((r) => r.sms.length > 0);
    const smsLimit =
      aws.sms.monthlySpendLimitUsd === undefined
        ? hasSms
          ? DEFAULT_SMS_SPEND_LIMIT_USD
          : null
        : aws.sms.monthlySpendLimitUsd;
    this.alarms = new PollerAlarms(this, 'Alarms', {
      deploymentName: config.name,
      metrics,
      fn,
      deadLetterQueue: this.schedule.deadLetterQueue,
      opsTopic: this.opsTopic.topic,
      smsMonthlySpendLimitUsd: smsLimit,
    });
    if (aws.dashboard) {
      this.dashboard = new PollerDashboard(this, 'Dashboard', {
        dashboardName: prefix,
        title: `QR-menu alerts — ${config.name}`,
        sources,
        metrics,
        fn,
        alarms: this.alarms.alarms,
      });
    }

    if (config.report && from !== undefined) {
      this.report = new DailyReport(this, 'DailyReport', {
        deploymentName: config.name,
        lambdaConfig: lambdaConfigOf(config, (sourceId) => this.tokens.refOf(sourceId)),
        at: config.report.at,
        timeZone: config.timeZone,
        table: this.stateTable.table,
        from,
        recipients: config.report.to.map((a) => a.toLowerCase()),
        environment: { [RUNTIME_ENV.stateTable]: this.stateTable.tableName, POWERTOOLS_SERVICE_NAME: METRICS_SERVICE },
        logRetention,
        retainLogs: aws.retainData,
        opsTopic: this.opsTopic.topic,
      });
      new CfnOutput(this, 'ReportFunctionName', {
        value: this.report.fn.functionName,
        description: `The daily report Lambda (sent at ${config.report.at} ${config.timeZone}); send a day again: aws lambda invoke --function-name <this name> --payload '{"day":"YYYY-MM-DD"}' --cli-binary-format raw-in-base64-out out.json`,
      });
    }

    this.outputs(config);
  }

  private outputs(config: DeploymentConfig): void {
    new CfnOutput(this, 'StateTableName', {
      value: this.stateTable.tableName,
      description: 'DynamoDB table with the poller state',
    });
    new CfnOutput(this, 'AlertsTopicArn', {
      value: this.alertsTopic.topicArn,
      description: 'SNS topic every guest event is published to',
    });
    new CfnOutput(this, 'OpsTopicArn', {
      value: this.opsTopic.topicArn,
      description: 'SNS topic of alarms and operator notices',
    });
    new CfnOutput(this, 'PollerFunctionName', { value: this.poller.fn.functionName, description: 'The poller Lambda' });
    new CfnOutput(this, 'PollerLogGroup', {
      value: this.poller.logGroup.logGroupName,
      description: 'The poller logs: aws logs tail <this name> --follow',
    });
    const used = new Set<string>();
    for (const { sourceId, ref } of this.tokens.tokens) {
      let key = `TokenParameter${logicalIdPart(sourceId)}`;
      while (used.has(key)) key += 'X';
      used.add(key);
      new CfnOutput(this, key, {
        value: storeOf(ref).name,
        description: `Put the token of source "${sourceId}" (read -rs T; printf '%s' "$T" > token.txt, then): ${putTokenCommand(ref, 'token.txt')}`,
      });
    }
    if (this.tokens.bot) {
      new CfnOutput(this, 'TelegramBotParameter', {
        value: storeOf(this.tokens.bot).name,
        description: `Put the bot token from BotFather: ${putTokenCommand(this.tokens.bot, 'bot-token.txt')}`,
      });
    }
    if (this.dashboard) {
      const region = this.region;
      new CfnOutput(this, 'DashboardUrl', {
        value: `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${resourcePrefix(config.name)}`,
        description: 'CloudWatch dashboard',
      });
    }
  }
}
