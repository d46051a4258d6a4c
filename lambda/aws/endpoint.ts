/**
 * One signed HTTPS call to an AWS service, retried as the SDK would retry it — the one place the
 * poller talks to AWS. The protocols on top (aws/json-call.ts for DynamoDB, SSM and Secrets
 * Manager; aws/query-call.ts for SES and SNS) only encode a request and decode its answer.
 * The SDK's own parts do the work: SigV4 by `@smithy/signature-v4`, SHA-256 by `@smithy/core`,
 * the request by `@smithy/node-http-handler` with kept connections and the timeouts of
 * aws/clients.ts, credentials by the SDK's default chain (in the Lambda's bundle: the environment,
 * aws/lambda-credentials.ts). No service client: the DynamoDB, SES and SNS clients put ≈ 200 KiB
 * into the Lambda's bundle (every error class and schema of each service) and ≈ 40 ms into its
 * cold start, for the six operations the poller calls.
 *
 * Errors are shaped like the SDK's (`name`, `$fault`, `$metadata.httpStatusCode`), so
 * notify/errors.ts classifies both alike. Retries: throttling, 5xx and network errors, with
 * exponential backoff and jitter, up to `maxAttempts` (the `send` profile: one attempt).
 * `requestHandler` is the seam a test uses to inject faults at the wire (test/support).
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest, type HttpResponse } from '@smithy/core/transport';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CLIENT_DEFAULTS, keptConnections } from './clients';

/** How a service is signed and addressed. */
export interface AwsService {
  /** SigV4 signing name (the credential scope's service): "dynamodb", "ses", "sns", "ssm". */
  readonly signingName: string;
  /** The regional endpoint's host prefix, when it is not the signing name: SES answers at "email". */
  readonly endpointPrefix?: string;
  /** The SDK's environment override, AWS_ENDPOINT_URL_<this>: "DYNAMODB", "SES", "SECRETS_MANAGER". */
  readonly endpointEnv: string;
}

/** What sends the signed request: `@smithy/node-http-handler`'s NodeHttpHandler, or a test's wrapper of it. */
export interface RequestHandler {
  handle(
    request: HttpRequest,
    options?: { abortSignal?: AbortSignal; requestTimeout?: number },
  ): Promise<{ response: HttpResponse }>;
}

/** An error answer (or no usable answer) of a call, shaped like the SDK's errors. */
export class AwsCallError extends Error {
  override readonly name: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode?: number; readonly attempts: number };
  /** The error answer's other fields (DynamoDB's `Item` of a refused condition). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(
    name: string,
    message: string,
    status: number | undefined,
    attempts: number,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = name;
    this.$fault = status !== undefined && status < 500 && status !== 429 ? 'client' : 'server';
    this.$metadata = { httpStatusCode: status, attempts };
    this.details = details;
  }
}

export interface EndpointOptions {
  /** Default AWS_REGION (or AWS_DEFAULT_REGION). */
  readonly region?: string;
  /** Default AWS_ENDPOINT_URL_<service>, AWS_ENDPOINT_URL, else the service's regional endpoint. */
  readonly endpoint?: string;
  /** Default the SDK's default chain (the environment in the Lambda's bundle). */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Timeout of one attempt. Default CLIENT_DEFAULTS.requestTimeoutMs (3 s). */
  readonly requestTimeoutMs?: number;
  /** TCP connect timeout. Default CLIENT_DEFAULTS.connectionTimeoutMs (1 s). */
  readonly connectionTimeoutMs?: number;
  /** Attempts per call, the first included. Default CLIENT_DEFAULTS.maxAttempts (3). */
  readonly maxAttempts?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Backoff before attempt n + 1 (n ≥ 1). Default 100 ms · 2^(n−1) with jitter. */
  readonly backoffMs?: (attempt: number) => number;
  /** Default a NodeHttpHandler shared by every endpoint with the same connect timeout. */
  readonly requestHandler?: RequestHandler;
  /** The largest answer read. Default 1 MiB (DynamoDB's client: 20 MiB). */
  readonly maxAnswerBytes?: number;
}

/** A request of one protocol: its headers (without host and length) and body. */
export interface WireRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A 2xx answer, read whole. */
export interface WireAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
}

/** How a protocol reads a non-2xx answer into an error. */
export type ErrorReader = (answer: WireAnswer, attempt: number) => AwsCallError;

/** Error names that say "try again" though their status is 400. */
const RETRYABLE_NAMES =
  /^(Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|ProvisionedThroughputExceededException|RequestThrottled|TimeoutError|RequestTimeout|RequestTimeoutException|InternalServerError|InternalServiceError|InternalFailure|ServiceUnavailable)$/;
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const handlers = new Map<number, NodeHttpHandler>();
let chain: AwsCredentialIdentityProvider | undefined;

/** A service's endpoint in one region, signed with one set of credentials; {@link AwsEndpoint.post} makes the calls. */
export class AwsEndpoint {
  /** Undefined when neither the options nor the environment name a region (calls then fail with ConfigError). */
  readonly region: string | undefined;
  readonly #url: URL | undefined;
  readonly #signer: SignatureV4 | undefined;
  readonly #handler: RequestHandler;
  readonly #options: EndpointOptions;

  constructor(service: AwsService, options: EndpointOptions = {}) {
    const env = options.env ?? process.env;
    this.#options = options;
    this.region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const connect = options.connectionTimeoutMs ?? CLIENT_DEFAULTS.connectionTimeoutMs;
    this.#handler = options.requestHandler ?? sharedHandler(connect);
    if (this.region === undefined) return;
    this.#url = new URL(options.endpoint ?? endpointOf(service, this.region, env));
    chain ??= defaultProvider();
    const credentials = options.credentials ?? chain;
    this.#signer = new SignatureV4({ service: service.signingName, region: this.region, credentials, sha256: Sha256 });
  }

  /**
   * POST `request`, signed, until an attempt answers 2xx (returned) or the last attempt fails
   * (thrown: the protocol's error, or the network's). An aborted `abortSignal` ends the call at once.
   */
  async post(
    request: WireRequest,
    readError: ErrorReader,
    call: { readonly abortSignal?: AbortSignal } = {},
  ): Promise<WireAnswer> {
    const url = this.#url;
    const signer = this.#signer;
    if (url === undefined || signer === undefined)
      throw new AwsCallError('ConfigError', 'no AWS region: set AWS_REGION', undefined, 0);
    const maxAttempts = this.#options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts;
    const backoff = this.#options.backoffMs ?? ((n: number) => 100 * 2 ** (n - 1) * (0.5 + Math.random()));
    const maxBytes = this.#options.maxAnswerBytes ?? 1_048_576;
    const timeoutMs = this.#options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      // The handler's requestTimeout ends at the answer's headers; this deadline covers its body too.
      const attemptDeadline = AbortSignal.timeout(timeoutMs);
      const signal = call.abortSignal ? AbortSignal.any([call.abortSignal, attemptDeadline]) : attemptDeadline;
      try {
        const http = new HttpRequest({
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: url.pathname || '/',
          method: 'POST',
          headers: { ...request.headers, host: url.host, 'content-length': String(Buffer.byteLength(request.body)) },
          body: request.body,
        });
        const { response } = await this.#handler.handle((await signer.sign(http)) as HttpRequest, {
          requestTimeout: timeoutMs,
          abortSignal: signal,
        });
        const answer: WireAnswer = {
          status: response.statusCode,
          headers: response.headers as Record<string, string | undefined>,
          text: await readAll(response.body, response.statusCode, attempt, maxBytes),
        };
        if (answer.status < 300) return answer;
        throw readError(answer, attempt);
      } catch (thrown) {
        const error =
          attemptDeadline.aborted && !call.abortSignal?.aborted ? attemptTimedOut(timeoutMs, thrown) : thrown;
        if (attempt >= maxAttempts || !retryable(error) || call.abortSignal?.aborted) throw error;
        await sleep(backoff(attempt), call.abortSignal);
        if (call.abortSignal?.aborted) throw error;
      }
    }
  }
}

/** Where a service answers: the environment's override, else `https://<name>.<region>.amazonaws.com` (`.com.cn` in China). */
export function endpointOf(service: AwsService, region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`AWS_ENDPOINT_URL_${service.endpointEnv}`] ?? env.AWS_ENDPOINT_URL;
  if (override) return override;
  const prefix = service.endpointPrefix ?? service.signingName;
  return `https://${prefix}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Whether the SDK would try a failed attempt again: throttling, 5xx, 429, timeouts, network errors. */
export function retryable(error: unknown): boolean {
  if (error instanceof AwsCallError) {
    const status = error.$metadata.httpStatusCode;
    return (status !== undefined && (status >= 500 || status === 429)) || RETRYABLE_NAMES.test(error.name);
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return (
    (typeof name === 'string' && RETRYABLE_NAMES.test(name)) || (typeof code === 'string' && NETWORK_CODES.has(code))
  );
}

/** The attempt's own deadline passed (while the answer's body was still coming): a TimeoutError, as the handler's. */
function attemptTimedOut(timeoutMs: number, cause: unknown): Error {
  return Object.assign(new Error(`the answer did not arrive whole within ${timeoutMs} ms`, { cause }), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
  });
}

/** Wait `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The handler endpoints use by default: kept connections (aws/clients.ts), one per connect timeout, shared. */
export function sharedHandler(connectionTimeoutMs: number = CLIENT_DEFAULTS.connectionTimeoutMs): NodeHttpHandler {
  let handler = handlers.get(connectionTimeoutMs);
  if (handler === undefined) {
    handler = new NodeHttpHandler({
      connectionTimeout: connectionTimeoutMs,
      requestTimeout: CLIENT_DEFAULTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
      ...keptConnections(),
    });
    handlers.set(connectionTimeoutMs, handler);
  }
  return handler;
}

async function readAll(body: unknown, status: number, attempt: number, maxBytes: number): Promise<string> {
  if (body === undefined || body === null) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += piece.length;
    if (size > maxBytes) {
      (body as { destroy?: () => void }).destroy?.();
      throw new AwsCallError('AnswerTooLarge', `the answer exceeded ${maxBytes} bytes`, status, attempt);
    }
    chunks.push(piece);
  }
  return Buffer.concat(chunks).toString('utf8');
}
