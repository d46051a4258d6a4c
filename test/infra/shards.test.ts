/**
 * One schedule per shard (infra/constructs/poll-schedule.ts): the example config is one shard and
 * one schedule (the whole stack); a generated 120-source chain is five shards, five schedules each
 * naming its shard, one dead-letter queue and one role for all, reserved concurrency for two runs
 * per shard, and cdk-nag clean. The chain's schedules are synthesized in a stack of their own (the
 * poller function and PollSchedule, as infra/stack.ts wires them): the whole stack of 120 sources
 * is over CloudFormation's 500 resources while alarms and secrets are made per source.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { shardCount } from '../../lambda/config/shards';
import { loadDeploymentConfig, parseDeploymentConfig, reservedConcurrencyOf } from '../../infra/config/deployment';
import { PollSchedule } from '../../infra/constructs/poll-schedule';
import { SAMPLE_CONFIG, synthesize, type Synthesized } from './support';

const CHAIN = {
  ...SAMPLE_CONFIG,
  name: 'chain',
  sources: Array.from({ length: 120 }, (_, i) => ({ id: `r${i}`, url: `https://203.0.113.${(i % 250) + 1}:8443` })),
};

let example: Synthesized;
let chain: { app: App; template: Template; nag: AwsSolutionsChecks };

/** The chain's poll schedules beside a stand-in of the poller function, with cdk-nag on. */
function chainSchedules() {
  const app = new App();
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  const stack = new Stack(app, 'Chain');
  const fn = new lambda.Function(stack, 'PollerFunction', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
    role: new iam.Role(stack, 'PollerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
  });
  new PollSchedule(stack, 'PollSchedule', {
    fn,
    description: 'Runs the chain poller once a minute',
    shards: shardCount(parseDeploymentConfig(CHAIN)),
  });
  return { app, template: Template.fromStack(stack), nag };
}

beforeAll(() => {
  example = synthesize(loadDeploymentConfig('config/example.yaml'), { bundle: false });
  chain = chainSchedules();
}, 180_000);

const schedules = (s: { template: Template }) =>
  Object.values(s.template.findResources('AWS::Scheduler::Schedule'))
    .map((r) => r.Properties)
    .filter((p) => JSON.stringify(p.Target.Arn).includes('PollerFunction'));

describe('one schedule per shard', () => {
  it('the example config: one shard, one schedule telling shard 0', () => {
    expect(shardCount(loadDeploymentConfig('config/example.yaml'))).toBe(1);
    const found = schedules(example);
    expect(found).toHaveLength(1);
    expect(JSON.parse(found[0]!.Target.Input)).toEqual({ shard: 0 });
    example.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 2 });
  });

  it('120 sources: five schedules, shards 0–4, one dead-letter queue and one role', () => {
    expect(shardCount(parseDeploymentConfig(CHAIN))).toBe(5);
    const found = schedules(chain);
    expect(found).toHaveLength(5);
    expect(found.map((p) => JSON.parse(p.Target.Input).shard).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const p of found) {
      expect(p.ScheduleExpression).toBe('rate(1 minute)');
      expect(p.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    }
    expect(new Set(found.map((p) => JSON.stringify(p.Target.DeadLetterConfig.Arn))).size).toBe(1);
    expect(new Set(found.map((p) => JSON.stringify(p.Target.RoleArn))).size).toBe(1);
    const queues = Object.keys(chain.template.findResources('AWS::SQS::Queue'));
    expect(queues.filter((id) => id.startsWith('PollSchedule'))).toHaveLength(1);
  });

  it('reserves two runs per shard, and refuses fewer', () => {
    expect(reservedConcurrencyOf(parseDeploymentConfig(CHAIN))).toBe(10);
    expect(() => parseDeploymentConfig({ ...CHAIN, aws: { ...CHAIN.aws, reservedConcurrency: 6 } })).toThrow(
      'aws.reservedConcurrency: 6 is fewer than the 10 runs',
    );
    expect(() => parseDeploymentConfig({ ...CHAIN, aws: { ...CHAIN.aws, reservedConcurrency: null } })).not.toThrow();
  });

  it('cdk-nag finds nothing unacknowledged with five schedules', () => {
    expect(chain.nag.validateScope(chain.app).violations).toEqual([]);
  });
});
