/**
 * One schedule per shard (infra/constructs/poll-schedule.ts), and 500 restaurants in one
 * deployment: the example config is one shard and one schedule; a generated 500-source chain,
 * the whole stack with the dashboard on, is twenty shards, twenty schedules each naming its shard,
 * one dead-letter queue and one role for all, reserved concurrency for two runs per shard, as
 * many alarms as one source has, within CloudFormation's limits (500 resources, a 1 MB template)
 * and the dashboard's (a graph holds at most 500 metrics), and cdk-nag clean.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { shardCount } from '../../lambda/config/shards';
import { loadDeploymentConfig, parseDeploymentConfig, reservedConcurrencyOf } from '../../infra/config/deployment';
import { NAMED_LINES_UP_TO, TOP_SOURCES } from '../../infra/constructs/dashboard';
import { METRIC } from '../../lambda/domain/metrics';
import { SAMPLE_CONFIG, synthesize, type Synthesized } from './support';

const CHAIN = {
  ...SAMPLE_CONFIG,
  name: 'chain',
  aws: { ...SAMPLE_CONFIG.aws, dashboard: true },
  sources: Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, url: `https://203.0.113.${(i % 250) + 1}:8443` })),
};

let example: Synthesized;
let chain: Synthesized;

beforeAll(() => {
  example = synthesize(loadDeploymentConfig('config/example.yaml'), { bundle: false });
  chain = synthesize(CHAIN, { bundle: false });
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

  it('500 sources: twenty schedules, shards 0–19, one dead-letter queue and one role', () => {
    expect(shardCount(parseDeploymentConfig(CHAIN))).toBe(20);
    const found = schedules(chain);
    expect(found).toHaveLength(20);
    expect(found.map((p) => JSON.parse(p.Target.Input).shard).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
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
    expect(reservedConcurrencyOf(parseDeploymentConfig(CHAIN))).toBe(40);
    expect(() => parseDeploymentConfig({ ...CHAIN, aws: { ...CHAIN.aws, reservedConcurrency: 6 } })).toThrow(
      'aws.reservedConcurrency: 6 is fewer than the 40 runs',
    );
    expect(() => parseDeploymentConfig({ ...CHAIN, aws: { ...CHAIN.aws, reservedConcurrency: null } })).not.toThrow();
  });

  it('cdk-nag finds nothing unacknowledged with twenty schedules', () => {
    expect(chain.nag.validateScope(chain.app).violations).toEqual([]);
  });
});

describe('500 sources in one stack', () => {
  const json = () => JSON.stringify(chain.template.toJSON());

  it("fits CloudFormation: far below 500 resources and a 1 MB template, as many alarms as one source's", () => {
    const resources = Object.keys(chain.template.toJSON().Resources);
    expect(resources.length).toBeLessThan(100);
    expect(Buffer.byteLength(json())).toBeLessThan(512 * 1024);
    const alarms = (s: Synthesized) => Object.keys(s.template.findResources('AWS::CloudWatch::Alarm')).length;
    expect(alarms(chain)).toBe(alarms(synthesize({ ...CHAIN, sources: CHAIN.sources.slice(0, 1) }, { bundle: false })));
  });

  it('keeps the dashboard one size: each metric one Metrics Insights query of the top sources, no graph over 500 metrics', () => {
    const [dashboard] = Object.values(chain.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.parse(resolveJoin(dashboard!.Properties.DashboardBody)) as {
      widgets: { type: string; properties: { metrics?: unknown[]; title?: string } }[];
    };
    const graphs = body.widgets.filter((w) => w.type === 'metric');
    for (const g of graphs) expect(g.properties.metrics?.length ?? 0).toBeLessThanOrEqual(500);
    const text = JSON.stringify(body);
    expect(Buffer.byteLength(text)).toBeLessThan(20 * 1024);
    expect(text).toContain(
      `SELECT SUM(\\"${METRIC.eventsNew}\\") FROM SCHEMA(\\"QrmenuAlerts/chain\\", service, source) WHERE service = 'qrmenu-alerts' GROUP BY source ORDER BY SUM() DESC LIMIT ${TOP_SOURCES}`,
    );
    expect(text).not.toContain('"r499"');
    expect(graphs.some((g) => g.properties.title?.includes(`the ${TOP_SOURCES} sources with the most`))).toBe(true);
  });

  it(`names a line per source up to ${NAMED_LINES_UP_TO} sources`, () => {
    const small = synthesize({ ...CHAIN, sources: CHAIN.sources.slice(0, NAMED_LINES_UP_TO) }, { bundle: false });
    const [dashboard] = Object.values(small.template.findResources('AWS::CloudWatch::Dashboard'));
    const text = resolveJoin(dashboard!.Properties.DashboardBody);
    expect(text).toContain(`"source","r${NAMED_LINES_UP_TO - 1}"`);
    expect(text).not.toContain('SELECT');
  });
});

/** A DashboardBody's text: `Fn::Join` of strings and references (references as placeholders). */
function resolveJoin(body: unknown): string {
  if (typeof body === 'string') return body;
  const [sep, parts] = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((p) => (typeof p === 'string' ? p : 'REF')).join(sep);
}
