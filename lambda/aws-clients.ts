/**
 * Settings every AWS SDK client of the poller shares: the SDK's own retry strategy (backoff on
 * throttling and transient errors inside one call) and timeouts, so that a dead endpoint cannot
 * hang a tick. Endpoints and region come from the environment as usual (AWS_ENDPOINT_URL_*
 * points a client at an emulator with no code change).
 */

/** Defaults of {@link AwsClientOptions}. */
export const CLIENT_DEFAULTS = {
  /** Attempts per call, the first included; the SDK backs off between them (throttling, 5xx, network). */
  maxAttempts: 3,
  /** TCP connect timeout per attempt. */
  connectionTimeoutMs: 1_000,
  /** Whole request/response timeout per attempt. */
  requestTimeoutMs: 3_000,
  /** Budget for one channel's send: all attempts, backoff and (SES) batches together. */
  sendTimeoutMs: 8_000,
} as const;

export interface AwsClientOptions {
  /** Default: the SDK's (AWS_REGION). */
  readonly region?: string;
  /** Default: the SDK's (honours AWS_ENDPOINT_URL_SES / AWS_ENDPOINT_URL_SNS). */
  readonly endpoint?: string;
  /** Default {@link CLIENT_DEFAULTS}.maxAttempts (3). */
  readonly maxAttempts?: number;
  /** Default {@link CLIENT_DEFAULTS}.connectionTimeoutMs (1 s). */
  readonly connectionTimeoutMs?: number;
  /** Default {@link CLIENT_DEFAULTS}.requestTimeoutMs (3 s). */
  readonly requestTimeoutMs?: number;
}

/**
 * SDK client settings from {@link AwsClientOptions}. Note `throwOnRequestTimeout`: without it the
 * SDK's node handler only *logs a warning* when `requestTimeout` passes and keeps waiting.
 */
export function awsClientConfig(options: AwsClientOptions = {}) {
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}
