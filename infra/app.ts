/**
 * The CDK app entry (cdk.json runs it with tsx). The deployment config path comes from
 * `-c config=<file>` (default: config/example.yaml). A config mistake ends synth with one
 * readable paragraph naming each bad field and exit code 1 — no stack trace.
 *
 *   npx cdk synth                          # the example config
 *   npx cdk deploy -c config=config/my-restaurant.yaml
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lambda/config/schema';
import { loadDeploymentConfig } from './config/deployment';
import { createQrmenuApp } from './qrmenu-app';

export const DEFAULT_CONFIG_PATH = 'config/example.yaml';

function configPath(): string {
  // A throwaway App only to read the context the CLI passed (-c / cdk.json).
  const value: unknown = new App({ autoSynth: false }).node.tryGetContext('config');
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_CONFIG_PATH;
}

try {
  const { app } = createQrmenuApp(loadDeploymentConfig(configPath()));
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`\n${error.message}\n\nFix the config file and run the command again.\n\n`);
  process.exit(1);
}
