/**
 * The poller Lambda: lambda/handler.ts bundled by esbuild (ESM, minified, source maps, the AWS
 * SDK bundled in — one file imports faster than the runtime's copy), arm64, Node.js 24, with
 * its own log group and its own role (no AWS managed policy; every grant names its resource).
 * The deployment's AlertsConfig reaches it sealed (validated, with its digest: lambda/config/sealed.ts)
 * as `alerts-config.json` next to index.mjs: written to
 * a temporary directory at synth time and copied into the bundle by an afterBundling hook, so
 * the asset hash (computed over the bundle's output) changes whenever the config does.
 * Sized for the handler's loop of poll ticks until shortly before its deadline (≈ 1 minute).
 * Lambda's own asynchronous retries are off (0 retries, events older than 60 s dropped): the
 * Scheduler's retry policy does not reach them, and a run retried minutes later only overlaps the
 * next scheduled one — which picks up exactly where a failed run stopped anyway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLED_CONFIG_FILE, POLLER_TIMEOUT_SECONDS } from '../../lambda/config/runtime';
import { parseAlertsConfig, type AlertsConfig } from '../../lambda/config/schema';
import { sealConfig } from '../../lambda/config/sealed';
import type { AwsSection } from '../config/deployment';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HANDLER_ENTRY = join(REPO_ROOT, 'lambda', 'handler.ts');

/** The newest Node.js runtime this aws-cdk-lib offers (cdk-nag L1 checks for it). */
export const POLLER_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** `npm run bench` measures the peak memory of a 1,000-event burst with the NODE_OPTIONS below. */
export const POLLER_MEMORY_MB = 128;
/**
 * The function's NODE_OPTIONS (`npm run bench` runs the bundle with these): source maps for
 * readable stack traces, and V8's heap held to half the function's memory — an old space of 64 MB
 * and 1-MB semi-spaces — so that garbage is collected long before Lambda's limit: left to itself
 * V8 lets a burst's garbage pile up (the code and the SDK already take ≈ 55 MB). Lambda's Node.js
 * bootstrap sizes the heap itself only when NODE_OPTIONS names neither space.
 */
export const POLLER_NODE_OPTIONS = `--enable-source-maps --max-semi-space-size=1 --max-old-space-size=${POLLER_MEMORY_MB / 2}`;
/** The handler works ≈ 60 s per invocation and stops short of its deadline; 90 s leaves room. */
export const POLLER_TIMEOUT = Duration.seconds(POLLER_TIMEOUT_SECONDS);
/**
 * Asynchronous invocation (how Scheduler invokes it): no Lambda retry of a failed run (its default
 * is 2, with events kept 6 h), and an invocation still queued after 60 s (Lambda's minimum) is
 * dropped — the next scheduled run is due by then.
 */
export const POLLER_ASYNC_RETRY_ATTEMPTS = 0;
export const POLLER_MAX_EVENT_AGE = Duration.seconds(60);

/**
 * Modules esbuild substitutes in the Lambda's bundle (and only there): the SDK's default
 * credential chain becomes the environment alone — Lambda gives its credentials there — which
 * keeps the chain's SSO, STS, INI-file and sign-in providers and their nested clients out.
 */
export const POLLER_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': join(REPO_ROOT, 'lambda', 'aws', 'lambda-credentials.ts'),
};

/** How esbuild bundles the handler (`npm run bench` builds it with these very settings). */
export const POLLER_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Bundle the SDK too; 'module' first, or the ESM bundle pulls CommonJS builds that `require` node: modules.
  externalModules: [] as string[],
  mainFields: ['module', 'main'],
  // Whatever CommonJS is left still gets a working `require`.
  banner:
    "import { createRequire as __qrmenuCreateRequire } from 'module'; const require = __qrmenuCreateRequire(import.meta.url);",
  logLevel: nodejs.LogLevel.ERROR,
  // CDK passes each as `--alias:<module>=<path>` (bench/sections/bundle.ts reads them back).
  esbuildArgs: { '--alias': Object.entries(POLLER_ALIASES).map(([module, path]) => `${module}=${path}`) },
} satisfies nodejs.BundlingOptions;

export interface PollerProps {
  /** What goes into alerts-config.json (tokens already pointing at secrets). */
  readonly lambdaConfig: AlertsConfig;
  /** Environment variables (RUNTIME_ENV names, Powertools settings). */
  readonly environment: Readonly<Record<string, string>>;
  readonly reservedConcurrency: number | null;
  readonly logRetention: logs.RetentionDays;
  readonly retainLogs: boolean;
  readonly vpc?: AwsSection['vpc'];
}

export class Poller extends Construct {
  readonly fn: nodejs.NodejsFunction;
  /** The config bundled next to the handler (tokens replaced by their secrets' names). */
  readonly lambdaConfig: AlertsConfig;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PollerProps) {
    super(scope, id);
    this.lambdaConfig = props.lambdaConfig;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'qrmenu-alerts poller: its log group, state table, token secrets, topics and SES sender only',
    });
    this.logGroup.grantWrite(this.role);

    const configFile = writeBundledConfig(props.lambdaConfig);

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      description: 'Polls the QR-menu servers for guest events and alerts the staff',
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: POLLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: POLLER_MEMORY_MB,
      timeout: POLLER_TIMEOUT,
      retryAttempts: POLLER_ASYNC_RETRY_ATTEMPTS,
      maxEventAge: POLLER_MAX_EVENT_AGE,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrency === null ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
      environment: { ...props.environment, NODE_OPTIONS: POLLER_NODE_OPTIONS },
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
    if (props.vpc) this.placeInVpc(props.vpc);
  }

  /**
   * Subnets and security groups by id, set on the L1 function: the L2 `vpc` prop needs an IVpc,
   * and an IVpc needs availability zones that only a lookup with credentials would provide —
   * synth stays offline. Lambda needs the ENI permissions in place before it creates the
   * function; the function already depends on its role (and so on the role's policy).
   */
  private placeInVpc(vpc: NonNullable<AwsSection['vpc']>): void {
    const cfn = this.fn.node.defaultChild as lambda.CfnFunction;
    cfn.vpcConfig = { subnetIds: [...vpc.subnetIds], securityGroupIds: [...vpc.securityGroupIds] };
    // The same actions as AWS's AWSLambdaVPCAccessExecutionRole, without its CloudWatch Logs "*" part.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LambdaVpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Lambda manages the VPC network interfaces of the function through its role with these ec2 actions, which AWS grants on "*" in its own AWSLambdaVPCAccessExecutionRole because the Describe actions support no resource-level permissions and the interfaces do not exist before Lambda creates them.',
    });
  }
}

/**
 * Validate the config once more (what goes to the Lambda must have passed the schema as it is),
 * seal it (lambda/config/sealed.ts: the Lambda checks the seal instead of loading zod) and write it
 * into a fresh temporary directory (removed when the process exits).
 */
export function writeBundledConfig(config: AlertsConfig): string {
  const sealed = sealConfig(parseAlertsConfig(config, 'the config bundled for the Lambda'));
  const dir = mkdtempSync(join(tmpdir(), 'qrmenu-alerts-config-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, BUNDLED_CONFIG_FILE);
  writeFileSync(file, `${JSON.stringify(sealed, null, 2)}\n`);
  return file;
}

/** The shell command that copies a file into the bundle (afterBundling hook). */
export function copyCommand(from: string, to: string): string {
  return process.platform === 'win32' ? `copy /Y "${from}" "${to}"` : `cp "${from}" "${to}"`;
}
