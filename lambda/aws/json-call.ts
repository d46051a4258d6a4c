/**
 * One signed call to an AWS API that speaks the JSON protocol (awsJson1_1): the poller's two token
 * reads, SSM `GetParameter` and Secrets Manager `GetSecretValue` (config/tokens.ts). The SDK's own
 * parts do the work — SigV4 by `@smithy/signature-v4`, SHA-256 by `@smithy/core`, the request by
 * `@smithy/node-http-handler` with the other clients' kept connections and timeouts
 * (aws/clients.ts), credentials by the SDK's default chain (in the Lambda's bundle: the
 * environment, aws/lambda-credentials.ts) — but no service client: `@aws-sdk/client-ssm` alone
 * put 77 KiB into the Lambda's bundle (every SSM error class and schema) for one call a source
 * makes every five minutes. Reads are idempotent, so throttling, 5xx and network errors are
 * retried (CLIENT_DEFAULTS.maxAttempts); an error keeps the service's name for it
 * (`ParameterNotFound`), its HTTP status and fault, like an SDK error.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { CLIENT_DEFAULTS, keptConnections } from './clients';

/** A JSON-protocol service: how it is signed, addressed and overridden in the environment. */
export interface JsonService {
  /** SigV4 signing name and endpoint prefix: "ssm", "secretsmanager". */
  readonly signingName: string;
  /** The SDK's environment override, AWS_ENDPOINT_URL_<this>: "SSM", "SECRETS_MANAGER". */
  readonly endpointEnv: string;
  /** Prefix of X-Amz-Target: "AmazonSSM", "secretsmanager". */
  readonly targetPrefix: string;
}

export const SSM: JsonService = { signingName: 'ssm', endpointEnv: 'SSM', targetPrefix: 'AmazonSSM' };
export const SECRETS_MANAGER: JsonService = {
  signingName: 'secretsmanager',
  endpointEnv: 'SECRETS_MANAGER',
  targetPrefix: 'secretsmanager',
};

/** An error answer (or no answer) of a JSON-protocol call, shaped like the SDK's errors. */
export class AwsCallError extends Error {
  override readonly name: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode?: number; readonly attempts: number };
  constructor(name: string, message: string, status: number | undefined, attempts: number) {
    super(message);
    this.name = name;
    this.$fault = status !== undefined && status < 500 && status !== 429 ? 'client' : 'server';
    this.$metadata = { httpStatusCode: status, attempts };
  }
}

export interface JsonCallOptions {
  /** Default AWS_REGION (or AWS_DEFAULT_REGION). */
  readonly region?: string;
  /** Default AWS_ENDPOINT_URL_<service>, AWS_ENDPOINT_URL, else the service's regional endpoint. */
  readonly endpoint?: string;
  /** Default the SDK's default chain (the environment in the Lambda's bundle). */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Timeout of one attempt. Default CLIENT_DEFAULTS.requestTimeoutMs (3 s). */
  readonly requestTimeoutMs?: number;
  /** Default CLIENT_DEFAULTS.maxAttempts (3). */
  readonly maxAttempts?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Backoff before attempt n + 1 (n ≥ 1). Default 100 ms · 2^(n−1) with jitter. */
  readonly backoffMs?: (attempt: number) => number;
}

/** The largest answer read: a parameter holds ≤ 8 KB, a secret ≤ 64 KB. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Error names that say "try again" though their status is 400. */
const RETRYABLE_NAMES =
  /^(Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|TimeoutError|RequestTimeout|RequestTimeoutException|InternalServerError|InternalServiceError|ServiceUnavailable)$/;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

let handler: NodeHttpHandler | undefined;
let chain: AwsCredentialIdentityProvider | undefined;

/** `<target>` of `service` with `input`, answered JSON; throws AwsCallError (or the network's error) after the last attempt. */
export async function jsonCall(
  service: JsonService,
  action: string,
  input: unknown,
  options: JsonCallOptions = {},
): Promise<Record<string, unknown>> {
  const env = options.env ?? process.env;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsCallError('ConfigError', 'no AWS region: set AWS_REGION', undefined, 0);
  const endpoint = new URL(options.endpoint ?? endpointOf(service, region, env));
  handler ??= new NodeHttpHandler({
    connectionTimeout: CLIENT_DEFAULTS.connectionTimeoutMs,
    requestTimeout: CLIENT_DEFAULTS.requestTimeoutMs,
    throwOnRequestTimeout: true,
    ...keptConnections(),
  });
  chain ??= defaultProvider();
  const credentials = options.credentials ?? chain;
  const signer = new SignatureV4({ service: service.signingName, region, credentials, sha256: Sha256 });
  const body = JSON.stringify(input);
  const maxAttempts = options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts;
  const backoff = options.backoffMs ?? ((n: number) => 100 * 2 ** (n - 1) * (0.5 + Math.random()));
  for (let attempt = 1; ; attempt++) {
    try {
      const request = new HttpRequest({
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port === '' ? undefined : Number(endpoint.port),
        path: endpoint.pathname || '/',
        method: 'POST',
        headers: {
          host: endpoint.host,
          'content-type': 'application/x-amz-json-1.1',
          'content-length': String(Buffer.byteLength(body)),
          'x-amz-target': `${service.targetPrefix}.${action}`,
        },
        body,
      });
      const { response } = await handler.handle((await signer.sign(request)) as HttpRequest, {
        requestTimeout: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
      });
      const text = await readAll(response.body, response.statusCode, attempt);
      if (response.statusCode < 300) return parseAnswer(text, response.statusCode, attempt);
      const headers = response.headers as Record<string, string | undefined>;
      throw errorOf(text, response.statusCode, headers['x-amzn-errortype'], attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
    }
  }
}

/** Where a service answers: the environment's override, else `https://<name>.<region>.amazonaws.com` (`.com.cn` in China). */
export function endpointOf(service: JsonService, region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`AWS_ENDPOINT_URL_${service.endpointEnv}`] ?? env.AWS_ENDPOINT_URL;
  if (override) return override;
  return `https://${service.signingName}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

async function readAll(body: unknown, status: number, attempt: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += piece.length;
    if (size > MAX_ANSWER_BYTES) {
      (body as { destroy?: () => void }).destroy?.();
      throw new AwsCallError('AnswerTooLarge', `the answer exceeded ${MAX_ANSWER_BYTES} bytes`, status, attempt);
    }
    chunks.push(piece);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseAnswer(text: string, status: number, attempt: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AwsCallError('MalformedAnswer', `the answer (HTTP ${status}) is not a JSON object`, status, attempt);
}

/** The error of a non-2xx answer: its type from X-Amzn-ErrorType or `__type` ("…#ParameterNotFound"). */
function errorOf(text: string, status: number, typeHeader: string | undefined, attempt: number): AwsCallError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // an HTML error page or nothing: the status says enough
  }
  const rawType = typeHeader ?? (typeof parsed.__type === 'string' ? parsed.__type : undefined);
  const name = rawType?.split(':')[0]?.split('#').pop() || (status >= 500 ? 'ServiceUnavailable' : `Http${status}`);
  const message =
    typeof parsed.message === 'string'
      ? parsed.message
      : typeof parsed.Message === 'string'
        ? parsed.Message
        : `HTTP ${status}`;
  return new AwsCallError(name, message, status, attempt);
}

function retryable(error: unknown): boolean {
  if (error instanceof AwsCallError) {
    const status = error.$metadata.httpStatusCode;
    return (status !== undefined && (status >= 500 || status === 429)) || RETRYABLE_NAMES.test(error.name);
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return (
    (typeof name === 'string' && RETRYABLE_NAMES.test(name)) || (typeof code === 'string' && NETWORK_CODES.has(code))
  );
}
