/**
 * Turns whatever a send throws (aws/endpoint.ts's AwsCallError, shaped like the SDK's errors, or
 * the network's error) into the delivery port's error kinds, with a message that tells the
 * operator what to fix in plain words, and says whether the send is
 * *ambiguous*: whether the request may have reached AWS and been accepted, so that a retry may
 * deliver it twice. The rules are one table, {@link SEND_ERROR_RULES}: `match → kind → message`,
 * the first rule that matches wins. Throttling is recognised as the SDK's classifier
 * (`isThrottlingError` of `@smithy/core/retry`: its names, HTTP 429, `$retryable.throttling`)
 * does, plus the codes SES and SNS use; its names are copied ({@link SDK_THROTTLING_NAMES}) so that
 * the SDK's retry module stays out of the bundle (test/unit/notify-errors.test.ts compares them).
 *
 * Ambiguous: request timeouts and aborts after the request went out, connection resets and
 * hang-ups (the request may have been written), HTTP 5xx other than 503 (the service failed
 * while handling it), and anything unrecognised without a 4xx status. Not ambiguous: refused
 * connections, DNS failures, connection timeouts, throttling, 503 and every 4xx.
 *
 * Messages never contain credentials: the AWS text quoted in them is clipped and scrubbed of
 * anything that looks like an access key id or a signature.
 */
import { parseMailbox } from '../core/mailbox';
import type { Channel, DeliveryErrorKind } from '../domain/delivery';

/** A classified delivery failure; the deliverer turns it into a `ChannelResult`. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  /** The request may have reached AWS and been accepted: a retry may send it twice. */
  readonly ambiguous: boolean;
  constructor(
    readonly channel: Channel,
    readonly kind: DeliveryErrorKind,
    message: string,
    options?: { cause?: unknown; ambiguous?: boolean },
  ) {
    super(message, options);
    this.ambiguous = options?.ambiguous === true;
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
  /** Present when the request may have been accepted (see the file comment). */
  readonly ambiguous?: true;
}

/** What an SDK error says, read once. */
export interface ErrorFacts {
  readonly name: string;
  /** `name` (or `Code`) without a trailing "Exception": "NotFound", "Throttling". */
  readonly id: string;
  readonly code?: string;
  readonly status?: number;
  readonly fault?: string;
  /** The SDK's classifier (or the error's `$retryable.throttling`) calls it throttling. */
  readonly throttling: boolean;
  /** Scrubbed and clipped. */
  readonly message: string;
}

/** The words a rule's message is built from. */
interface Words {
  readonly facts: ErrorFacts;
  readonly context: SendContext;
  /** "SES" or "SNS". */
  readonly service: string;
  /** " (eu-central-1)" or "". */
  readonly where: string;
  /** `: "<AWS text>"` or "". */
  readonly aws: string;
}

/** One line of the table: the first rule whose `match` holds classifies the error. */
export interface SendErrorRule {
  /** What the rule recognises, for readers and test names. */
  readonly when: string;
  readonly match: (facts: ErrorFacts) => boolean;
  readonly kind: DeliveryErrorKind;
  /** Whether the request may have been accepted. Default: not ambiguous. */
  readonly ambiguous?: (facts: ErrorFacts) => boolean;
  readonly message: (words: Words) => string;
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
/** Network failures before anything was sent: no connection was ever made. */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);
/** Network failures on an open connection: the request may have been written, and accepted. */
const CUT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);
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

const isThrottled = (f: ErrorFacts): boolean =>
  THROTTLING.has(f.id) || f.status === 429 || /maximum sending rate exceeded/i.test(f.message) || f.throttling;
/** The SDK's connection timeout: the socket never connected, so nothing was sent. */
const neverConnected = (f: ErrorFacts): boolean => /did not establish a connection/i.test(f.message);
const retryHint = (service: string) => `check the endpoint and the network path (NAT/VPC endpoint) to ${service}`;

/** The rules, in order. */
export const SEND_ERROR_RULES: readonly SendErrorRule[] = [
  // Throttling first: SES reports its sending rate as a 400 "Throttling".
  {
    when: 'SES daily sending quota',
    match: (f) => isThrottled(f) && /daily message quota exceeded/i.test(f.message),
    kind: 'throttled',
    message: ({ service, where, aws }) =>
      `${service}${where} daily sending quota reached${aws}; request a higher quota in the SES console (Account dashboard)`,
  },
  {
    when: 'throttling (HTTP 429, Throttling/Throttled/TooManyRequests, SES sending rate, KMS)',
    match: isThrottled,
    kind: 'throttled',
    message: ({ service, where, aws }) =>
      `${service}${where} is throttling the sends${aws}; they will be retried with backoff. If it persists, raise the sending rate quota`,
  },
  {
    when: 'timeouts and aborts',
    match: (f) =>
      f.name === 'AbortError' || f.name === 'TimeoutError' || f.code === 'ETIMEDOUT' || f.id === 'RequestTimeout',
    kind: 'transient',
    // AWS's own RequestTimeout (4xx) means it never read the whole request.
    ambiguous: (f) => !neverConnected(f) && !(f.id === 'RequestTimeout' && f.status !== undefined && f.status < 500),
    message: ({ facts, service, where }) =>
      `no answer from ${service}${where} in time${detail(facts)}; will retry. If it persists, ${retryHint(service)}`,
  },
  {
    when: 'network errors (refused, reset, DNS)',
    match: (f) =>
      (f.code !== undefined && (NOT_CONNECTED_CODES.has(f.code) || CUT_CODES.has(f.code))) ||
      (f.status === undefined && /socket hang up|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|network/i.test(f.message)),
    kind: 'transient',
    ambiguous: (f) =>
      f.code !== undefined ? !NOT_CONNECTED_CODES.has(f.code) : !/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/i.test(f.message),
    message: ({ facts, service, where }) =>
      `cannot reach ${service}${where}${detail(facts)}; will retry. If it persists, ${retryHint(service)}`,
  },
  {
    when: 'HTTP 5xx and internal errors',
    match: (f) => (f.status !== undefined && f.status >= 500) || f.fault === 'server' || SERVER.has(f.id),
    kind: 'transient',
    // 503 ServiceUnavailable is a refusal to take the request; 500/502/504 may come after it was handled.
    ambiguous: (f) =>
      !(f.status === 503 || f.id === 'ServiceUnavailable' || f.id === 'ConcurrentAccess') &&
      (f.status === undefined || f.status >= 500),
    message: ({ facts, service, where, aws }) =>
      `${service}${where} had an internal error${aws}${facts.status ? ` (HTTP ${facts.status})` : ''}; will retry`,
  },
  {
    when: 'expired credentials',
    match: (f) => f.id === 'ExpiredToken' || f.id === 'RequestExpired',
    kind: 'transient',
    message: ({ service, where, aws }) =>
      `${service}${where} rejected expired credentials${aws}; fresh ones are fetched on the next attempt (check the clock if it persists)`,
  },
  {
    when: 'no credentials',
    match: (f) => f.name === 'CredentialsProviderError' || /could not load credentials/i.test(f.message),
    kind: 'permanent',
    message: ({ service, aws }) =>
      `no AWS credentials for ${service}${aws}: give the function a role (or set AWS credentials when running locally)`,
  },
  {
    when: 'no region',
    // The SDK's "Region is missing"; aws/endpoint.ts's ConfigError "no AWS region".
    match: (f) => /region is missing/i.test(f.message) || (f.name === 'ConfigError' && /region/i.test(f.message)),
    kind: 'permanent',
    message: ({ service }) => `no AWS region configured for ${service}: set AWS_REGION (or the client's region)`,
  },
  {
    when: 'SES MessageRejected (unverified sender or recipients, other rejections)',
    match: (f) => f.id === 'MessageRejected' || f.id === 'FromEmailAddressNotVerified',
    kind: 'permanent',
    message: sesRejectedMessage,
  },
  {
    when: 'SES custom MAIL FROM domain not verified',
    match: (f) => f.id === 'MailFromDomainNotVerified',
    kind: 'permanent',
    message: ({ context, where, aws }) =>
      `SES${where} refused the sender ${context.sender ?? ''}: its custom MAIL FROM domain is not verified${aws}. Fix the MX/SPF records of the MAIL FROM domain, or remove the custom MAIL FROM setting`,
  },
  {
    when: 'SES sending paused',
    match: (f) => f.id === 'AccountSendingPaused' || f.id === 'ConfigurationSetSendingPaused',
    kind: 'permanent',
    message: ({ where, aws }) =>
      `SES${where} sending is paused for the account or configuration set${aws}: check the reputation page in the SES console and resume sending`,
  },
  {
    when: 'credentials not accepted',
    match: (f) => BAD_CREDENTIALS.has(f.id),
    kind: 'permanent',
    message: ({ facts, service, where, aws }) =>
      `${service}${where} did not accept the AWS credentials (${facts.id})${aws}: check the role or keys the function runs with`,
  },
  {
    when: 'access denied',
    match: (f) => ACCESS_DENIED.has(f.id),
    kind: 'permanent',
    message: ({ facts, context, service, where, aws }) => {
      const action =
        context.service === 'ses'
          ? `ses:SendEmail for ${context.sender ?? 'the sender identity'}`
          : `sns:Publish on ${context.topicArn ?? 'the alerts topic'}`;
      return `${service}${where} denied the send (${facts.id})${aws}: grant the function's role ${action}`;
    },
  },
  {
    when: 'phone number opted out',
    match: (f) => f.id === 'OptedOut' || /opted[ -]?out/i.test(f.message),
    kind: 'permanent',
    message: ({ service, where, aws }) =>
      `${service}${where}: the phone number has opted out of SMS${aws}. It must reply to opt back in, or be opted in with OptInPhoneNumber (once every 30 days)`,
  },
  {
    when: 'KMS key unusable',
    match: (f) => KMS.has(f.id),
    kind: 'permanent',
    message: ({ facts, context, service, where, aws }) =>
      `${service}${where} cannot use the KMS key of ${context.topicArn ?? 'the topic'} (${facts.id})${aws}: enable the key and allow the function's role kms:GenerateDataKey and kms:Decrypt on it`,
  },
  {
    when: 'not found (topic deleted)',
    match: (f) => NOT_FOUND.has(f.id) || f.status === 404,
    kind: 'permanent',
    message: ({ context, service, where, aws }) => {
      const what =
        context.service === 'sns'
          ? `the topic ${context.topicArn ?? ''} does not exist (deleted, or another region/account?)`
          : 'a resource named in the send does not exist';
      return `${service}${where}: ${what}${aws}; redeploy the stack or fix the configured ARN`;
    },
  },
  {
    when: 'invalid request',
    match: (f) => INVALID.has(f.id),
    kind: 'permanent',
    message: ({ facts, context, service, where, aws }) => {
      const hint =
        context.service === 'ses'
          ? 'check the addresses in routes[].email, email.from and email.replyTo'
          : 'check the message attributes (table names) and the topic ARN';
      return `${service}${where} refused the request as invalid (${facts.id})${aws}: ${hint}`;
    },
  },
  {
    when: 'subscriber endpoint disabled',
    match: (f) => f.id === 'EndpointDisabled' || f.id === 'PlatformApplicationDisabled',
    kind: 'permanent',
    message: ({ service, where, aws }) =>
      `${service}${where}: the subscriber endpoint is disabled${aws}; re-enable or remove the subscription`,
  },
  {
    when: 'any other HTTP 4xx',
    match: (f) => f.status !== undefined && f.status >= 400,
    kind: 'permanent',
    message: ({ facts, service, where, aws }) =>
      `${service}${where} refused the send (${facts.id || `HTTP ${facts.status}`})${aws}; retrying will not help until this is fixed`,
  },
  {
    // No HTTP error status at all: something between us and AWS went wrong, at an unknown point.
    when: 'anything else',
    match: () => true,
    kind: 'transient',
    ambiguous: () => true,
    message: ({ facts, service, where }) => `sending through ${service}${where} failed${detail(facts)}; will retry`,
  },
];

/** Classify an error thrown by an SES or SNS call. Never throws. */
export function classifySendError(error: unknown, context: SendContext): Classified {
  const facts = errorFacts(error);
  const service = context.service === 'ses' ? 'SES' : 'SNS';
  const words: Words = {
    facts,
    context,
    service,
    where: context.region ? ` (${context.region})` : '',
    aws: facts.message ? `: "${facts.message}"` : '',
  };
  const rule = SEND_ERROR_RULES.find((r) => r.match(facts))!;
  const message = rule.message(words);
  if (!rule.ambiguous?.(facts)) return { kind: rule.kind, message };
  return {
    kind: rule.kind,
    message: `${message} (${service} may have accepted it before the failure: a retry may send it twice)`,
    ambiguous: true,
  };
}

/** A classified {@link DeliveryError} for a channel. */
export function toDeliveryError(channel: Channel, error: unknown, context: SendContext): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const { kind, message, ambiguous } = classifySendError(error, context);
  return new DeliveryError(channel, kind, message, { cause: error, ambiguous: ambiguous === true });
}

/** What an SES "not verified" rejection refused. */
export interface SesRefusal {
  /**
   * `sender`: SES named the sender (every recipient would be refused alike); `recipients`: SES
   * named only recipients; `unnamed`: SES said "not verified" without naming anyone.
   */
  readonly who: 'sender' | 'recipients' | 'unnamed';
  /** The refused recipients as SES listed them, lower-cased; empty when it named none. */
  readonly recipients: readonly string[];
}

/**
 * The refusal inside an SES `MessageRejected` about unverified identities ("Email address is not
 * verified. The following identities failed the check in region EU-CENTRAL-1: a@x, b@y"), or
 * undefined for any other error. `sender` is `email.from` ("Alerts <a@x>" or "a@x").
 */
export function sesRefusal(error: unknown, sender: string | undefined): SesRefusal | undefined {
  const facts = errorFacts(error);
  if (facts.id !== 'MessageRejected' && facts.id !== 'FromEmailAddressNotVerified') return undefined;
  return refusalOf(facts.message, sender);
}

function refusalOf(message: string, sender: string | undefined): SesRefusal | undefined {
  const failed = failedIdentities(message);
  if (failed.length === 0 && !/not verified/i.test(message)) return undefined;
  const address = sender !== undefined ? parseMailbox(sender).address.toLowerCase() : undefined;
  const recipients = failed.filter((a) => a !== address);
  if (failed.length === 0) return { who: /sender|from/i.test(message) ? 'sender' : 'unnamed', recipients };
  return { who: address !== undefined && failed.includes(address) ? 'sender' : 'recipients', recipients };
}

function sesRejectedMessage({ facts, context, where, aws }: Words): string {
  const refusal = refusalOf(facts.message, context.sender);
  if (refusal === undefined) {
    return `SES${where} rejected the message${aws}: check the sender, the recipients and the content`;
  }
  const parts: string[] = [];
  if (refusal.who !== 'recipients') {
    parts.push(
      `SES refused the sender ${context.sender ?? '(email.from)'}: verify the address or its domain in SES${where}` +
        (refusal.recipients.length === 0 ? ', or leave the SES sandbox' : ''),
    );
  }
  if (refusal.recipients.length > 0) {
    parts.push(
      `SES${where} is in the sandbox and refused unverified recipients ${refusal.recipients.join(', ')}: request production access ` +
        '(leave the SES sandbox) or verify each recipient',
    );
  }
  return `${parts.join('; ')}${aws ? ` (SES said${aws.slice(1)})` : ''}`;
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

/** Read what an SDK error (or anything thrown) says. */
export function errorFacts(error: unknown): ErrorFacts {
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
    // A fault without a status is no answer's (aws/endpoint.ts's ConfigError): the status-less rules decide.
    ...(text(e.$fault) !== undefined && status !== undefined && { fault: text(e.$fault)! }),
    throttling: retryable?.throttling === true || sdkSaysThrottling(e),
    message: scrub(text(e.message) ?? text(e.Message) ?? ''),
  };
}

/** `THROTTLING_ERROR_CODES` of `@smithy/core/retry`: the error names its `isThrottlingError` calls throttling. */
export const SDK_THROTTLING_NAMES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** What `isThrottlingError` says: HTTP 429 or one of its names (`$retryable.throttling` is read by the caller). */
function sdkSaysThrottling(error: Record<string, unknown>): boolean {
  const metadata = error.$metadata as { httpStatusCode?: unknown } | undefined;
  return metadata?.httpStatusCode === 429 || (typeof error.name === 'string' && SDK_THROTTLING_NAMES.has(error.name));
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
