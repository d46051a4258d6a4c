/**
 * Shared by the infra tests: sample deployment configs, a synthesizer that builds each config's
 * app once per test file (importing aws-cdk-lib and bundling are the slow parts), and helpers
 * that read IAM policies and nag acknowledgements out of a template or construct tree.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationValidatePlugin, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { parseDeploymentConfig, type DeploymentConfigInput } from '../../infra/config/deployment';
import { createQrmenuApp, type QrmenuApp } from '../../infra/qrmenu-app';
import { DYNAMODB_ACTION_OF } from '../../lambda/state/dynamodb';

/** A small restaurant: one source, waiters by table range, a manager for bills, a mailbox for all. */
export const SAMPLE_CONFIG: DeploymentConfigInput = {
  name: 'sample',
  sources: [{ id: 'lenina', name: 'Пиццерия на Ленина', url: 'https://203.0.113.10:8443' }],
  zones: { terrace: ['20-29'] },
  routes: [
    { name: 'waiter-hall', codes: ['waiter_call'], tables: ['1-10'], sms: ['+79161234567'] },
    { name: 'waiter-terrace', codes: ['waiter_call'], tables: ['terrace', 'VIP'], sms: ['+79167654321'] },
    { name: 'manager-bills', codes: ['bill_request'], sms: ['+79031112233'], email: ['manager@pizza.example'] },
    { name: 'everything', email: ['zal@pizza.example'] },
  ],
  email: { from: 'Пицца <alerts@pizza.example>' },
  // The dashboard is off by default; the sample switches it on so that its template is tested.
  aws: { ops: { emails: ['it@pizza.example'] }, dashboard: true },
};

/** Every `aws` option switched on: VPC, SES domain with a hosted zone, SMS settings, extra subscribers. */
export const FULL_CONFIG: DeploymentConfigInput = {
  name: 'full',
  sources: [
    { id: 'main-hall', url: 'https://203.0.113.10:8443' },
    { id: 'terrace', name: 'Терраса', url: 'https://203.0.113.11:8443' },
  ],
  routes: [
    { name: 'waiters', codes: ['waiter_call'], tables: ['1-10'], sms: ['+79161234567'] },
    { name: 'all', email: ['boss@example.com'] },
  ],
  email: { from: 'alerts@example.com' },
  aws: {
    account: '123456789012',
    region: 'eu-central-1',
    retainData: false,
    logRetentionDays: 14,
    reservedConcurrency: null,
    vpc: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    },
    sesIdentity: { domain: 'example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' },
    sms: { senderId: 'Pizza', smsType: 'Transactional', monthlySpendLimitUsd: 50 },
    ops: { emails: ['it@example.com'] },
    dashboard: false,
    subscriptions: [
      { protocol: 'https', endpoint: 'https://hooks.example.com/qrmenu' },
      { protocol: 'sqs', endpoint: 'arn:aws:sqs:eu-central-1:123456789012:forwarder', route: 'waiters' },
      { protocol: 'lambda', endpoint: 'arn:aws:lambda:eu-central-1:123456789012:function:telegram' },
    ],
  },
};

export interface Synthesized extends QrmenuApp {
  readonly template: Template;
  readonly outdir: string;
}

/**
 * Build and synthesize one config. `bundle: false` skips esbuild (the function's code becomes a
 * placeholder asset): the template is otherwise identical. CDK's built-in CloudFormation schema
 * validation is left to `cfnSchemaViolations` and the CLI test: it takes most of a synth's time.
 */
export function synthesize(input: DeploymentConfigInput, options: { bundle: boolean }): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'qrmenu-infra-test-'));
  const built = createQrmenuApp(parseDeploymentConfig(input), {
    outdir,
    builtinCloudFormationValidation: false,
    ...(options.bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  return { ...built, template: Template.fromStack(built.stack), outdir };
}

/** What CDK's CloudFormation validation (resource schemas and rules) finds in the synthesized template. */
export function cfnSchemaViolations(s: Synthesized): PolicyViolation[] {
  const templatePath = join(s.outdir, s.stack.templateFile);
  const report = new CloudFormationValidatePlugin().validate({
    templatePaths: [templatePath],
    stackTemplates: [{ stackConstructPath: s.stack.node.path, templatePath, accountId: undefined, region: undefined }],
    appConstruct: s.app,
  });
  return report.violations;
}

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** The statements of the AWS::IAM::Policy attached to the role with this logical id prefix. */
export function statementsOfRole(template: Template, roleLogicalIdPrefix: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(roleLogicalIdPrefix)),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

export function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** A resource as text: a plain ARN, or the JSON of an intrinsic (`{"Fn::Join":…}`). */
export function resourceText(resource: unknown): string {
  return typeof resource === 'string' ? resource : JSON.stringify(resource);
}

/** Every (action, resource) pair whose resource contains a "*". */
export function wildcardGrants(statements: readonly PolicyStatementJson[]): { actions: string[]; resource: string }[] {
  return statements.flatMap((s) =>
    asArray(s.Resource)
      .map(resourceText)
      .filter((r) => r.includes('*'))
      .map((resource) => ({ actions: asArray(s.Action), resource })),
  );
}

/** Every nag acknowledgement recorded in the tree: rule id, reason and the construct path. */
export function acknowledgements(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Each entry's data is `{ [rule id]: reason }`; CDK files ids without a known prefix under "Annotation::".
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ id: id.replace(/^Annotation::/, ''), reason, path: construct.node.path })),
  );
}

const LAMBDA_ROOT = fileURLToPath(new URL('../../lambda/', import.meta.url));

/** The texts of these lambda/ files that call DynamoDB through lambda/state/dynamodb.ts (that file itself aside). */
export function dynamoDbSources(files: readonly string[]): string[] {
  return files
    .filter((file) => file.endsWith('.ts') && !file.endsWith('state/dynamodb.ts'))
    .map((file) => readFileSync(join(LAMBDA_ROOT, file), 'utf8'))
    .filter((text) => /from '(?:\.\.?\/)+(?:state\/)?dynamodb'/.test(text));
}

/**
 * The IAM actions those sources call: each `db.<method>(` of the client, by
 * DYNAMODB_ACTION_OF. A method the map does not know fails: its action would be missing from the grant.
 */
export function dynamoDbActions(sources: readonly string[]): string[] {
  const methods = new Set(sources.flatMap((text) => [...text.matchAll(/\bdb\.(\w+)\(/g)].map((m) => m[1]!)));
  return [...methods].map((method) => {
    const action = (DYNAMODB_ACTION_OF as Record<string, string>)[method];
    if (action === undefined) throw new Error(`db.${method}( is no method of lambda/state/dynamodb.ts`);
    return `dynamodb:${action}`;
  });
}
