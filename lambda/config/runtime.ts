/**
 * How the deployed Lambda finds its config and its AWS resources: the names of the environment
 * variables the CDK stack sets, and the file the stack bundles next to the handler.
 * The config file is the deployment's AlertsConfig with every source's token replaced by a
 * `{ "secret": "<secret name>" }` reference (a name, because ARNs are unresolved at synth).
 * It is a file, not an environment variable: Lambda's 4 KB environment would not hold a
 * restaurant chain's routes.
 */

export const RUNTIME_ENV = {
  /** Path of the config JSON; default: `alerts-config.json` next to the bundled handler. */
  configFile: 'ALERTS_CONFIG_FILE',
  /** The config JSON itself (local runs and tests); wins over the file. */
  configJson: 'ALERTS_CONFIG',
  /** DynamoDB state table. */
  stateTable: 'STATE_TABLE_NAME',
  /** SNS topic every event is published to (SMS subscriptions and integrators hang off it). */
  alertsTopicArn: 'ALERTS_TOPIC_ARN',
  /** SNS topic for the operator (possible gaps, failed deliveries); optional. */
  opsTopicArn: 'OPS_TOPIC_ARN',
} as const;

/** File name of the config the CDK stack places next to the bundled handler. */
export const BUNDLED_CONFIG_FILE = 'alerts-config.json';

/** The poller Lambda's timeout (the CDK stack sets it; the handler plans its ticks against it). */
export const POLLER_TIMEOUT_SECONDS = 90;

/** How long a secret read (a QR-menu token, the bot token) is cached: a new value takes effect within it. */
export const SECRET_CACHE_SECONDS = 300;
