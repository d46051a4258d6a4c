/**
 * Specification of delivery error handling: every kind of SDK failure is classified as throttled,
 * transient or permanent with a message that tells the operator what to fix (and never quotes a
 * credential), and the SES adapter addresses and batches its calls as documented. The SES and SNS
 * clients talk to a fake at the wire here (test/support/fake-wire.ts: real XML answers); the real
 * SES/SNS emulators are exercised in test/integration/delivery.test.ts.
 */
import {
  AccountSendingPausedException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESServiceException,
} from '@aws-sdk/client-ses';
import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  KMSAccessDeniedException,
  KMSDisabledException,
  NotFoundException,
  OptedOutException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { readFileSync } from 'node:fs';
import { isThrottlingError } from '@smithy/core/retry';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { createDeliverer } from '../../lambda/notify/deliverer';
import { CLIENT_DEFAULTS } from '../../lambda/aws/clients';
import { sendEndpointOptions } from '../../lambda/aws/query-call';
import {
  classifySendError,
  DeliveryError,
  SDK_THROTTLING_NAMES,
  scrub,
  type SendContext,
} from '../../lambda/notify/errors';
import { createSesClient, destinationBatches, encodeSender, MAX_ISOLATION_FAILURES } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';
import type { DeliveryRequest } from '../../lambda/domain/delivery';
import type { QrEvent } from '../../lambda/domain/event';
import { FAKE_AWS, fakeWire, type WireCall, type WireReply, xmlError, xmlResult } from '../support/wire';

const SES_CONTEXT: SendContext = { service: 'ses', region: 'eu-central-1', sender: 'Alerts <alerts@x.example>' };
const SNS_CONTEXT: SendContext = {
  service: 'sns',
  region: 'eu-central-1',
  topicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
};
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

function sesError(name: string, message: string, status = 400): SESServiceException {
  return new SESServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', ...meta(status) });
}
function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifySendError', () => {
  const cases: [string, unknown, SendContext, 'throttled' | 'transient' | 'permanent', RegExp][] = [
    [
      'SES Throttling (maximum sending rate)',
      sesError('Throttling', 'Maximum sending rate exceeded.'),
      SES_CONTEXT,
      'throttled',
      /throttling.*retried/,
    ],
    [
      'SES daily quota',
      sesError('Throttling', 'Daily message quota exceeded.'),
      SES_CONTEXT,
      'throttled',
      /daily sending quota.*request a higher quota/,
    ],
    ['ThrottlingException', sesError('ThrottlingException', 'Rate exceeded'), SES_CONTEXT, 'throttled', /throttling/],
    [
      'TooManyRequests (HTTP 429)',
      sesError('TooManyRequestsException', 'slow down', 429),
      SES_CONTEXT,
      'throttled',
      /throttling/,
    ],
    [
      'SNS Throttled',
      new ThrottledException({ message: 'Rate exceeded', ...meta(400) }),
      SNS_CONTEXT,
      'throttled',
      /SNS \(eu-central-1\) is throttling/,
    ],
    [
      'connection refused',
      networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'),
      SES_CONTEXT,
      'transient',
      /cannot reach SES.*ECONNREFUSED/,
    ],
    ['connection reset', networkError('ECONNRESET', 'socket hang up'), SNS_CONTEXT, 'transient', /cannot reach SNS/],
    [
      'DNS failure',
      networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND email.eu-central-1.amazonaws.com'),
      SES_CONTEXT,
      'transient',
      /cannot reach SES/,
    ],
    [
      'request timeout',
      Object.assign(new Error('a request has exceeded the configured 3000 ms requestTimeout'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      }),
      SES_CONTEXT,
      'transient',
      /no answer from SES.*in time/,
    ],
    [
      'whole send aborted',
      Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }),
      SNS_CONTEXT,
      'transient',
      /no answer from SNS/,
    ],
    [
      'HTTP 503',
      sesError('ServiceUnavailable', 'Service Unavailable', 503),
      SES_CONTEXT,
      'transient',
      /internal error.*HTTP 503.*retry/,
    ],
    [
      'SNS InternalError',
      new InternalErrorException({ message: 'oops', ...meta(500) }),
      SNS_CONTEXT,
      'transient',
      /internal error/,
    ],
    [
      'expired credentials',
      sesError('ExpiredToken', 'The security token included in the request is expired'),
      SES_CONTEXT,
      'transient',
      /expired credentials/,
    ],
    [
      'MailFromDomainNotVerified',
      new MailFromDomainNotVerifiedException({ message: 'MAIL FROM domain not verified', ...meta(400) }),
      SES_CONTEXT,
      'permanent',
      /MAIL FROM domain is not verified.*MX\/SPF/,
    ],
    [
      'sending paused',
      new AccountSendingPausedException({ message: 'Sending paused for this account', ...meta(400) }),
      SES_CONTEXT,
      'permanent',
      /paused.*resume/,
    ],
    [
      'SES AccessDenied',
      sesError('AccessDenied', 'User is not authorized to perform ses:SendEmail', 403),
      SES_CONTEXT,
      'permanent',
      /grant the function's role ses:SendEmail for Alerts <alerts@x.example>/,
    ],
    [
      'SNS AuthorizationError',
      new AuthorizationErrorException({ message: 'not authorized to perform SNS:Publish', ...meta(403) }),
      SNS_CONTEXT,
      'permanent',
      /grant the function's role sns:Publish on arn:aws:sns:eu-central-1:123456789012:alerts/,
    ],
    [
      'bad credentials',
      sesError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
      SES_CONTEXT,
      'permanent',
      /did not accept the AWS credentials/,
    ],
    [
      'SES invalid recipient',
      sesError('InvalidParameterValue', "Missing final '@domain'"),
      SES_CONTEXT,
      'permanent',
      /invalid.*routes\[\]\.email/,
    ],
    [
      'SNS InvalidParameter',
      new InvalidParameterException({ message: 'Invalid parameter: PhoneNumber', ...meta(400) }),
      SNS_CONTEXT,
      'permanent',
      /refused the request as invalid/,
    ],
    [
      'SNS opted out',
      new OptedOutException({ message: 'Phone number is opted out', ...meta(400) }),
      SNS_CONTEXT,
      'permanent',
      /opted out of SMS.*OptInPhoneNumber/,
    ],
    [
      'KMS key disabled',
      new KMSDisabledException({ message: 'key disabled', ...meta(400) }),
      SNS_CONTEXT,
      'permanent',
      /KMS key.*enable the key/,
    ],
    [
      'KMS access denied',
      new KMSAccessDeniedException({ message: 'denied', ...meta(400) }),
      SNS_CONTEXT,
      'permanent',
      /kms:GenerateDataKey/,
    ],
    [
      'topic deleted',
      new NotFoundException({ message: 'Topic does not exist', ...meta(404) }),
      SNS_CONTEXT,
      'permanent',
      /topic arn:aws:sns:eu-central-1:123456789012:alerts does not exist/,
    ],
    ['missing region', new Error('Region is missing'), SES_CONTEXT, 'permanent', /set AWS_REGION/],
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      SNS_CONTEXT,
      'permanent',
      /no AWS credentials/,
    ],
    [
      'another HTTP 400',
      sesError('SomethingNew', 'new failure'),
      SES_CONTEXT,
      'permanent',
      /refused the send \(SomethingNew\)/,
    ],
    ['a non-Error value', 'weird', SNS_CONTEXT, 'transient', /failed.*weird/],
  ];
  for (const [what, error, context, kind, message] of cases) {
    it(`classifies ${what} as ${kind}, saying what to do`, () => {
      const classified = classifySendError(error, context);
      expect(classified.kind).toBe(kind);
      expect(classified.message).toMatch(message);
    });
  }

  it('tells the operator to verify an unverified sender, naming it and the region', () => {
    const error = new MessageRejected({
      message:
        'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: alerts@x.example',
      ...meta(400),
    });
    const { kind, message } = classifySendError(error, SES_CONTEXT);
    expect(kind).toBe('permanent');
    expect(message).toMatch(
      /^SES refused the sender Alerts <alerts@x\.example>: verify the address or its domain in SES \(eu-central-1\), or leave the SES sandbox/,
    );
  });

  it('names the recipients the SES sandbox refused', () => {
    const error = new MessageRejected({
      message:
        'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: anna@staff.example, Boris@staff.example',
      ...meta(400),
    });
    const { kind, message } = classifySendError(error, SES_CONTEXT);
    expect(kind).toBe('permanent');
    expect(message).toContain('sandbox and refused unverified recipients anna@staff.example, boris@staff.example');
    expect(message).toContain('request production access');
    expect(message).not.toContain('refused the sender');
  });

  it('reports other rejected messages as permanent', () => {
    const { kind, message } = classifySendError(
      new MessageRejected({ message: 'Message contains a virus', ...meta(400) }),
      SES_CONTEXT,
    );
    expect(kind).toBe('permanent');
    expect(message).toContain('rejected the message: "Message contains a virus"');
  });

  it('never quotes an access key id or a signature', () => {
    const error = sesError(
      'SignatureDoesNotMatch',
      'Credential=AKIAIOSFODNN7EXAMPLE/20260312/eu-central-1/ses/aws4_request, Signature=abcdef0123456789 is wrong',
      403,
    );
    const { message } = classifySendError(error, SES_CONTEXT);
    expect(message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(message).not.toContain('abcdef0123456789');
    expect(scrub('key ASIAABCDEFGHIJKLMNOP here')).toBe('key [access key id] here');
  });

  it('clips long AWS messages to one line', () => {
    expect(scrub(`line one\nline two ${'x'.repeat(1_000)}`)).toMatch(/^line one line two x+…$/);
    expect(scrub('x'.repeat(1_000)).length).toBeLessThanOrEqual(301);
  });
});

describe('ambiguous failures: the send may have been accepted', () => {
  const timeout = (message: string, code?: string) =>
    Object.assign(new Error(message), { name: 'TimeoutError', ...(code && { code }) });
  const cases: [string, unknown, boolean][] = [
    ['a request timeout', timeout('a request has exceeded the configured 8000 ms requestTimeout', 'ETIMEDOUT'), true],
    ['the channel budget aborting the call', Object.assign(new Error('Request aborted'), { name: 'AbortError' }), true],
    ['a connection reset (socket hang up)', networkError('ECONNRESET', 'socket hang up'), true],
    ['a reset the SDK renamed TimeoutError', Object.assign(timeout('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['a broken pipe', networkError('EPIPE', 'write EPIPE'), true],
    ['HTTP 500 InternalError', new InternalErrorException({ message: 'oops', ...meta(500) }), true],
    ['HTTP 502', sesError('BadGateway', 'Bad Gateway', 502), true],
    ['HTTP 504', sesError('GatewayTimeout', 'Gateway Timeout', 504), true],
    ['an HTTP 200 answer that could not be read', Object.assign(new Error('Deserialization error'), meta(200)), true],
    ['a connection refused', networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), false],
    ['a DNS failure', networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND sns.eu-central-1.amazonaws.com'), false],
    [
      'a connect timeout',
      timeout('the request socket did not establish a connection with the server within 2000 ms'),
      false,
    ],
    ['throttling', new ThrottledException({ message: 'Rate exceeded', ...meta(400) }), false],
    ['HTTP 503 ServiceUnavailable', sesError('ServiceUnavailable', 'Service Unavailable', 503), false],
    [
      'AWS RequestTimeout (HTTP 400)',
      sesError('RequestTimeout', 'Your socket connection to the server was not read'),
      false,
    ],
    ['an invalid parameter', new InvalidParameterException({ message: 'Invalid parameter', ...meta(400) }), false],
    ['an access denial', new AuthorizationErrorException({ message: 'not authorized', ...meta(403) }), false],
    ['an unverified sender', new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }), false],
  ];
  for (const [what, error, ambiguous] of cases) {
    it(`calls ${what} ${ambiguous ? 'ambiguous' : 'not ambiguous'}`, () => {
      const classified = classifySendError(error, SNS_CONTEXT);
      if (ambiguous) {
        expect(classified.ambiguous).toBe(true);
        expect(classified.message).toContain('SNS may have accepted it before the failure: a retry may send it twice');
      } else {
        expect(classified).not.toHaveProperty('ambiguous');
        expect(classified.message).not.toContain('may send it twice');
      }
    });
  }

  it('carries the flag from DeliveryError to the failed ChannelResult', async () => {
    const snsWire = fakeWire(() => xmlError('InternalError', 'oops', 500));
    const config = parseAlertsConfig({
      sources: [{ id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
      routes: [{ name: 'all', sms: ['+79160000001'] }],
    });
    const deliverer = createDeliverer({
      config,
      topicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
      sns: createSnsClient({ ...FAKE_AWS, requestHandler: snsWire }),
    });
    const event: QrEvent = {
      hash: '0x1',
      code: 'waiter_call',
      tableId: 1,
      tableName: '6',
      invoice: null,
      order: null,
      raw: {},
      placeholders: [],
    };
    const { channels } = await deliverer.deliver({ sourceId: 'pizza', sourceName: 'Pizza', event, firstSeenAt: 0 });
    expect(snsWire.calls.map((c) => c.action)).toEqual(['Publish']);
    expect(channels).toEqual([
      {
        channel: 'sns',
        ok: false,
        kind: 'transient',
        message: expect.stringContaining('internal error'),
        ambiguous: true,
      },
    ]);
  });
});

describe("the SDK's throttling classifier, copied", () => {
  it('knows the names of @smithy/core/retry, and classifies each as throttled as isThrottlingError does', () => {
    // THROTTLING_ERROR_CODES is not exported: read it from the installed SDK's source.
    const source = readFileSync(
      'node_modules/@smithy/core/dist-es/submodules/retry/service-error-classification/constants.js',
      'utf8',
    );
    const list = /THROTTLING_ERROR_CODES = \[([^\]]*)\]/.exec(source)![1]!;
    const sdkNames = [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    expect([...SDK_THROTTLING_NAMES].sort()).toEqual(sdkNames.sort());
    for (const name of sdkNames) {
      const error = { name, message: 'slow down', $metadata: { httpStatusCode: 400 } };
      expect(isThrottlingError(error)).toBe(true);
      expect(classifySendError(error, SES_CONTEXT).kind, name).toBe('throttled');
    }
  });
});

describe('client settings', () => {
  it('gives the SES and SNS endpoints one attempt, connect 2 s and request 8 s', () => {
    expect(sendEndpointOptions()).toEqual({ maxAttempts: 1, connectionTimeoutMs: 2_000, requestTimeoutMs: 8_000 });
    expect(sendEndpointOptions({ maxAttempts: 5 } as never).maxAttempts).toBe(1);
    expect(CLIENT_DEFAULTS.sendTimeoutMs).toBeGreaterThanOrEqual(CLIENT_DEFAULTS.send.requestTimeoutMs);
    expect(sendEndpointOptions({ requestTimeoutMs: 1_000, endpoint: 'http://x' })).toMatchObject({
      maxAttempts: 1,
      requestTimeoutMs: 1_000,
      endpoint: 'http://x',
    });
  });
});

describe('destinationBatches', () => {
  it('puts a single recipient in To', () => {
    expect(destinationBatches(['anna@staff.example'])).toEqual([{ ToAddresses: ['anna@staff.example'] }]);
  });

  it('puts several recipients in Bcc, at most 50 per message', () => {
    const recipients = Array.from({ length: 101 }, (_, i) => `staff${i}@x.example`);
    const batches = destinationBatches(recipients);
    expect(batches.map((b) => b.BccAddresses?.length ?? b.ToAddresses?.length)).toEqual([50, 50, 1]);
    expect(batches[0]).not.toHaveProperty('ToAddresses');
    expect(batches[2]).toEqual({ ToAddresses: ['staff100@x.example'] });
  });
});

describe('encodeSender', () => {
  it('leaves ASCII senders and bare addresses as they are', () => {
    expect(encodeSender('alerts@x.example')).toBe('alerts@x.example');
    expect(encodeSender('Alerts <alerts@x.example>')).toBe('Alerts <alerts@x.example>');
  });

  it('MIME-encodes a display name outside ASCII, as SES v1 requires', () => {
    expect(encodeSender('Пиццерия <alerts@x.example>')).toBe(
      `=?UTF-8?B?${Buffer.from('Пиццерия').toString('base64')}?= <alerts@x.example>`,
    );
    expect(encodeSender('"Café Zoë" <alerts@x.example>')).toBe(
      `=?UTF-8?B?${Buffer.from('Café Zoë').toString('base64')}?= <alerts@x.example>`,
    );
  });
});

/** The fake SES of the file's deliverers: answers with `sesReply`, records the calls. */
const SENT = (_: WireCall, n: number): WireReply => xmlResult('SendEmail', `m-${n}`);
let sesReply: (call: WireCall, n: number) => WireReply = SENT;
const sesWire = fakeWire((call, n) => sesReply(call, n));
const sesClient = () => createSesClient({ ...FAKE_AWS, requestHandler: sesWire });
const snsClient = () => createSnsClient({ ...FAKE_AWS, requestHandler: fakeWire(() => xmlResult('Publish', 'p-1')) });
function resetSes(): void {
  sesWire.calls.length = 0;
  sesReply = SENT;
}
/** The Destination parameters of a SendEmail call. */
const destinationOf = (call: WireCall) => Object.entries(call.params).filter(([k]) => k.startsWith('Destination.'));

describe('the SES channel of the deliverer, with a mocked SES client', () => {
  afterEach(resetSes);

  const event: QrEvent = {
    hash: '0xabc',
    code: 'waiter_call',
    tableId: 1,
    tableName: '6',
    invoice: null,
    order: null,
    raw: {},
    placeholders: [],
  };
  const request = { sourceId: 'pizza', sourceName: 'Pizza', event, firstSeenAt: Date.UTC(2026, 2, 12, 11, 0, 0) };
  const config = (emails: string[]) =>
    parseAlertsConfig({
      locale: 'en',
      sources: [{ id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
      routes: [{ name: 'all', email: emails }],
      email: { from: 'Alerts <alerts@x.example>', replyTo: ['office@x.example'] },
    });
  const deliverer = (emails: string[]) =>
    createDeliverer({
      config: config(emails),
      ses: sesClient(),
      sns: snsClient(),
    });

  it('sends one UTF-8 HTML + text message from email.from with Reply-To', async () => {
    const result = await deliverer(['anna@staff.example']).deliver(request);
    expect(result.channels).toEqual([
      { channel: 'email', ok: true, recipients: ['anna@staff.example'], messageIds: ['m-1'] },
    ]);
    const [call] = sesWire.calls;
    expect(call!.action).toBe('SendEmail');
    expect(destinationOf(call!)).toEqual([['Destination.ToAddresses.member.1', 'anna@staff.example']]);
    expect(call!.params).toMatchObject({
      Source: 'Alerts <alerts@x.example>',
      'ReplyToAddresses.member.1': 'office@x.example',
      'Message.Subject.Data': 'Table 6: waiter called — Pizza',
      'Message.Subject.Charset': 'UTF-8',
      'Message.Body.Text.Charset': 'UTF-8',
      'Message.Body.Html.Charset': 'UTF-8',
    });
    expect(call!.params['Message.Body.Html.Data']).toContain('Pizza');
  });

  it('sends 120 recipients in three calls, in Bcc', async () => {
    const emails = Array.from({ length: 120 }, (_, i) => `staff${i}@x.example`);
    const [result] = (await deliverer(emails).deliver(request)).channels;
    expect(result).toEqual({ channel: 'email', ok: true, recipients: emails, messageIds: ['m-1', 'm-2', 'm-3'] });
    const bcc = sesWire.calls.map((c) => destinationOf(c).filter(([k]) => k.startsWith('Destination.BccAddresses.')));
    expect(bcc.map((d) => d.length)).toEqual([50, 50, 20]);
    expect(sesWire.destinations().flat()).toEqual(emails);
  });

  it('answers an unverified sender with a permanent result that says what to fix', async () => {
    sesReply = () =>
      xmlError(
        'MessageRejected',
        'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: alerts@x.example',
      );
    const [result] = (await deliverer(['anna@staff.example']).deliver(request)).channels;
    expect(result).toMatchObject({ channel: 'email', ok: false, kind: 'permanent' });
    expect(result).toHaveProperty(
      'message',
      expect.stringMatching(
        /^SES refused the sender Alerts <alerts@x.example>: verify the address or its domain in SES \(eu-central-1\)/,
      ),
    );
  });

  it('answers SES throttling with a throttled result', async () => {
    sesReply = () => xmlError('Throttling', 'Maximum sending rate exceeded.');
    const [result] = (await deliverer(['anna@staff.example']).deliver(request)).channels;
    expect(result).toMatchObject({ channel: 'email', ok: false, kind: 'throttled' });
  });

  it('says how many batches were already sent when a later batch fails', async () => {
    sesReply = (call, n) => (n === 1 ? SENT(call, n) : xmlError('ServiceUnavailable', 'down', 503));
    const emails = Array.from({ length: 60 }, (_, i) => `staff${i}@x.example`);
    const [result] = (await deliverer(emails).deliver(request)).channels;
    expect(result).toMatchObject({ channel: 'email', ok: false, kind: 'transient' });
    expect(result).toHaveProperty('message', expect.stringContaining('1 of 2 batches of recipients were already sent'));
  });

  it('reports a missing email.from as permanent instead of throwing', async () => {
    const withoutFrom = { ...config(['anna@staff.example']), email: undefined };
    const [result] = (await createDeliverer({ config: withoutFrom, ses: sesClient() }).deliver(request)).channels;
    expect(result).toMatchObject({
      channel: 'email',
      ok: false,
      kind: 'permanent',
      message: expect.stringContaining('email.from'),
    });
    expect(sesWire.calls).toHaveLength(0);
  });

  it('turns a failure while preparing the message into a permanent result instead of throwing', async () => {
    const broken = { ...event, placeholders: null as unknown as string[] };
    const [result] = (await deliverer(['anna@staff.example']).deliver({ ...request, event: broken })).channels;
    expect(result).toMatchObject({
      channel: 'email',
      ok: false,
      kind: 'permanent',
      message: expect.stringContaining('could not prepare the email message'),
    });
    expect(sesWire.calls).toHaveLength(0);
  });

  it('answers even a request without an event, for every channel, instead of throwing', async () => {
    const malformed = { sourceId: 'pizza', sourceName: 'Pizza', firstSeenAt: 0 } as unknown as DeliveryRequest;
    const d = createDeliverer({
      config: config(['anna@staff.example']),
      topicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
      ses: sesClient(),
      sns: snsClient(),
    });
    const { channels } = await d.deliver(malformed);
    expect(channels.map((c) => [c.channel, c.ok, !c.ok && c.kind])).toEqual([
      ['email', false, 'permanent'],
      ['sns', false, 'permanent'],
    ]);
  });

  it('keeps DeliveryError a named error with its channel and kind', () => {
    const error = new DeliveryError('sns', 'transient', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'DeliveryError', channel: 'sns', kind: 'transient' });
  });
});

describe('recipients the SES sandbox refuses', () => {
  afterEach(resetSes);

  const ANNA = 'anna@staff.example';
  const BORIS = 'Boris@Staff.example';
  const MAX = 'max@staff.example';
  const event: QrEvent = {
    hash: '0xabc',
    code: 'waiter_call',
    tableId: 1,
    tableName: '6',
    invoice: null,
    order: null,
    raw: {},
    placeholders: [],
  };
  const request = { sourceId: 'pizza', sourceName: 'Pizza', event, firstSeenAt: Date.UTC(2026, 2, 12, 11, 0, 0) };
  const unverified = (...addresses: string[]) =>
    xmlError(
      'MessageRejected',
      `Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: ${addresses.join(', ')}`,
    );
  const addressesOf = (call: WireCall) => destinationOf(call).map(([, address]) => address);
  /** An SES that refuses `refused` (as SES names them: lower case) and sends to everyone else. */
  function sandbox(refused: string[], named = true): void {
    let n = 0;
    sesReply = (call) => {
      const bad = addressesOf(call).filter((a) => refused.includes(a.toLowerCase()));
      if (bad.length > 0) {
        return named
          ? unverified(...bad.map((a) => a.toLowerCase()))
          : xmlError('MessageRejected', 'Email address is not verified.');
      }
      return xmlResult('SendEmail', `m-${++n}`);
    };
  }
  const calls = () => sesWire.calls.map(addressesOf);
  function setup(emails: string[]) {
    let now = Date.UTC(2026, 2, 12, 11, 0, 0);
    const deliverer = createDeliverer({
      config: parseAlertsConfig({
        locale: 'en',
        sources: [{ id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
        routes: [{ name: 'all', email: emails }],
        email: { from: 'Alerts <alerts@x.example>' },
      }),
      ses: sesClient(),
      now: () => now,
    });
    return { deliverer, advance: (ms: number) => (now += ms) };
  }

  it('sends the others the e-mail and reports the refused address with the reason', async () => {
    sandbox([BORIS.toLowerCase()]);
    const { deliverer } = setup([ANNA, BORIS, MAX]);
    const [result] = (await deliverer.deliver(request)).channels;
    expect(result).toEqual({
      channel: 'email',
      ok: true,
      recipients: [ANNA, MAX],
      messageIds: ['m-1'],
      refused: [
        {
          address: BORIS,
          reason: expect.stringMatching(/^not verified in SES \(eu-central-1\).*sandbox/),
          fresh: true,
        },
      ],
    });
    expect(calls()).toEqual([
      [ANNA, BORIS, MAX],
      [ANNA, MAX],
    ]);
    // The others stay in Bcc; one left alone goes in To.
    expect(destinationOf(sesWire.calls[1]!)).toEqual([
      ['Destination.BccAddresses.member.1', ANNA],
      ['Destination.BccAddresses.member.2', MAX],
    ]);
  });

  it('skips a refused address for an hour without a failing call, still reporting it, then tries it again', async () => {
    sandbox([BORIS.toLowerCase()]);
    const { deliverer, advance } = setup([ANNA, BORIS]);
    await deliverer.deliver(request);
    sesWire.calls.length = 0;
    advance(59 * 60_000);
    const [later] = (await deliverer.deliver(request)).channels;
    expect(later).toMatchObject({ ok: true, recipients: [ANNA], refused: [{ address: BORIS }] });
    expect(calls()).toEqual([[ANNA]]);
    sesWire.calls.length = 0;
    advance(2 * 60_000);
    await deliverer.deliver(request);
    expect(calls()[0]).toEqual([ANNA, BORIS]);
  });

  it('fails permanently, naming them, when SES refuses every recipient — and makes no call for them later', async () => {
    sandbox([ANNA, BORIS.toLowerCase()]);
    const { deliverer } = setup([ANNA, BORIS]);
    const [first] = (await deliverer.deliver(request)).channels;
    expect(first).toMatchObject({
      channel: 'email',
      ok: false,
      kind: 'permanent',
      message: expect.stringMatching(
        /^no e-mail sent: SES refuses every recipient \(anna@staff\.example, Boris@Staff\.example\): not verified/,
      ),
    });
    expect(calls()).toEqual([[ANNA, BORIS]]);
    sesWire.calls.length = 0;
    const [second] = (await deliverer.deliver(request)).channels;
    expect(second).toMatchObject({
      ok: false,
      kind: 'permanent',
      message: expect.stringContaining('SES refuses every recipient'),
    });
    expect(calls()).toEqual([]);
  });

  it('keeps an unverified sender a permanent failure, without trying recipient by recipient', async () => {
    sesReply = () => unverified('alerts@x.example');
    const { deliverer } = setup([ANNA, BORIS, MAX]);
    const [result] = (await deliverer.deliver(request)).channels;
    expect(result).toMatchObject({
      ok: false,
      kind: 'permanent',
      message: expect.stringMatching(/^SES refused the sender Alerts <alerts@x\.example>: verify the address/),
    });
    expect(calls()).toHaveLength(1);
  });

  it('isolates the refused address by halving the batch when SES does not name it', async () => {
    sandbox([BORIS.toLowerCase()], false);
    const emails = [ANNA, MAX, ...Array.from({ length: 10 }, (_, i) => `staff${i}@x.example`), BORIS];
    const { deliverer } = setup(emails);
    const [result] = (await deliverer.deliver(request)).channels;
    expect(result).toMatchObject({
      ok: true,
      recipients: emails.filter((a) => a !== BORIS),
      refused: [{ address: BORIS, reason: expect.stringContaining('not verified') }],
    });
    const rejected = calls().filter((c) => c.includes(BORIS));
    expect(rejected.length).toBeLessThanOrEqual(MAX_ISOLATION_FAILURES);
    expect(
      calls()
        .flat()
        .filter((a) => a === ANNA),
    ).toHaveLength(2); // the whole batch, then the half that worked
  });

  it('takes "not verified" on every call, naming nobody, for the sender and fails permanently', async () => {
    sesReply = () => xmlError('MessageRejected', 'Email address is not verified.');
    const { deliverer } = setup([ANNA, BORIS, MAX]);
    const [result] = (await deliverer.deliver(request)).channels;
    expect(result).toMatchObject({
      ok: false,
      kind: 'permanent',
      message: expect.stringContaining('refused the sender'),
    });
    expect(calls().length).toBeLessThanOrEqual(MAX_ISOLATION_FAILURES + 1);
  });
});
