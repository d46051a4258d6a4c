/**
 * The stack, read from its synthesized template: each resource's important properties, the SMS
 * filter policies derived from the routes, the alarms' metrics, the poller's IAM policy (no
 * wildcard resource except where AWS allows none other), and cdk-nag's verdict.
 * Two configs are synthesized once each: the sample (a small restaurant; without bundling — the
 * bundle has its own test file) and the full one (every `aws` option on).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { smsSubscriptions } from '../../lambda/core/routing';
import { RUNTIME_ENV } from '../../lambda/config/runtime';
import {
  ATTENTION_ALARM_THRESHOLD,
  ATTENTION_METRIC,
  METRIC,
  METRICS_PER_SOURCE_ENV,
  METRICS_SERVICE,
} from '../../lambda/domain/metrics';
import { TABLE_SCHEMA } from '../../lambda/state/keys';
import { parseDeploymentConfig } from '../../infra/config/deployment';
import { WHO_NEEDS_ATTENTION_QUERY } from '../../infra/constructs/alarms';
import { DUE_INDEX_ACTIONS, STATE_TABLE_ACTIONS } from '../../infra/constructs/state-table';
import {
  acknowledgements,
  asArray,
  cfnSchemaViolations,
  FULL_CONFIG,
  SAMPLE_CONFIG,
  resourceText,
  statementsOfRole,
  synthesize,
  wildcardGrants,
  type Synthesized,
  dynamoDbActions,
  dynamoDbSources,
} from './support';

let sample: Synthesized;
let full: Synthesized;

beforeAll(() => {
  sample = synthesize(SAMPLE_CONFIG, { bundle: false });
  full = synthesize(FULL_CONFIG, { bundle: false });
}, 120_000);

const alarmNamed = (s: Synthesized, name: string) => {
  const found = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).find(
    (a) => a.Properties.AlarmName === name,
  );
  if (!found) throw new Error(`no alarm named ${name}`);
  return found.Properties;
};
const LAMBDA_DIR = fileURLToPath(new URL('../../lambda/', import.meta.url));
/**
 * The poller's sources that talk to DynamoDB (use the client of lambda/state/dynamodb.ts): today
 * lambda/state/store.ts. The daily report (lambda/report/) has its own function and grant,
 * checked in report.test.ts. Nothing else may reach DynamoDB: no SDK client in lambda/.
 */
const DYNAMO_SOURCES = dynamoDbSources(
  readdirSync(LAMBDA_DIR, { recursive: true, encoding: 'utf8' }).filter((file) => !file.startsWith('report/')),
);
/** Every `db.query(` names the due index (the grant gives Query on the index only). */
const storeQueriesOnlyTheDueIndex = (): boolean =>
  DYNAMO_SOURCES.flatMap((text) => text.split('db.query(').slice(1)).every((rest) =>
    /^[^;]*?IndexName: TABLE_SCHEMA\.dueIndex\.name/s.test(rest),
  );

describe('the state table', () => {
  it('has the key schema, TTL attribute and sparse due index of TABLE_SCHEMA', () => {
    sample.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'duePk', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'N' },
      ]),
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE_SCHEMA.dueIndex.name,
          KeySchema: [
            { AttributeName: TABLE_SCHEMA.dueIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_SCHEMA.dueIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('is on-demand, with point-in-time recovery, encrypted with the AWS-owned key', () => {
    sample.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: false }, // false = AWS-owned key (encryption at rest is always on)
    });
  });

  it('is retained by default, and deleted with the stack when retainData is false', () => {
    sample.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    sample.template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    full.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });
});

describe('the poller function', () => {
  it('runs Node.js 24 on arm64 with 128 MB and a 90 s timeout', () => {
    sample.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 128,
      Timeout: 90,
      Handler: 'index.handler',
    });
  });

  it("turns Lambda's own asynchronous retries off: 0 retries, invocations older than 60 s dropped", () => {
    sample.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    sample.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^PollerFunction') },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('gets the table, both topics, the metrics namespace, source maps and its heap limits through its environment', () => {
    sample.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [RUNTIME_ENV.stateTable]: { Ref: Match.stringLikeRegexp('^StateTable') },
          [RUNTIME_ENV.alertsTopicArn]: { Ref: Match.stringLikeRegexp('^AlertsTopic') },
          [RUNTIME_ENV.opsTopicArn]: { Ref: Match.stringLikeRegexp('^OpsTopic') },
          POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
          POWERTOOLS_METRICS_NAMESPACE: 'QrmenuAlerts/sample',
          NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=1 --max-old-space-size=64',
        },
      },
    });
  });

  it('reserves 2 concurrent runs by default, none when reservedConcurrency is null', () => {
    sample.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 2 });
    const [fullFn] = Object.values(
      full.template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'index.handler', Runtime: 'nodejs24.x', MemorySize: 128 },
      }),
    );
    expect(fullFn?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('logs to its own log group with the configured retention', () => {
    sample.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^PollerLogs') } },
    });
    sample.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    full.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('is placed in the configured subnets and security groups', () => {
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
    });
    sample.template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
  });
});

describe('the schedule', () => {
  it('invokes the poller every minute, without retries, dropping invocations older than 60 s into a DLQ', () => {
    sample.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PollerFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PollScheduleDeadLetterQueue'), 'Arn'] } },
      },
    });
  });

  it('has an encrypted dead-letter queue that refuses requests without TLS', () => {
    sample.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    sample.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('the tokens', () => {
  it('creates no secret and no parameter: each token is an SSM SecureString the operator puts (CloudFormation cannot)', () => {
    for (const s of [sample, full]) {
      s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      s.template.resourceCountIs('AWS::SSM::Parameter', 0);
    }
    expect(full.stack.poller.lambdaConfig.sources.map((source) => source.token)).toEqual([
      { ssm: '/qrmenu-alerts/full/main-hall/token' },
      { ssm: '/qrmenu-alerts/full/terrace/token' },
    ]);
  });

  it('outputs each parameter name with the command that puts the token from a file', () => {
    sample.template.hasOutput('TokenParameterLenina', {
      Value: '/qrmenu-alerts/sample/lenina/token',
      Description: Match.stringLikeRegexp(
        'aws ssm put-parameter --name /qrmenu-alerts/sample/lenina/token --type SecureString --overwrite --value file://token.txt',
      ),
    });
  });

  it("lets the poller read its deployment's parameter path, and nothing from Secrets Manager", () => {
    const statements = statementsOfRole(sample.template, 'PollerRole');
    const reads = statements.filter((st) => asArray(st.Action).includes('ssm:GetParameter'));
    expect(reads).toHaveLength(1);
    expect(asArray(reads[0]!.Action)).toEqual(['ssm:GetParameter']);
    expect(asArray(reads[0]!.Resource).map(resourceText)).toEqual([
      expect.stringMatching(/:ssm:.*:parameter\/qrmenu-alerts\/sample\/\*"\]\]\}$/),
    ]);
    expect(JSON.stringify(statements)).not.toContain('secretsmanager:');
    expect(JSON.stringify(statements)).not.toContain('kms:Decrypt"],"Resource":"*');
  });

  it('keeps a token the config names elsewhere (a secret, another parameter), granting exactly that', () => {
    const own = synthesize(
      {
        ...SAMPLE_CONFIG,
        name: 'own',
        sources: [
          { id: 'a', url: 'https://203.0.113.10:8443', token: { secret: 'shared/qrmenu-a' } },
          { id: 'b', url: 'https://203.0.113.11:8443', token: { ssm: '/elsewhere/b' } },
        ],
      },
      { bundle: false },
    );
    expect(own.stack.poller.lambdaConfig.sources.map((source) => source.token)).toEqual([
      { secret: 'shared/qrmenu-a' },
      { ssm: '/elsewhere/b' },
    ]);
    const statements = statementsOfRole(own.template, 'PollerRole');
    const resourcesOf = (action: string) =>
      statements
        .filter((st) => asArray(st.Action).includes(action))
        .flatMap((st) => asArray(st.Resource).map(resourceText));
    expect(resourcesOf('ssm:GetParameter')).toEqual([expect.stringMatching(/parameter\/elsewhere\/b"\]\]\}$/)]);
    expect(resourcesOf('secretsmanager:GetSecretValue')).toEqual([
      expect.stringMatching(/:secret:shared\/qrmenu-a-\?\?\?\?\?\?"\]\]\}$/),
    ]);
  });
});

describe('the topics', () => {
  it('encrypts both topics with one rotating customer managed key: one key a deployment', () => {
    sample.template.resourceCountIs('AWS::SNS::Topic', 2);
    sample.template.resourceCountIs('AWS::KMS::Key', 1);
    full.template.resourceCountIs('AWS::KMS::Key', 1);
    sample.template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicKey'), 'Arn'] },
    });
    sample.template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets no service but CloudWatch (for the alarms) use the key besides the account', () => {
    const [key] = Object.values(sample.template.findResources('AWS::KMS::Key'));
    const services = ((key?.Properties.KeyPolicy.Statement ?? []) as { Principal?: { Service?: string } }[])
      .map((statement) => statement.Principal?.Service)
      .filter((service) => service !== undefined);
    expect(services).toEqual(['cloudwatch.amazonaws.com']);
  });

  it('gives the alerts topic no display name, which SNS would put in front of every SMS', () => {
    const alerts = sample.stack.getLogicalId(sample.stack.alertsTopic.topic.node.defaultChild as CfnElement);
    expect(sample.template.toJSON().Resources[alerts].Properties.DisplayName).toBeUndefined();
  });

  it('refuses requests without TLS on both topics', () => {
    const policies = Object.values(sample.template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it("lets only this deployment's alarms publish to the ops topic and use its key", () => {
    sample.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': Match.objectLike({
                  'Fn::Join': ['', Match.arrayWith([':alarm:qrmenu-alerts-sample.*'])],
                }),
              },
            },
          }),
        ]),
      },
    });
    sample.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('subscribes the operator e-mails to the ops topic', () => {
    sample.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'it@pizza.example',
      TopicArn: { Ref: Match.stringLikeRegexp('^OpsTopic') },
    });
  });
});

describe('the SMS subscriptions', () => {
  const smsOf = (s: Synthesized) =>
    Object.values(s.template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'sms' } })).map(
      (r) => r.Properties,
    );

  it('gives the waiter of tables "1-10" the one-key policy on the names of its routes', () => {
    const waiter = smsOf(sample).find((p) => p.Endpoint === '+79161234567');
    expect(waiter).toMatchObject({
      TopicArn: { Ref: expect.stringMatching(/^AlertsTopic/) },
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: { route: ['waiter-hall'] },
    });
  });

  it('gives a route over a zone and a named table no $or: the poller matches tables, SNS matches route names', () => {
    const waiter = smsOf(sample).find((p) => p.Endpoint === '+79167654321');
    expect(waiter?.FilterPolicy).toEqual({ route: ['waiter-terrace'] });
    for (const policy of smsOf(sample).map((p) => p.FilterPolicy)) expect(JSON.stringify(policy)).not.toContain('$or');
  });

  it('creates exactly one subscription per phone, with the policy smsSubscriptions derives', () => {
    const expected = smsSubscriptions(parseDeploymentConfig(SAMPLE_CONFIG));
    const actual = smsOf(sample);
    expect(actual).toHaveLength(expected.length);
    for (const subscription of expected) {
      const found = actual.find((p) => p.Endpoint === subscription.phone);
      expect(found?.FilterPolicy).toEqual(subscription.filterPolicy ?? undefined);
    }
  });
});

describe('the extra subscriptions', () => {
  it('subscribes each listed endpoint, filtered like its route when it names one', () => {
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://hooks.example.com/qrmenu',
      FilterPolicy: Match.absent(),
    });
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      Endpoint: 'arn:aws:sqs:eu-central-1:123456789012:forwarder',
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: { route: ['waiters'] },
    });
  });

  it('lets SNS invoke a subscribed Lambda function, from this topic only', () => {
    full.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: 'arn:aws:lambda:eu-central-1:123456789012:function:telegram',
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: Match.stringLikeRegexp('^AlertsTopic') },
    });
  });
});

describe('SES and SMS settings', () => {
  it('creates the domain identity with DKIM records in the hosted zone', () => {
    full.template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
    full.template.resourceCountIs('AWS::Route53::RecordSet', 3);
  });

  it('creates no SES identity unless asked', () => {
    sample.template.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });

  it("sets the account's SMS sender ID and type only when configured", () => {
    full.template.hasResourceProperties('Custom::AWS', {
      Create: Match.serializedJson(
        Match.objectLike({
          action: 'SetSMSAttributes',
          parameters: { attributes: { DefaultSenderID: 'Pizza', DefaultSMSType: 'Transactional' } },
        }),
      ),
    });
    sample.template.resourceCountIs('Custom::AWS', 0);
  });
});

describe('the alarms', () => {
  it('pages on NeedsAttention of the whole deployment (dimension service only) at its threshold', () => {
    expect(alarmNamed(sample, 'qrmenu-alerts-sample.needs-attention')).toMatchObject({
      Namespace: 'QrmenuAlerts/sample',
      MetricName: ATTENTION_METRIC,
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: ATTENTION_ALARM_THRESHOLD,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^OpsTopic/) }],
      OKActions: [{ Ref: expect.stringMatching(/^OpsTopic/) }],
    });
  });

  it('tells the operator where to find the source and the problem: the Logs Insights query', () => {
    const description = alarmNamed(full, 'qrmenu-alerts-full.needs-attention').AlarmDescription as string;
    expect(description).toContain(WHO_NEEDS_ATTENTION_QUERY);
    expect(description).toContain('PollerLogGroup');
    expect(description).toMatch(/not polled for 5 minutes.*token rejected or unreadable/);
    expect(description.length).toBeLessThanOrEqual(1024);
  });

  it('pages when the poller is not invoked, fails or is throttled: one metric-math alarm over its Lambda metrics', () => {
    const poller = alarmNamed(sample, 'qrmenu-alerts-sample.poller');
    expect(poller).toMatchObject({ Threshold: 1, TreatMissingData: 'breaching' });
    const metrics = poller.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string } };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      'IF(FILL(invocations, 0) < 1, 1, 0) + FILL(errors, 0) + FILL(throttles, 0)',
    );
    expect(
      metrics.flatMap((m) =>
        m.MetricStat ? [`${m.MetricStat.Metric.Namespace} ${m.MetricStat.Metric.MetricName}`] : [],
      ),
    ).toEqual(['AWS/Lambda Invocations', 'AWS/Lambda Errors', 'AWS/Lambda Throttles']);
  });

  it('pages on a non-empty schedule DLQ', () => {
    expect(alarmNamed(sample, 'qrmenu-alerts-sample.schedule-dlq')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
  });

  it("pages at 80 % of the account's SMS spend limit (1 USD by default when there are SMS recipients)", () => {
    expect(alarmNamed(sample, 'qrmenu-alerts-sample.sms-spend')).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'SMSMonthToDateSpentUSD',
      Statistic: 'Maximum',
      Threshold: 0.8,
    });
    expect(alarmNamed(full, 'qrmenu-alerts-full.sms-spend')).toMatchObject({ Threshold: 40 });
  });

  it('sends every alarm to the ops topic; none is per source', () => {
    const alarms = Object.values(full.template.findResources('AWS::CloudWatch::Alarm'));
    // needs-attention, poller, schedule-dlq, sms-spend — whatever the number of sources (2 here)
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(
      ['needs-attention', 'poller', 'schedule-dlq', 'sms-spend'].map((what) => `qrmenu-alerts-full.${what}`),
    );
    for (const alarm of alarms)
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OpsTopic/) }]);
  });
});

describe('the dashboard and outputs', () => {
  it('creates the dashboard with per-source events, deliveries, failures and tick latency', () => {
    const [dashboard] = Object.values(sample.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('qrmenu-alerts-sample');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of [
      METRIC.eventsNew,
      METRIC.delivered,
      METRIC.deliveryFailed,
      METRIC.tickLatency,
      METRIC.authErrors,
    ]) {
      expect(body).toContain(metric);
    }
    full.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  it('has the poller emit per-source metrics only when the dashboard that reads them is on', () => {
    const envOf = (s: Synthesized) =>
      (Object.values(s.template.findResources('AWS::Lambda::Function')).find((f) =>
        JSON.stringify(f.Properties.Environment ?? {}).includes('POWERTOOLS_METRICS_NAMESPACE'),
      )?.Properties.Environment.Variables ?? {}) as Record<string, string>;
    expect(envOf(sample)[METRICS_PER_SOURCE_ENV]).toBe('true');
    expect(envOf(full)[METRICS_PER_SOURCE_ENV]).toBeUndefined();
  });

  it('outputs the table name, topic ARNs and dashboard URL', () => {
    const outputs = sample.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'StateTableName',
        'AlertsTopicArn',
        'OpsTopicArn',
        'DashboardUrl',
        'TokenParameterLenina',
      ]),
    );
    expect(JSON.stringify(outputs.DashboardUrl)).toContain('#dashboards:name=qrmenu-alerts-sample');
  });
});

describe('least privilege', () => {
  it("grants the poller only named resources: no wildcard without a VPC but its deployment's parameter path", () => {
    const statements = statementsOfRole(sample.template, 'PollerRole');
    expect(statements.length).toBeGreaterThan(0);
    expect(wildcardGrants(statements)).toEqual([
      {
        actions: ['ssm:GetParameter'],
        resource: expect.stringMatching(/parameter\/qrmenu-alerts\/sample\/\*"\]\]\}$/),
      },
    ]);
  });

  it('grants SES sending only as the sender (address and domain) and to the routed recipients', () => {
    const ses = statementsOfRole(sample.template, 'PollerRole').find((s) =>
      asArray(s.Action).includes('ses:SendEmail'),
    );
    const identities = asArray(ses?.Resource).map((r) => JSON.stringify(r).match(/:identity\/([^"]+)"/)?.[1]);
    expect(identities.sort()).toEqual([
      'alerts@pizza.example',
      'manager@pizza.example',
      'pizza.example',
      'zal@pizza.example',
    ]);
  });

  it('grants table access on the table and the due index only', () => {
    const dynamo = statementsOfRole(sample.template, 'PollerRole').filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(dynamo.flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)))).toEqual([
      expect.stringMatching(/^\{"Fn::GetAtt":\["StateTable[0-9A-F]+","Arn"\]\}$/),
      expect.stringContaining('/index/due'),
    ]);
  });

  it('grants exactly the DynamoDB actions the store calls: items on the table, Query on the due index', () => {
    const dynamo = statementsOfRole(sample.template, 'PollerRole').filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    const onTable = dynamo.filter((s) => !JSON.stringify(s.Resource).includes('/index/'));
    const onIndex = dynamo.filter((s) => JSON.stringify(s.Resource).includes('/index/due'));
    const actions = (statements: typeof dynamo) => statements.flatMap((s) => asArray(s.Action)).sort();
    expect(actions(onTable)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actions(onIndex)).toEqual(['dynamodb:Query']);
    for (const never of ['GetItem', 'DeleteItem', 'BatchWriteItem', 'ConditionCheckItem', 'Scan', 'TransactWriteItems'])
      expect(actions(dynamo)).not.toContain(`dynamodb:${never}`);
  });

  it("grants what the Lambda's DynamoDB code calls and nothing more (read from its own commands)", () => {
    expect(DYNAMO_SOURCES.length).toBeGreaterThan(0);
    const needed = new Set(dynamoDbActions(DYNAMO_SOURCES));
    const granted = new Set<string>([...STATE_TABLE_ACTIONS, ...DUE_INDEX_ACTIONS]);
    expect([...granted].filter((action) => !needed.has(action))).toEqual([]);
    expect([...needed].filter((action) => !granted.has(action))).toEqual([]);
    expect(storeQueriesOnlyTheDueIndex()).toBe(true);
  });

  // Where AWS allows no other resource than "*":
  //  - the EC2 network-interface actions Lambda needs in a VPC (Describe* has no resource-level
  //    permissions; AWS's own AWSLambdaVPCAccessExecutionRole grants them on "*");
  //  - sns:SetSMSAttributes (account-level, no resource-level permissions), in the SMS-settings role;
  //  - lambda:InvokeFunction on "<poller ARN>:*" in the scheduler's role: the poller's own versions/aliases;
  //  - ssm:GetParameter on the deployment's own parameter path "/qrmenu-alerts/<name>/*" (its tokens).
  it('leaves "*" only where AWS allows no other resource, or at the end of the deployment\'s own path', () => {
    const vpcWildcards = wildcardGrants(statementsOfRole(full.template, 'PollerRole'));
    expect(vpcWildcards).toEqual([
      {
        resource: '*',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
      },
      {
        actions: ['ssm:GetParameter'],
        resource: expect.stringMatching(/:ssm:eu-central-1:123456789012:parameter\/qrmenu-alerts\/full\/\*"\]\]\}$/),
      },
    ]);
    expect(wildcardGrants(statementsOfRole(full.template, 'SmsSettingsRole'))).toEqual([
      { resource: '*', actions: ['sns:SetSMSAttributes'] },
    ]);
    expect(wildcardGrants(statementsOfRole(sample.template, 'PollScheduleRole'))).toEqual([
      {
        resource: expect.stringMatching(/PollerFunction[0-9A-F]+","Arn"\]\},":\*"\]\]\}$/),
        actions: ['lambda:InvokeFunction'],
      },
    ]);
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const s of [sample, full]) {
      for (const role of Object.values(s.template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
  });
});

describe('CloudFormation validation', () => {
  // The CLI test validates the example config's template the same way, as part of `cdk synth`.
  it("passes CDK's CloudFormation schema validation with every aws option on", { timeout: 180_000 }, () => {
    expect(cfnSchemaViolations(full)).toEqual([]);
  });
});

describe('cdk-nag (AWS Solutions)', () => {
  it('reports no unacknowledged finding, for the sample and the full config', () => {
    expect(sample.nag.validateScope(sample.app).violations).toEqual([]);
    expect(full.nag.validateScope(full.app).violations).toEqual([]);
  });

  it('is acknowledged only where a reason is recorded, with these rules', () => {
    const acks = acknowledgements(full.app);
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(40);
    expect([...new Set(acks.map((a) => a.id.replace(/<[^>]+>/, '<fn>')))].sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::<fn>:*]',
      'AwsSolutions-IAM5[Resource::arn:<fn>:ssm:eu-central-1:123456789012:parameter/qrmenu-alerts/full/*]',
      'AwsSolutions-SQS3',
    ]);
  });
});
