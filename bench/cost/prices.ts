/**
 * The unit prices of the cost model, with where they come from. They are AWS list prices for
 * us-east-1 (N. Virginia) as published in 2025 — docs/DEPLOY.md §7 is generated from them
 * (DynamoDB on-demand after its November 2024 price cut). They were copied by hand and cannot
 * be checked offline: confirm them with the AWS Pricing Calculator for your region and date.
 */

export const PRICE_SOURCE = {
  region: 'us-east-1 (N. Virginia)',
  date: 'list prices as published in 2025',
  caveat: 'copied by hand, not checkable offline: confirm with the AWS Pricing Calculator',
} as const;

export const PRICES = {
  /** Lambda, arm64, per GB-second. */
  lambdaArmGbSecond: 0.000_013_333_4,
  lambdaRequestsPerMillion: 0.2,
  schedulerInvocationsPerMillion: 1.0,
  /** DynamoDB on-demand. */
  dynamoWriteUnitsPerMillion: 0.625,
  dynamoReadUnitsPerMillion: 0.125,
  secretPerMonth: 0.4,
  secretsApiCallsPer10k: 0.05,
  kmsKeyPerMonth: 1.0,
  kmsRequestsPer10k: 0.03,
  /** Standard-resolution metric alarm, per metric it reads (a metric-math alarm over 3 metrics bills 3). */
  alarmPerMonth: 0.1,
  /** SSM Parameter Store: a standard parameter, and API calls at standard throughput, cost nothing. */
  ssmStandardParameterPerMonth: 0,
  ssmStandardApiCallsPer10k: 0,
  dashboardPerMonth: 3.0,
  customMetricPerMonth: 0.3,
  logsIngestedPerGb: 0.5,
  logsStoredPerGbMonth: 0.03,
  snsPublishesPerMillion: 0.5,
  sesEmailsPerThousand: 0.1,
} as const;

/** The always-free tier, where the account uses it for nothing else. */
export const FREE_TIER = {
  lambdaGbSeconds: 400_000,
  lambdaRequests: 1_000_000,
  schedulerInvocations: 14_000_000,
  logsIngestedGb: 5,
  alarms: 10,
  dashboards: 3,
  customMetrics: 10,
  kmsRequests: 20_000,
  snsPublishes: 1_000_000,
} as const;

/** One month, as AWS prices it: 730 hours. */
export const MINUTES_PER_MONTH = 730 * 60;

/** CloudWatch Logs bills each log event's size plus this much metadata. */
export const LOG_EVENT_OVERHEAD_BYTES = 26;
/** Lambda's own START / END / REPORT lines per invocation: an estimate, not measured. */
export const LAMBDA_PLATFORM_LOG_BYTES = 300;
/** KMS requests a month (SNS data keys for the encrypted topics, alarms): docs/DEPLOY.md's estimate, not measured. */
export const KMS_REQUESTS_PER_MONTH_ESTIMATE = 36_000;
