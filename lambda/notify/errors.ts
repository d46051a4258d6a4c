/**
 * Turns whatever the AWS SDK throws while sending into the delivery port's error kinds, with a
 * message that tells the operator what to fix in plain words:
 *
 *   throttled   Throttling/ThrottlingException/Throttled/TooManyRequests/HTTP 429, SES
 *               "Maximum sending rate exceeded" (and the daily quota), KMS throttling
 *   transient   network errors (refused, reset, DNS), timeouts, aborted calls, HTTP 5xx,
 *               InternalError/ServiceUnavailable, expired credentials (they are refreshed)
 *   permanent   MessageRejected (unverified sender, SES sandbox), MailFromDomainNotVerified,
 *               AccessDenied/AuthorizationError/bad credentials, InvalidParameter (bad phone or
 *               address), opted-out numbers, KMS key disabled/inaccessible, NotFound (topic
 *               deleted), paused sending, missing region/credentials, any other HTTP 4xx
 *
 * Messages never contain credentials: the AWS text quoted in them is clipped and scrubbed of
 * anything that looks like an access key id or a signature.
 */
import { parseMailbox } from '../core/mailbox';
import type { Channel, DeliveryErrorKind } from './port';

/** A classified delivery failure; the deliverer turns it into a `ChannelResult`. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly channel: Channel,
    readonly kind: DeliveryErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the classifier knows about the call that failed, for messages the operator can act on. */
export interface SendContext {
  readonly service: 'ses' | 'sns';
  /** AWS region of the client, when known. */
  readonly region?: string;
  /** SES: the configured sender (`email.from`). */
  readonly sender?: string;
  /** SES: the addresses of the failed call. */
  readonly recipients?: readonly string[];
  /** SNS: the alerts topic. */
  readonly topicArn?: string;
}

export interface Classified {
  readonly kind: DeliveryErrorKind;
  readonly message: string;
}

const THROTTLING = new Set([
  'Throttling',
  'Throttled',
  'TooManyRequests',
  'RequestThrottled',
  'RequestLimitExceeded',
  'SlowDown',
  'KMSThrottling',
  'ProvisionedThroughputExceeded',
  'TransactionInProgress',
]);
const SERVER = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceFailure',
  'RequestTimeout',
  'ConcurrentAccess',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
]);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClient',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSignature',
  'MissingAuthenticationToken',
  'InvalidSecurity',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AuthorizationError',
  'NotAuthorized',
  'OptInRequired',
  'AccountSendingPaused',
  'ConfigurationSetSendingPaused',
]);
const INVALID = new Set([
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'Validation',
  'ValidationError',
  'MissingParameter',
  'InvalidAction',
  'MalformedQueryString',
]);
const KMS = new Set(['KMSDisabled', 'KMSAccessDenied', 'KMSNotFound', 'KMSInvalidState', 'KMSOptInRequired']);
const NOT_FOUND = new Set(['NotFound', 'ResourceNotFound', 'ConfigurationSetDoesNotExist', 'TemplateDoesNotExist']);

/** Classify an error thrown by an SES or SNS call. Never throws. */
export function classifySendError(error: unknown, context: SendContext): Classified {
  const facts = errorFacts(error);
  const service = context.service === 'ses' ? 'SES' : 'SNS';
  const where = context.region ? ` (${context.region})` : '';
  const aws = facts.message ? `: "${facts.message}"` : '';
  const id = facts.id;

  // Throttling first: SES reports its sending rate as a 400 "Throttling".
  if (
    THROTTLING.has(id) ||
    facts.status === 429 ||
    /maximum sending rate exceeded/i.test(facts.message) ||
    facts.throttling
  ) {
    if (/daily message quota exceeded/i.test(facts.message)) {
      return {
        kind: 'throttled',
        message: `${service}${where} daily sending quota reached${aws}; request a higher quota in the SES console (Account dashboard)`,
      };
    }
    return {
      kind: 'throttled',
      message: `${service}${where} is throttling the sends${aws}; they will be retried with backoff. If it persists, raise the sending rate quota`,
    };
  }
  if (
    facts.name === 'AbortError' ||
    facts.name === 'TimeoutError' ||
    facts.code === 'ETIMEDOUT' ||
    id === 'RequestTimeout'
  ) {
    return {
      kind: 'transient',
      message: `no answer from ${service}${where} in time${detail(facts)}; will retry. If it persists, check the endpoint and the network path (NAT/VPC endpoint) to ${service}`,
    };
  }
  if (
    (facts.code !== undefined && NETWORK_CODES.has(facts.code)) ||
    (facts.status === undefined && /socket hang up|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|network/i.test(facts.message))
  ) {
    return {
      kind: 'transient',
      message: `cannot reach ${service}${where}${detail(facts)}; will retry. If it persists, check the endpoint and the network path (NAT/VPC endpoint) to ${service}`,
    };
  }
  if ((facts.status !== undefined && facts.status >= 500) || facts.fault === 'server' || SERVER.has(id)) {
    return {
      kind: 'transient',
      message: `${service}${where} had an internal error${aws}${facts.status ? ` (HTTP ${facts.status})` : ''}; will retry`,
    };
  }
  if (id === 'ExpiredToken' || id === 'RequestExpired') {
    return {
      kind: 'transient',
      message: `${service}${where} rejected expired credentials${aws}; fresh ones are fetched on the next attempt (check the clock if it persists)`,
    };
  }
  if (facts.name === 'CredentialsProviderError' || /could not load credentials/i.test(facts.message)) {
    return {
      kind: 'permanent',
      message: `no AWS credentials for ${service}${aws}: give the function a role (or set AWS credentials when running locally)`,
    };
  }
  if (/region is missing/i.test(facts.message)) {
    return {
      kind: 'permanent',
      message: `no AWS region configured for ${service}: set AWS_REGION (or the client's region)`,
    };
  }

  // SES
  if (id === 'MessageRejected' || id === 'FromEmailAddressNotVerified') return sesRejected(facts, context, where, aws);
  if (id === 'MailFromDomainNotVerified') {
    return {
      kind: 'permanent',
      message: `SES${where} refused the sender ${context.sender ?? ''}: its custom MAIL FROM domain is not verified${aws}. Fix the MX/SPF records of the MAIL FROM domain, or remove the custom MAIL FROM setting`,
    };
  }
  if (id === 'AccountSendingPaused' || id === 'ConfigurationSetSendingPaused') {
    return {
      kind: 'permanent',
      message: `SES${where} sending is paused for the account or configuration set${aws}: check the reputation page in the SES console and resume sending`,
    };
  }

  // Either service
  if (BAD_CREDENTIALS.has(id)) {
    return {
      kind: 'permanent',
      message: `${service}${where} did not accept the AWS credentials (${id})${aws}: check the role or keys the function runs with`,
    };
  }
  if (ACCESS_DENIED.has(id)) {
    const action =
      context.service === 'ses'
        ? `ses:SendEmail for ${context.sender ?? 'the sender identity'}`
        : `sns:Publish on ${context.topicArn ?? 'the alerts topic'}`;
    return {
      kind: 'permanent',
      message: `${service}${where} denied the send (${id})${aws}: grant the function's role ${action}`,
    };
  }
  if (id === 'OptedOut' || /opted[ -]?out/i.test(facts.message)) {
    return {
      kind: 'permanent',
      message: `${service}${where}: the phone number has opted out of SMS${aws}. It must reply to opt back in, or be opted in with OptInPhoneNumber (once every 30 days)`,
    };
  }
  if (KMS.has(id)) {
    return {
      kind: 'permanent',
      message: `${service}${where} cannot use the KMS key of ${context.topicArn ?? 'the topic'} (${id})${aws}: enable the key and allow the function's role kms:GenerateDataKey and kms:Decrypt on it`,
    };
  }
  if (NOT_FOUND.has(id) || facts.status === 404) {
    const what =
      context.service === 'sns'
        ? `the topic ${context.topicArn ?? ''} does not exist (deleted, or another region/account?)`
        : 'a resource named in the send does not exist';
    return {
      kind: 'permanent',
      message: `${service}${where}: ${what}${aws}; redeploy the stack or fix the configured ARN`,
    };
  }
  if (INVALID.has(id)) {
    const hint =
      context.service === 'ses'
        ? 'check the addresses in routes[].email, email.from and email.replyTo'
        : 'check the message attributes (table names) and the topic ARN';
    return { kind: 'permanent', message: `${service}${where} refused the request as invalid (${id})${aws}: ${hint}` };
  }
  if (id === 'EndpointDisabled' || id === 'PlatformApplicationDisabled') {
    return {
      kind: 'permanent',
      message: `${service}${where}: the subscriber endpoint is disabled${aws}; re-enable or remove the subscription`,
    };
  }
  if (facts.status !== undefined && facts.status >= 400) {
    return {
      kind: 'permanent',
      message: `${service}${where} refused the send (${id || `HTTP ${facts.status}`})${aws}; retrying will not help until this is fixed`,
    };
  }
  // No HTTP status at all: something between us and AWS went wrong.
  return { kind: 'transient', message: `sending through ${service}${where} failed${detail(facts)}; will retry` };
}

/** A classified {@link DeliveryError} for a channel. */
export function toDeliveryError(channel: Channel, error: unknown, context: SendContext): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const { kind, message } = classifySendError(error, context);
  return new DeliveryError(channel, kind, message, { cause: error });
}

function sesRejected(facts: ErrorFacts, context: SendContext, where: string, aws: string): Classified {
  const failed = failedIdentities(facts.message);
  if (failed.length > 0 || /not verified/i.test(facts.message)) {
    const sender = context.sender ? parseMailbox(context.sender).address : undefined;
    const senderFailed =
      sender !== undefined &&
      (failed.length === 0 ? /sender|from/i.test(facts.message) : failed.includes(sender.toLowerCase()));
    const recipientsFailed = failed.filter((a) => a !== sender?.toLowerCase());
    const parts: string[] = [];
    if (senderFailed || failed.length === 0) {
      parts.push(
        `SES refused the sender ${context.sender ?? '(email.from)'}: verify the address or its domain in SES${where}` +
          (recipientsFailed.length === 0 ? ', or leave the SES sandbox' : ''),
      );
    }
    if (recipientsFailed.length > 0) {
      parts.push(
        `SES${where} is in the sandbox and refused unverified recipients ${recipientsFailed.join(', ')}: request production access ` +
          '(leave the SES sandbox) or verify each recipient',
      );
    }
    return { kind: 'permanent', message: `${parts.join('; ')}${aws ? ` (SES said${aws.slice(1)})` : ''}` };
  }
  return {
    kind: 'permanent',
    message: `SES${where} rejected the message${aws}: check the sender, the recipients and the content`,
  };
}

/** "…failed the check in region EU-CENTRAL-1: a@x, b@y" → ["a@x", "b@y"]. */
function failedIdentities(message: string): string[] {
  const match = /failed the check in region [^:]*:\s*(.+)$/i.exec(message);
  return match
    ? match[1]!
        .split(/[,\s]+/)
        .filter((s) => s.includes('@'))
        .map((s) => s.toLowerCase().replace(/[.;]+$/, ''))
    : [];
}

interface ErrorFacts {
  readonly name: string;
  /** `name` (or `Code`) without a trailing "Exception": "NotFound", "Throttling". */
  readonly id: string;
  readonly code?: string;
  readonly status?: number;
  readonly fault?: string;
  readonly throttling: boolean;
  /** Scrubbed and clipped. */
  readonly message: string;
}

function errorFacts(error: unknown): ErrorFacts {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as Record<
    string,
    unknown
  >;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const metadata = e.$metadata as { httpStatusCode?: unknown } | undefined;
  const status = typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
  const name = text(e.name) ?? 'Error';
  const awsCode = text(e.Code) ?? (name === 'Error' ? undefined : name);
  const retryable = e.$retryable as { throttling?: unknown } | undefined;
  const code = text(e.code) ?? text((e.cause as Record<string, unknown> | undefined)?.code);
  return {
    name,
    id: (awsCode ?? '').replace(/Exception$/, ''),
    ...(code !== undefined && { code }),
    ...(status !== undefined && { status }),
    ...(text(e.$fault) !== undefined && { fault: text(e.$fault)! }),
    throttling: retryable?.throttling === true,
    message: scrub(text(e.message) ?? text(e.Message) ?? ''),
  };
}

function detail(facts: ErrorFacts): string {
  const what = facts.code ?? (facts.name !== 'Error' ? facts.name : undefined);
  const message = facts.message ? `: ${facts.message}` : '';
  return what || message ? ` (${what ?? ''}${what ? message : message.slice(2)})` : '';
}

const MAX_QUOTED = 300;

/** AWS text as it may be quoted: one line, clipped, without access key ids or signatures. */
export function scrub(text: string): string {
  const line = text
    .replace(/\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b/g, '[access key id]')
    .replace(/(Signature|X-Amz-Signature|X-Amz-Security-Token|Credential)=[^\s&,]+/gi, '$1=[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > MAX_QUOTED ? `${line.slice(0, MAX_QUOTED)}…` : line;
}
