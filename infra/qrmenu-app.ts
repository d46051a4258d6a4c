/**
 * Builds the CDK app from a validated deployment config: the stack `QrmenuAlerts-<name>` in the
 * config's account/region (or environment-agnostic, so synth needs no credentials), with cdk-nag's
 * AWS Solutions checks registered on every synth (any unacknowledged finding fails it).
 * infra/app.ts (the CLI entry) and the tests both build through here.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentConfig } from './config/deployment';
import { stackName } from './config/names';
import { QrmenuAlertsStack } from './stack';

export interface QrmenuApp {
  readonly app: App;
  readonly stack: QrmenuAlertsStack;
  readonly nag: AwsSolutionsChecks;
}

export function createQrmenuApp(config: DeploymentConfig, appProps: AppProps = {}): QrmenuApp {
  const app = new App(appProps);
  const account = config.aws.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = config.aws.region ?? process.env.CDK_DEFAULT_REGION;
  const stack = new QrmenuAlertsStack(app, stackName(config.name), {
    config,
    description: `qrmenu-alerts "${config.name}": polls QR-menu servers for guest events and alerts the staff by e-mail and SMS`,
    // Only the config's own account/region pin the stack; otherwise it stays environment-agnostic.
    ...(config.aws.account !== undefined || config.aws.region !== undefined ? { env: { account, region } } : {}),
  });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
