/**
 * Settings every AWS SDK client of the poller shares, in two profiles:
 *
 * - `default` (DynamoDB; the token reads of aws/json-call.ts use the same timeouts and agents): the SDK's own retry strategy (backoff on throttling
 *   and transient errors inside one call) and short timeouts, so that a dead endpoint cannot
 *   hang a tick. Those calls are idempotent or conditional, so an SDK retry is harmless.
 * - `send` (SES SendEmail, SNS Publish: alerts and ops messages): exactly ONE attempt per call
 *   and a generous timeout. A send is not idempotent: an SDK retry of a request AWS accepted
 *   but answered late sends a second SMS. The poller retries failed channels on later ticks,
 *   knowing which ones already worked, and a failure whose outcome is unknown is reported as
 *   `ambiguous` (notify/errors.ts).
 *
 * Endpoints and region come from the environment as usual (AWS_ENDPOINT_URL_*). SES and SNS are
 * called without an SDK client (aws/query-call.ts): `sendEndpointOptions` there gives their
 * endpoints the `send` profile; {@link awsClientConfig} remains for SDK clients (DynamoDB, tests).
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** Defaults of {@link AwsClientOptions}, per profile. */
export const CLIENT_DEFAULTS = {
  /** Attempts per call, the first included; the SDK backs off between them (throttling, 5xx, network). */
  maxAttempts: 3,
  /** TCP connect timeout per attempt. */
  connectionTimeoutMs: 1_000,
  /** Whole request/response timeout per attempt. */
  requestTimeoutMs: 3_000,
  /** The `send` profile: SES and SNS clients that deliver alerts. */
  send: {
    /** One attempt: the only retry layer for sends is the poller's (see the file comment). */
    maxAttempts: 1,
    /**
     * Connect timeout. Nothing was sent when it fires, so it is never ambiguous; 2 s rides out
     * one lost SYN (Linux retransmits it after 1 s), which a single attempt cannot retry.
     */
    connectionTimeoutMs: 2_000,
    /**
     * Timeout of the one attempt. SNS Publish and SES SendEmail answer in tens to hundreds of
     * milliseconds; a call still unanswered after 8 s is almost surely lost, and only then do we
     * give up and call the send ambiguous. Far above any normal latency, so ambiguous sends are
     * rare; short enough that a tick is not held up for long.
     */
    requestTimeoutMs: 8_000,
  },
  /**
   * Longest one `deliver()` takes: each channel's sends (one SNS publish; SES batches and the
   * retries without refused recipients, one after the other) are cut off at this budget. The
   * poller starts a delivery only when at least this much time is left in its tick.
   */
  sendTimeoutMs: 10_000,
  /** An unused kept connection is closed after this long (below the usual 5 s of servers). */
  idleSocketMs: 4_000,
} as const;

export interface AwsClientOptions {
  /** Default: the SDK's (AWS_REGION). */
  readonly region?: string;
  /** Default: the SDK's (honours AWS_ENDPOINT_URL_SES / AWS_ENDPOINT_URL_SNS). */
  readonly endpoint?: string;
  /**
   * `send` for clients that deliver alerts (one attempt, {@link CLIENT_DEFAULTS}.send timeouts;
   * `maxAttempts` is ignored). Default `default`.
   */
  readonly profile?: 'default' | 'send';
  /** Default {@link CLIENT_DEFAULTS}.maxAttempts (3). Ignored by the `send` profile: always 1. */
  readonly maxAttempts?: number;
  /** Default {@link CLIENT_DEFAULTS}.connectionTimeoutMs (1 s; `send`: 2 s). */
  readonly connectionTimeoutMs?: number;
  /** Default {@link CLIENT_DEFAULTS}.requestTimeoutMs (3 s; `send`: 8 s). */
  readonly requestTimeoutMs?: number;
}

/** Options of a client that delivers alerts: the `send` profile, always one attempt. */
export type SendClientOptions = Omit<AwsClientOptions, 'profile' | 'maxAttempts'>;

/**
 * SDK client settings from {@link AwsClientOptions}. Note `throwOnRequestTimeout`: without it the
 * SDK's node handler only *logs a warning* when `requestTimeout` passes and keeps waiting.
 */
export function awsClientConfig(options: AwsClientOptions = {}) {
  const send = options.profile === 'send';
  const defaults = send ? CLIENT_DEFAULTS.send : CLIENT_DEFAULTS;
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    maxAttempts: send ? CLIENT_DEFAULTS.send.maxAttempts : (options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts),
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? defaults.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? defaults.requestTimeoutMs,
      throwOnRequestTimeout: true,
      ...keptConnections(),
    },
  };
}

/**
 * Keep-alive Agents that drop a connection after {@link CLIENT_DEFAULTS}.idleSocketMs unused: a
 * server closes idle connections after a while (Node servers, the emulators: 5 s), and a request
 * written on a connection the server is closing is reset — for a send, an outcome nobody can know
 * (a possible second SMS). Dropping them first makes that rare. One pair per process, shared.
 */
let agents: { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined;
export function keptConnections() {
  agents ??= {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 50, timeout: CLIENT_DEFAULTS.idleSocketMs }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50, timeout: CLIENT_DEFAULTS.idleSocketMs }),
  };
  return agents;
}

/** Client settings for SES/SNS clients that deliver alerts (the `send` profile). */
export function sendClientConfig(options: SendClientOptions = {}) {
  return awsClientConfig({ ...options, profile: 'send' });
}
