/**
 * The daily report in the stack (infra/constructs/daily-report.ts), read from the synthesized
 * template: present only when the config has `report`; its function (Node.js 24, arm64, no Lambda
 * retries), its own log group, the cron at `report.at` in the config's time zone with no retries
 * and a dead-letter queue, least privilege (Query on the table only, read from the report's own
 * DynamoDB commands; SES as the sender to the report's recipients), its two alarms to the ops
 * topic, cdk-nag clean. And the bundle itself: built by esbuild like the poller's, it imports in
 * plain Node and, invoked there against DynamoDB Local and the SES emulator, sends the report.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLED_CONFIG_FILE, RUNTIME_ENV } from '../../lambda/config/runtime';
import { EVENT_STATUS } from '../../lambda/domain/record';
import { localDay } from '../../lambda/report/day';
import { dailyCron, REPORT_TABLE_ACTIONS } from '../../infra/constructs/daily-report';
import { freshTable } from '../support/harness';
import { putRecords } from '../integration/report-records';
import {
  acknowledgements,
  asArray,
  SAMPLE_CONFIG,
  statementsOfRole,
  synthesize,
  wildcardGrants,
  type Synthesized,
  dynamoDbActions,
  dynamoDbSources,
} from './support';

const run = promisify(execFile);
const emulators = inject('emulators');

const WITH_REPORT = {
  ...SAMPLE_CONFIG,
  timeZone: 'Europe/London',
  report: { to: ['Owner@Pizza.example', 'boss@owner.example'], at: '08:30' },
};

let plain: Synthesized;
let withReport: Synthesized;
let bundled: Synthesized;

beforeAll(() => {
  plain = synthesize(SAMPLE_CONFIG, { bundle: false });
  withReport = synthesize(WITH_REPORT, { bundle: false });
  bundled = synthesize({ ...WITH_REPORT, name: 'bundled' }, { bundle: true });
}, 240_000);

const resourcesOf = (s: Synthesized, type: string) => Object.entries(s.template.findResources(type));
const reportFunction = (s: Synthesized) => {
  const found = resourcesOf(s, 'AWS::Lambda::Function').find(([id]) => id.startsWith('DailyReportFunction'));
  if (!found) throw new Error('no report function');
  return found;
};

describe('the report is there only when the config asks for it', () => {
  it('adds no function, schedule or alarm without `report`', () => {
    expect(plain.stack.report).toBeUndefined();
    expect(resourcesOf(plain, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('DailyReport'))).toEqual([]);
    expect(resourcesOf(plain, 'AWS::Scheduler::Schedule')).toHaveLength(1);
    expect(plain.template.findOutputs('ReportFunctionName')).toEqual({});
  });

  it('adds its function, schedule, alarms and an output with it', () => {
    expect(withReport.stack.report).toBeDefined();
    expect(resourcesOf(withReport, 'AWS::Scheduler::Schedule')).toHaveLength(2);
    expect(Object.keys(withReport.template.findOutputs('ReportFunctionName'))).toHaveLength(1);
  });
});

describe('the report function', () => {
  it('runs Node.js 24 on arm64 with 256 MB and 2 minutes, its own role and log group', () => {
    const [, fn] = reportFunction(withReport);
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 120,
      Handler: 'index.handler',
    });
    expect(JSON.stringify(fn.Properties.Role)).toContain('DailyReportRole');
    expect(JSON.stringify(fn.Properties.LoggingConfig)).toContain('DailyReportLogs');
    const [, logGroup] = resourcesOf(withReport, 'AWS::Logs::LogGroup').find(([id]) =>
      id.startsWith('DailyReportLogs'),
    )!;
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it('reads the state table named in its environment, with source maps', () => {
    const [, fn] = reportFunction(withReport);
    const env = fn.Properties.Environment.Variables;
    expect(JSON.stringify(env[RUNTIME_ENV.stateTable])).toMatch(/StateTable/);
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(env).not.toHaveProperty(RUNTIME_ENV.alertsTopicArn);
  });

  it("turns Lambda's own retries off: a retry could send the report twice", () => {
    const [id] = reportFunction(withReport);
    const config = resourcesOf(withReport, 'AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => c.Properties.FunctionName.Ref === id,
    );
    expect(config?.[1].Properties).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
  });
});

describe('the schedule', () => {
  it('runs at report.at in the config’s time zone, once, into a dead-letter queue when it cannot', () => {
    const [, schedule] = resourcesOf(withReport, 'AWS::Scheduler::Schedule').find(([id]) =>
      id.startsWith('DailyReportSchedule'),
    )!;
    expect(schedule.Properties.ScheduleExpression).toBe('cron(30 8 * * ? *)');
    expect(schedule.Properties.ScheduleExpressionTimezone).toBe('Europe/London');
    expect(schedule.Properties.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
    expect(JSON.stringify(schedule.Properties.Target.Arn)).toContain('DailyReportFunction');
    expect(JSON.stringify(schedule.Properties.Target.DeadLetterConfig.Arn)).toContain(
      'DailyReportScheduleDeadLetterQueue',
    );
  });

  it('turns "HH:MM" into the cron fields', () => {
    expect(dailyCron('09:00')).toEqual({ minute: '0', hour: '9' });
    expect(dailyCron('23:05')).toEqual({ minute: '5', hour: '23' });
    expect(() => dailyCron('9am')).toThrow(/report\.at/);
  });
});

const LAMBDA_DIR = fileURLToPath(new URL('../../lambda/', import.meta.url));
/** The report's sources that talk to DynamoDB. */
const REPORT_DYNAMO_SOURCES = dynamoDbSources(readdirSync(join(LAMBDA_DIR, 'report')).map((file) => `report/${file}`));

describe('least privilege', () => {
  const statements = () => statementsOfRole(withReport.template, 'DailyReportRole');

  it('grants the report Query on the table itself, which is all its DynamoDB code calls', () => {
    const dynamo = statements().filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap((s) => asArray(s.Action))).toEqual([...REPORT_TABLE_ACTIONS]);
    expect(dynamo.flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)))).toEqual([
      expect.stringMatching(/^\{"Fn::GetAtt":\["StateTable[0-9A-F]+","Arn"\]\}$/),
    ]);
    expect(REPORT_DYNAMO_SOURCES.length).toBeGreaterThan(0);
    expect(dynamoDbActions(REPORT_DYNAMO_SOURCES)).toEqual([...REPORT_TABLE_ACTIONS]);
    for (const text of REPORT_DYNAMO_SOURCES) expect(text).not.toMatch(/IndexName/);
  });

  it('lets it send e-mail only as the sender, to the report’s recipients (SES sandbox)', () => {
    const ses = statements().find((s) => asArray(s.Action).includes('ses:SendEmail'));
    const identities = asArray(ses?.Resource).map((r) => JSON.stringify(r).match(/:identity\/([^"]+)"/)?.[1]);
    expect(identities.sort()).toEqual([
      'alerts@pizza.example',
      'boss@owner.example',
      'owner.example',
      'owner@pizza.example',
      'pizza.example',
    ]);
  });

  it('grants nothing else: its logs, no wildcard, no managed policy, no secret, no topic', () => {
    const actions = statements().flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => !/^(dynamodb:Query|ses:Send(Raw)?Email|logs:)/.test(a))).toEqual([]);
    expect(wildcardGrants(statements())).toEqual([]);
    const [, role] = resourcesOf(withReport, 'AWS::IAM::Role').find(([id]) => id.startsWith('DailyReportRole'))!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const schedulerWildcards = wildcardGrants(statementsOfRole(withReport.template, 'DailyReportScheduleRole'));
    expect(schedulerWildcards).toEqual([
      {
        resource: expect.stringMatching(/DailyReportFunction[0-9A-F]+","Arn"\]\},":\*"\]\]\}$/),
        actions: ['lambda:InvokeFunction'],
      },
    ]);
  });
});

describe('the alarms', () => {
  it('page the operator on report errors and on an undeliverable schedule, and when they clear', () => {
    const alarms = resourcesOf(withReport, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const errors = alarms.find((a) => a.AlarmName === 'qrmenu-alerts-sample.report-errors');
    const dlq = alarms.find((a) => a.AlarmName === 'qrmenu-alerts-sample.report-dlq');
    expect(errors).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, Statistic: 'Sum' });
    expect(JSON.stringify(errors.Dimensions)).toContain('DailyReportFunction');
    expect(dlq).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    for (const alarm of [errors, dlq]) {
      expect(JSON.stringify(alarm.AlarmActions)).toContain('OpsTopic');
      expect(JSON.stringify(alarm.OKActions)).toContain('OpsTopic');
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });
});

describe('cdk-nag (AWS Solutions)', () => {
  it('reports no unacknowledged finding with the report, and acknowledges only the known rules', () => {
    expect(withReport.nag.validateScope(withReport.app).violations).toEqual([]);
    const acks = acknowledgements(withReport.app).filter((a) => a.path.includes('/DailyReport/'));
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(40);
    expect([...new Set(acks.map((a) => a.id.replace(/<[^>]+>/, '<fn>')))].sort()).toEqual([
      'AwsSolutions-IAM5[Resource::<fn>:*]',
      'AwsSolutions-SQS3',
    ]);
  });
});

describe("the report's bundle", () => {
  const assetDir = () => {
    const [, fn] = reportFunction(bundled);
    return join(bundled.outdir, `asset.${(fn.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
  };

  it('holds index.mjs and the same alerts-config.json as the poller', () => {
    const dir = assetDir();
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    const { config } = JSON.parse(readFileSync(join(dir, BUNDLED_CONFIG_FILE), 'utf8'));
    expect(config.report).toEqual({ to: ['Owner@Pizza.example', 'boss@owner.example'], at: '08:30', keepDays: 31 });
    expect(config.sources[0].token).toEqual({ ssm: '/qrmenu-alerts/bundled/lenina/token' });
    expect(config).not.toHaveProperty('aws');
    const size = statSync(join(dir, 'index.mjs')).size;
    expect(size).toBeLessThan(3 * 1_048_576);
    console.log(`report bundle: index.mjs ${(size / 1024).toFixed(1)} KiB`);
  });

  it('imported in plain Node and invoked against DynamoDB Local and the SES emulator, sends the report', {
    timeout: 60_000,
  }, async () => {
    const client = new DynamoDBClient({ maxAttempts: 2 });
    const table = await freshTable();
    const day = localDay('2026-03-12', 'Europe/London');
    const at = day.start + 13 * 3_600_000;
    const marker = randomUUID().slice(0, 8);
    await putRecords(client, table, [
      {
        sourceId: 'lenina',
        recordId: `0x${marker}`,
        hash: `0x${marker}`,
        status: EVENT_STATUS.delivered,
        code: 'waiter_call',
        table: `T-${marker}`,
        firstSeenAt: at,
        needsAck: true,
        escalatedAt: [at + 120_000],
        sentAt: { sns: at + 500 },
      },
    ]);
    client.destroy();
    const url = pathToFileURL(join(assetDir(), 'index.mjs')).href;
    const script =
      'import(process.argv[1]).then(async (m) => console.log(JSON.stringify(await m.handler({ day: "2026-03-12" }))))';
    const { stdout } = await run(process.execPath, ['--enable-source-maps', '-e', script, url], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
        AWS_ENDPOINT_URL_SES: emulators.ses,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        [RUNTIME_ENV.stateTable]: table,
      },
    });
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ day: '2026-03-12', recipients: 2, totals: { calls: 1, unanswered: 1 } });
    const store = (await (await fetch(`${emulators.ses}/store`)).json()) as {
      emails: { subject: string; body: { html?: string } }[];
    };
    const email = store.emails.find((e) => e.body.html?.includes(`T-${marker}`));
    expect(email?.subject).toContain('Отчёт за 12 марта: 1 вызов, без ответа 1');
  });
});
