/**
 * Settings every AWS call of the poller shares (aws/endpoint.ts), in two profiles:
 *
 * - `default` (DynamoDB, the token reads): retries like the SDK's (backoff on throttling and
 *   transient errors inside one call) and short timeouts, so that a dead endpoint cannot
 *   hang a tick. Those calls are idempotent or conditional, so a retry is harmless.
 * - `send` (SES SendEmail, SNS Publish: alerts and ops messages): exactly ONE attempt per call
 *   and a generous timeout. A send is not idempotent: a retry of a request AWS accepted
 *   but answered late sends a second SMS. The poller retries failed channels on later ticks,
 *   knowing which ones already worked, and a failure whose outcome is unknown is reported as
 *   `ambiguous` (notify/errors.ts).
 *
 * Endpoints and region come from the environment as the SDK reads them (AWS_REGION,
 * AWS_ENDPOINT_URL_*). `sendEndpointOptions` (aws/query-call.ts) gives SES and SNS the `send` profile.
 */

import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** The profiles' settings. */
export const CLIENT_DEFAULTS = {
  /** Attempts per call, the first included; aws/endpoint.ts backs off between them (throttling, 5xx, network). */
  maxAttempts: 3,
  /** TCP connect timeout per attempt. */
  connectionTimeoutMs: 1_000,
  /** Whole request/response timeout per attempt. */
  requestTimeoutMs: 3_000,
  /** The `send` profile: the SES and SNS calls that deliver alerts. */
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
