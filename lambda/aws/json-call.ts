/**
 * The JSON protocols (awsJson1_0, awsJson1_1): `X-Amz-Target: <prefix>.<Action>`, a JSON body, a JSON
 * answer, errors as `{"__type": "…#Name", "message": …}` (or X-Amzn-ErrorType). Spoken to
 * DynamoDB (state/dynamodb.ts) and to the two token stores, SSM `GetParameter` and Secrets Manager
 * `GetSecretValue` (config/tokens.ts), through aws/endpoint.ts — no service client:
 * `@aws-sdk/client-ssm` alone put 77 KiB into the Lambda's bundle (every SSM error class and
 * schema) for one call a source makes every five minutes. An error keeps the service's name for
 * it (`ParameterNotFound`, `ConditionalCheckFailedException`), its HTTP status and fault, and the
 * answer's other fields (`details`), like an SDK error.
 */
import { AwsCallError, AwsEndpoint, type AwsService, type EndpointOptions, type WireAnswer } from './endpoint';

export { AwsCallError } from './endpoint';

/** A JSON-protocol service: how it is signed, addressed and overridden in the environment. */
export interface JsonService extends AwsService {
  /** Prefix of X-Amz-Target: "AmazonSSM", "secretsmanager", "DynamoDB_20120810". */
  readonly targetPrefix: string;
  /** "1.0" (DynamoDB) or "1.1" (SSM, Secrets Manager). */
  readonly jsonVersion: '1.0' | '1.1';
}

export const SSM: JsonService = {
  signingName: 'ssm',
  endpointEnv: 'SSM',
  targetPrefix: 'AmazonSSM',
  jsonVersion: '1.1',
};
export const SECRETS_MANAGER: JsonService = {
  signingName: 'secretsmanager',
  endpointEnv: 'SECRETS_MANAGER',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
};
export const DYNAMODB: JsonService = {
  signingName: 'dynamodb',
  endpointEnv: 'DYNAMODB',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
};

export type JsonCallOptions = EndpointOptions;

/** The largest token-store answer read: a parameter holds ≤ 8 KB, a secret ≤ 64 KB. */
const MAX_TOKEN_ANSWER_BYTES = 256 * 1024;

/** `<target>` of `service` with `input`, answered JSON; throws AwsCallError (or the network's error) after the last attempt. */
export async function jsonCall(
  service: JsonService,
  action: string,
  input: unknown,
  options: JsonCallOptions = {},
): Promise<Record<string, unknown>> {
  const endpoint = new AwsEndpoint(service, { maxAnswerBytes: MAX_TOKEN_ANSWER_BYTES, ...options });
  return jsonPost(endpoint, service, action, input);
}

/** One call on an endpoint made once (DynamoDB's, kept by the store). */
export async function jsonPost(
  endpoint: AwsEndpoint,
  service: JsonService,
  action: string,
  input: unknown,
  call: { readonly abortSignal?: AbortSignal } = {},
): Promise<Record<string, unknown>> {
  const request = {
    headers: {
      'content-type': `application/x-amz-json-${service.jsonVersion}`,
      'x-amz-target': `${service.targetPrefix}.${action}`,
    },
    body: JSON.stringify(input),
  };
  const answer = await endpoint.post(request, jsonError, call);
  return parseAnswer(answer.text, answer.status);
}

function parseAnswer(text: string, status: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AwsCallError('MalformedAnswer', `the answer (HTTP ${status}) is not a JSON object`, status, 1);
}

/** The error of a non-2xx answer: its type from X-Amzn-ErrorType or `__type` ("…#ParameterNotFound"). */
function jsonError(answer: WireAnswer, attempt: number): AwsCallError {
  const { text, status } = answer;
  const typeHeader = answer.headers['x-amzn-errortype'];
  let parsed: Record<string, unknown> & { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as typeof parsed;
  } catch {
    // an HTML error page or nothing: the status says enough
  }
  const rawType = typeHeader ?? (typeof parsed.__type === 'string' ? parsed.__type : undefined);
  const name =
    rawType?.split(',')[0]?.split(':')[0]?.split('#').pop()?.trim() ||
    (status >= 500 ? 'ServiceUnavailable' : `Http${status}`);
  const message =
    typeof parsed.message === 'string'
      ? parsed.message
      : typeof parsed.Message === 'string'
        ? parsed.Message
        : `HTTP ${status}`;
  const { __type: _type, message: _m, Message: _M, ...details } = parsed;
  return new AwsCallError(name, message, status, attempt, details);
}
