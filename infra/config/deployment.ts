/**
 * The deployment config: the product's AlertsConfig (lambda/config/schema.ts) plus an `aws`
 * section that only the CDK app reads (account, retention, VPC, SES identity, SMS settings,
 * operator e-mails, extra subscribers). Both sets of checks run on one parse, and every problem
 * comes back as one line that names the field (`aws.vpc.subnetIds[0]: …`), through the
 * product's `describeIssues`/`ConfigError`.
 * `readConfigFile` reads YAML or JSON by extension (the local runner reuses it);
 * `loadDeploymentConfig` reads and validates in one step.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as YAML from 'yaml';
import * as z from 'zod';
import {
  AlertsConfigSchema,
  ConfigError,
  describeIssues,
  TelegramSchema,
  type AlertsConfig,
} from '../../lambda/config/schema';
import type { StoredTokenRef } from '../../lambda/config/tokens';
import { parseMailbox } from '../../lambda/core/mailbox';
import { checkFilterPolicy, FilterPolicyLimitError, routeFilterPolicy } from '../../lambda/core/routing';
import { shardCount } from '../../lambda/config/shards';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const AWS_ACCOUNT = /^\d{12}$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** SNS sender IDs: 1–11 letters and digits, at least one letter. */
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;
const SQS_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;

export const VpcPlacementSchema = z.strictObject({
  /** The VPC that can reach the QR-menu server (through a VPN or Direct Connect). */
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id like "vpc-0abc1234"'),
  /** Private subnets with a route to the QR-menu server AND to AWS APIs (NAT gateway or VPC endpoints). */
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id like "subnet-0abc1234"'))
    .min(1, 'list at least one subnet'),
  /** Security groups for the poller; they must allow outbound HTTPS to the server and to AWS. */
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id like "sg-0abc1234"'))
    .min(1, 'list at least one security group'),
});

export const SesIdentitySchema = z.strictObject({
  /** Verify the whole domain of `email.from` (DKIM). Give either `domain` or `email`. */
  domain: z.string().toLowerCase().regex(DOMAIN, 'must be a domain name like "example.com"').optional(),
  /** Route 53 public hosted zone of `domain`: the stack then writes the DKIM records itself. */
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id like "Z0123456789ABC"')
    .optional(),
  /** Name of that hosted zone. Default: `domain`. */
  hostedZoneName: z.string().toLowerCase().regex(DOMAIN, 'must be a domain name').optional(),
  /** Verify one address only (SES sends it a link to click). */
  email: z.email().optional(),
});

export const SmsSettingsSchema = z.strictObject({
  /**
   * Alphanumeric sender ID shown instead of a number, where the country allows it (some require
   * registration first). Set as the account's SNS default (`DefaultSenderID`) for this region.
   */
  senderId: z.string().regex(SENDER_ID, 'must be 1–11 letters and digits with at least one letter').optional(),
  /** The account's default SMS type for this region; alerts are `Transactional`. Not set when absent. */
  smsType: z.enum(['Transactional', 'Promotional']).optional(),
  /**
   * The account's SNS SMS monthly spend limit in USD (new accounts: 1). An alarm fires at 80 % of
   * it, before SNS stops sending SMS for the rest of the month. `null`: no alarm.
   * Default: 1 when any route has SMS recipients, otherwise no alarm.
   */
  monthlySpendLimitUsd: z.number().positive().max(1_000_000).nullable().optional(),
});

export const ExtraSubscriptionSchema = z.strictObject({
  protocol: z.enum(['email', 'https', 'sqs', 'lambda']),
  /** An e-mail address, an https:// URL, an SQS queue ARN or a Lambda function ARN. */
  endpoint: z.string().min(1),
  /** Receive only what this route receives (its SNS filter policy). Default: every event. */
  route: z.string().optional(),
});
export type ExtraSubscription = z.infer<typeof ExtraSubscriptionSchema>;

export const AwsSectionSchema = z.strictObject({
  /** Target account. Default: the account of the CLI's credentials at deploy time. */
  account: z.string().regex(AWS_ACCOUNT, 'must be a 12-digit AWS account id').optional(),
  /** Target region. Default: the CLI's region at deploy time. */
  region: z.string().regex(AWS_REGION, 'must be a region like "eu-central-1"').optional(),
  /** Keep the state table and the logs when the stack is deleted (RETAIN). Default: true. */
  retainData: z.boolean().default(true),
  /** Days the poller's logs are kept. Default: 30. */
  logRetentionDays: z
    .number()
    .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(30),
  /**
   * Concurrent runs the poller may have: each shard's run overlaps its next by a few seconds, so
   * at least 2 per shard. Default: 2 per shard (`reservedConcurrencyOf`). New accounts whose
   * Lambda concurrency quota is 10 cannot reserve any: set `null`.
   */
  reservedConcurrency: z.number().int().min(1).max(1_000).nullable().optional(),
  /** Run the poller inside a VPC. Default: outside any VPC (public internet egress). */
  vpc: VpcPlacementSchema.optional(),
  /** Create the SES sender identity of `email.from`. Default: none (verify it yourself). */
  sesIdentity: SesIdentitySchema.optional(),
  sms: SmsSettingsSchema.default({}),
  /** The operator: these addresses subscribe to the ops topic (alarms, possible gaps). */
  ops: z.strictObject({ emails: z.array(z.email()).default([]) }).default({ emails: [] }),
  /**
   * Create the CloudWatch dashboard (graphs per source; past 10 sources, the 10 with the most of
   * each metric: infra/constructs/dashboard.ts). Default: false. It costs 3 USD a month
   * (beyond the free tier's 3 dashboards) plus, since its graphs read per-source metrics the poller
   * then emits, up to 0.30 USD a month per graphed metric and source (lambda/domain/metrics.ts,
   * DASHBOARD_METRICS; docs/DEPLOY.md, section 7).
   */
  dashboard: z.boolean().default(false),
  /** More subscribers of the alerts topic (a Telegram forwarder, a ticketing webhook, …). */
  subscriptions: z.array(ExtraSubscriptionSchema).default([]),
});
export type AwsSection = z.infer<typeof AwsSectionSchema>;

/** The whole deployment config: product checks and `aws` checks, both on one parse. */
export const DeploymentConfigSchema = AlertsConfigSchema.safeExtend({
  aws: AwsSectionSchema.prefault({}),
}).superRefine((config, ctx) => {
  const { aws } = config;
  const needed = RUNS_PER_SHARD * shardCountQuietly(config);
  if (typeof aws.reservedConcurrency === 'number' && aws.reservedConcurrency < needed) {
    ctx.addIssue({
      code: 'custom',
      path: ['aws', 'reservedConcurrency'],
      message:
        `${aws.reservedConcurrency} is fewer than the ${needed} runs the poller's shards need at once ` +
        `(each shard's run overlaps its next by a few seconds): set at least ${needed}, leave it out, or null`,
    });
  }
  const identity = aws.sesIdentity;
  if (identity) {
    if ((identity.domain === undefined) === (identity.email === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'sesIdentity'],
        message: 'give either "domain" or "email", not both and not neither',
      });
    }
    if (
      identity.email !== undefined &&
      (identity.hostedZoneId !== undefined || identity.hostedZoneName !== undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'sesIdentity'],
        message: 'hostedZoneId/hostedZoneName go with "domain", not with "email"',
      });
    }
    if (identity.hostedZoneName !== undefined && identity.hostedZoneId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'sesIdentity', 'hostedZoneId'],
        message: 'is needed when hostedZoneName is given',
      });
    }
    const from = config.email ? senderAddress(config.email.from) : undefined;
    if (from === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['email', 'from'],
        message: 'aws.sesIdentity is set, so set email.from to an address it covers',
      });
    } else if (identity.domain !== undefined && domainOf(from) !== identity.domain) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'sesIdentity', 'domain'],
        message: `does not cover email.from (${from})`,
      });
    } else if (identity.email !== undefined && identity.email.toLowerCase() !== from) {
      ctx.addIssue({ code: 'custom', path: ['aws', 'sesIdentity', 'email'], message: `is not email.from (${from})` });
    }
  }
  if (config.email && senderAddress(config.email.from) === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'from'],
      message: 'must hold one e-mail address, like "alerts@example.com" or "Alerts <alerts@example.com>"',
    });
  }
  const opsEmails = new Set<string>();
  aws.ops.emails.forEach((address, i) => {
    if (opsEmails.has(address.toLowerCase()))
      ctx.addIssue({ code: 'custom', path: ['aws', 'ops', 'emails', i], message: `${address} is listed twice` });
    opsEmails.add(address.toLowerCase());
  });
  const endpoints = new Set<string>();
  aws.subscriptions.forEach((sub, i) => {
    const key = `${sub.protocol} ${sub.endpoint}`;
    if (endpoints.has(key))
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'subscriptions', i],
        message: `${sub.protocol} ${sub.endpoint} is listed twice`,
      });
    endpoints.add(key);
    const problem = endpointProblem(sub);
    if (problem) ctx.addIssue({ code: 'custom', path: ['aws', 'subscriptions', i, 'endpoint'], message: problem });
    if (sub.route === undefined) return;
    const route = config.routes.find((r) => r.name === sub.route);
    if (!route) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'subscriptions', i, 'route'],
        message: `no route is named "${sub.route}"`,
      });
      return;
    }
    try {
      checkFilterPolicy(routeFilterPolicy([route.name]), `route "${sub.route}" gives this subscriber`);
    } catch (error) {
      if (!(error instanceof FilterPolicyLimitError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['aws', 'subscriptions', i, 'route'], message: error.message });
    }
  });
});

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

/** The address inside `email.from` ("Alerts <a@b.c>" → "a@b.c"), lower-cased; undefined if none. */
/** Runs of one shard that may overlap: the minute's run, and the next one starting as it ends. */
export const RUNS_PER_SHARD = 2;

/** The poller's reserved concurrency: the config's, else 2 per shard; null reserves none. */
export function reservedConcurrencyOf(config: Pick<DeploymentConfig, 'aws' | 'sources' | 'polling'>): number | null {
  const { reservedConcurrency } = config.aws;
  return reservedConcurrency === undefined ? RUNS_PER_SHARD * shardCount(config) : reservedConcurrency;
}

/** The shard count, or 1 while the sources' pins are invalid (the product check reports those). */
function shardCountQuietly(config: Pick<DeploymentConfig, 'sources' | 'polling'>): number {
  try {
    return shardCount(config);
  } catch {
    return 1;
  }
}

export function senderAddress(from: string): string | undefined {
  const { address } = parseMailbox(from);
  return z.email().safeParse(address).success ? address.toLowerCase() : undefined;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function endpointProblem(sub: ExtraSubscription): string | undefined {
  switch (sub.protocol) {
    case 'email':
      return z.email().safeParse(sub.endpoint).success ? undefined : 'must be an e-mail address';
    case 'https':
      return /^https:\/\/[^\s/]+/.test(sub.endpoint) ? undefined : 'must be an https:// URL';
    case 'sqs':
      return SQS_ARN.test(sub.endpoint)
        ? undefined
        : 'must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)';
    case 'lambda':
      return LAMBDA_ARN.test(sub.endpoint)
        ? undefined
        : 'must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)';
  }
}

/** Read a YAML (.yaml/.yml) or JSON (.json) file; a missing file or a syntax error is a ConfigError. */
export function readConfigFile(path: string): unknown {
  const kind = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(kind)) {
    throw new ConfigError([`use a .yaml, .yml or .json file (got "${kind || 'no extension'}")`], path);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([code === 'ENOENT' ? 'file not found' : `cannot read it (${code ?? String(error)})`], path);
  }
  try {
    return kind === '.json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    throw new ConfigError([`${kind === '.json' ? 'JSON' : 'YAML'} syntax: ${message}`], path);
  }
}

/** Validate a deployment config object; throws {@link ConfigError} listing every problem. */
export function parseDeploymentConfig(input: unknown, where = 'config'): DeploymentConfig {
  const result = DeploymentConfigSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(describeIssues(result.error), where);
  return result.data;
}

/** Read and validate a deployment config file. */
export function loadDeploymentConfig(path: string): DeploymentConfig {
  return parseDeploymentConfig(readConfigFile(path), path);
}

/**
 * The config the Lambda gets, as the file `alerts-config.json` next to its handler: the
 * AlertsConfig part (no `aws`), with each source's token (and the bot's) pointing at where it is
 * kept in AWS (its SSM parameter by default: constructs/source-secrets.ts).
 */
export function lambdaConfigOf(
  config: DeploymentConfig,
  tokenOf: (sourceId: string) => StoredTokenRef,
  botToken?: StoredTokenRef,
): AlertsConfig {
  const { aws: _aws, ...alerts } = config;
  return {
    ...alerts,
    sources: alerts.sources.map((source) => ({ ...source, token: tokenOf(source.id) })),
    ...(botToken ? { telegram: { ...(alerts.telegram ?? TelegramSchema.parse({})), token: botToken } } : {}),
  };
}
