/**
 * The deployment config: the product's checks and the `aws` checks both run, every mistake
 * comes back as a line naming its field, files are read as YAML or JSON, and the Lambda's copy
 * of the config points each source's token at its secret. No CDK here: these run in milliseconds.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertsConfigSchema, ConfigError } from '../../lambda/config/schema';
import {
  lambdaConfigOf,
  loadDeploymentConfig,
  parseDeploymentConfig,
  readConfigFile,
  senderAddress,
  type DeploymentConfigInput,
} from '../../infra/config/deployment';
import { tokenParameterName } from '../../infra/config/names';
import { FULL_CONFIG, SAMPLE_CONFIG } from './support';

const dir = mkdtempSync(join(tmpdir(), 'qrmenu-config-test-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The problems a config is rejected with (fails the test if it is accepted). */
function problemsOf(input: unknown): readonly string[] {
  try {
    parseDeploymentConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

const withAws = (aws: Record<string, unknown>): DeploymentConfigInput => ({
  ...SAMPLE_CONFIG,
  aws: aws as DeploymentConfigInput['aws'],
});

describe('the deployment config', () => {
  it('accepts the shipped example, config/example.yaml', () => {
    const config = loadDeploymentConfig('config/example.yaml');
    expect(config.sources.length).toBeGreaterThan(0);
    expect(config.routes.length).toBeGreaterThanOrEqual(3);
  });

  it('fills every aws option with its documented default', () => {
    const { aws } = parseDeploymentConfig({ ...SAMPLE_CONFIG, aws: undefined });
    expect(aws).toEqual({
      retainData: true,
      logRetentionDays: 30,
      sms: {},
      ops: { emails: [] },
      dashboard: false,
      subscriptions: [],
    });
  });

  it('accepts every aws option at once', () => {
    expect(() => parseDeploymentConfig(FULL_CONFIG)).not.toThrow();
  });

  it('turns reserved concurrency off with null (accounts whose quota is 10)', () => {
    expect(parseDeploymentConfig(withAws({ reservedConcurrency: null })).aws.reservedConcurrency).toBeNull();
  });

  it('names the route and table of a broken table range (the product check)', () => {
    const input = {
      ...SAMPLE_CONFIG,
      routes: [...SAMPLE_CONFIG.routes!, { name: 'broken', tables: ['1-x'], sms: ['+79160000001'] }],
    };
    expect(problemsOf(input)).toContain('routes[4].tables[0]: "1-x" is not a table range (write it like "1-10")');
  });

  it('reports product and aws mistakes together, each with its field', () => {
    const problems = problemsOf({ ...withAws({ logRetentionDays: 31 }), name: 'Bad Name' });
    expect(problems).toContainEqual(expect.stringMatching(/^name: /));
    expect(problems).toContainEqual(expect.stringMatching(/^aws\.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30/));
  });

  it('rejects an unknown aws option by name', () => {
    expect(problemsOf(withAws({ retain: false }))).toContainEqual(
      expect.stringMatching(/^aws: Unrecognized key: "retain"/),
    );
  });

  it('names the bad ids of a VPC placement', () => {
    const problems = problemsOf(withAws({ vpc: { vpcId: 'vpc-1', subnetIds: [], securityGroupIds: ['sg-nope'] } }));
    expect(problems).toContain('aws.vpc.vpcId: must be a VPC id like "vpc-0abc1234"');
    expect(problems).toContain('aws.vpc.subnetIds: list at least one subnet');
    expect(problems).toContain('aws.vpc.securityGroupIds[0]: must be a security group id like "sg-0abc1234"');
  });

  it('rejects an SES identity that does not cover email.from', () => {
    expect(problemsOf(withAws({ sesIdentity: { domain: 'other.example' } }))).toContain(
      'aws.sesIdentity.domain: does not cover email.from (alerts@pizza.example)',
    );
    expect(problemsOf(withAws({ sesIdentity: { domain: 'pizza.example', email: 'alerts@pizza.example' } }))).toContain(
      'aws.sesIdentity: give either "domain" or "email", not both and not neither',
    );
  });

  it('rejects an extra subscription with a wrong endpoint or an unknown route', () => {
    const problems = problemsOf(
      withAws({ subscriptions: [{ protocol: 'sqs', endpoint: 'https://queue', route: 'nope' }] }),
    );
    expect(problems).toContain(
      'aws.subscriptions[0].endpoint: must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)',
    );
    expect(problems).toContain('aws.subscriptions[0].route: no route is named "nope"');
  });

  it('rejects a sender ID SNS would not take', () => {
    expect(problemsOf(withAws({ sms: { senderId: '12345' } }))).toContain(
      'aws.sms.senderId: must be 1–11 letters and digits with at least one letter',
    );
  });

  it('rejects an account id that is not 12 digits', () => {
    expect(problemsOf(withAws({ account: '1234' }))).toContain('aws.account: must be a 12-digit AWS account id');
  });

  it('finds the address inside email.from', () => {
    expect(senderAddress('Пицца <Alerts@Pizza.example>')).toBe('alerts@pizza.example');
    expect(senderAddress('alerts@pizza.example')).toBe('alerts@pizza.example');
    expect(senderAddress('Pizza alerts')).toBeUndefined();
  });
});

describe('reading a config file', () => {
  it('reads YAML and JSON alike', () => {
    expect(readConfigFile(file('a.yaml', 'name: demo\nsources: []\n'))).toEqual({ name: 'demo', sources: [] });
    expect(readConfigFile(file('a.json', '{"name":"demo"}'))).toEqual({ name: 'demo' });
  });

  it('says which file is missing', () => {
    expect(() => readConfigFile(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml is invalid:\n {2}- file not found/);
  });

  it('reports a YAML syntax error with its line', () => {
    expect(() => readConfigFile(file('broken.yaml', 'name: demo\nsources: [\n'))).toThrow(/YAML syntax: .*line/);
  });

  it('refuses other extensions', () => {
    expect(() => readConfigFile(file('config.toml', 'name = "x"'))).toThrow(/use a \.yaml, \.yml or \.json file/);
  });

  it('names the file and the field when a loaded config is wrong', () => {
    const path = file('wrong.yaml', 'sources:\n  - id: a\n    url: ftp://x\n');
    expect(() => loadDeploymentConfig(path)).toThrow(
      `${path} is invalid:\n  - sources[0].url: must be an http:// or https:// URL`,
    );
  });
});

describe("the Lambda's copy of the config", () => {
  const config = parseDeploymentConfig({
    ...SAMPLE_CONFIG,
    sources: [{ ...SAMPLE_CONFIG.sources[0]!, token: { env: 'LOCAL_TOKEN' } }],
  });
  const forLambda = lambdaConfigOf(config, (id) => ({ ssm: tokenParameterName(config.name, id) }));

  it("points every source's token at its SSM parameter, by name", () => {
    expect(forLambda.sources.map((s) => s.token)).toEqual([{ ssm: '/qrmenu-alerts/sample/lenina/token' }]);
  });

  it('leaves the aws section out and still passes the schema the Lambda validates with', () => {
    expect(forLambda).not.toHaveProperty('aws');
    expect(AlertsConfigSchema.safeParse(JSON.parse(JSON.stringify(forLambda))).success).toBe(true);
  });
});
