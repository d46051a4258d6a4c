/**
 * The AWS Query protocol of lambda/aws/query-call.ts against the real SDK clients (devDependencies):
 * the same SendEmail and Publish inputs, serialized by `@aws-sdk/client-ses` / `client-sns` and by
 * our clients, captured at the requestHandler (no network), must decode to the same form
 * parameters; the same wire answers (XML results and errors, HTML pages, hangs) must give the
 * same message ids and errors that notify/errors.ts classifies alike.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  decodeXml,
  formEncode,
  QueryClient,
  queryBody,
  QueryMap,
  SES,
  SNS,
  messageIdOf,
  xmlField,
} from '../../lambda/aws/query-call';
import { endpointOf } from '../../lambda/aws/endpoint';
import { classifySendError, sesRefusal, type SendContext } from '../../lambda/notify/errors';
import { createSesClient, sendEmailParams } from '../../lambda/notify/ses';
import type { SnsAttribute } from '../../lambda/core/routing';
import { createSnsClient, publishParams } from '../../lambda/notify/sns';
import { FAKE_AWS, fakeWire, htmlPage, type WireReply, xmlError, xmlResult } from '../support/wire';

const TEXT = 'Стол 6: вызов официанта — a+b & c=d, 100% (ok)! *star* \'q\' "dq" 🍕🔥 tab\tnew\nline ~_.-';
const EMAIL = { subject: `Тема ${TEXT}`, text: `Текст ${TEXT}`, html: `<p>${TEXT.replace(/&/g, '&amp;')}</p>` };
const MANY = Array.from({ length: 50 }, (_, i) => `staff+${i}@x.example`);
const SNS_INPUT: {
  topicArn: string;
  message: string;
  subject: string;
  attributes: Record<string, SnsAttribute>;
} = {
  topicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
  message: JSON.stringify({ default: TEXT, sms: `SMS ${TEXT}`, email: `E-mail ${TEXT}` }),
  subject: 'Table 6: waiter called + more & less = ok',
  attributes: {
    source: { DataType: 'String', StringValue: 'pizza & co' },
    code: { DataType: 'String', StringValue: 'waiter_call' },
    route: { DataType: 'String.Array', StringValue: JSON.stringify(['всё', 'hall+bar']) },
    table: { DataType: 'String', StringValue: '6 🍕' },
  },
};

function sdkSes(reply: (n: number) => WireReply) {
  const wire = fakeWire((_, n) => reply(n));
  return {
    wire,
    client: new SESClient({ ...FAKE_AWS, maxAttempts: 1, requestHandler: wire as unknown as NodeHttpHandler }),
  };
}
function sdkSns(reply: (n: number) => WireReply) {
  const wire = fakeWire((_, n) => reply(n));
  return {
    wire,
    client: new SNSClient({ ...FAKE_AWS, maxAttempts: 1, requestHandler: wire as unknown as NodeHttpHandler }),
  };
}
function oursSes(reply: (n: number) => WireReply, requestTimeoutMs?: number) {
  const wire = fakeWire((_, n) => reply(n));
  return {
    wire,
    client: createSesClient({ ...FAKE_AWS, requestHandler: wire, ...(requestTimeoutMs && { requestTimeoutMs }) }),
  };
}
function oursSns(reply: (n: number) => WireReply) {
  const wire = fakeWire((_, n) => reply(n));
  return { wire, client: createSnsClient({ ...FAKE_AWS, requestHandler: wire }) };
}

const sendInput = (batch: readonly string[], replyTo?: readonly string[]) =>
  sendEmailParams({ from: 'Оповещения Пиццерии <alerts@x.example>', ...(replyTo && { replyTo }) }, EMAIL, batch);

describe('the Query encoding, against the SDK', () => {
  const cases: [string, readonly string[], readonly string[] | undefined][] = [
    ['one recipient in To, no Reply-To', ['anna+tag@staff.example'], undefined],
    ['50 recipients in Bcc with two Reply-To', MANY, ['office@x.example', 'boss+1@x.example']],
  ];
  for (const [what, batch, replyTo] of cases) {
    it(`encodes SendEmail as the SDK does: ${what}`, async () => {
      const sdk = sdkSes(() => xmlResult('SendEmail', 'm-1'));
      // The SDK types want mutable arrays; the values are the same.
      await sdk.client.send(new SendEmailCommand(JSON.parse(JSON.stringify(sendInput(batch, replyTo)))));
      const ours = oursSes(() => xmlResult('SendEmail', 'm-1'));
      await ours.client.call('SendEmail', sendInput(batch, replyTo));
      expect(ours.wire.calls[0]!.params).toEqual(sdk.wire.calls[0]!.params);
      expect(Object.keys(ours.wire.calls[0]!.params).length).toBeGreaterThan(batch.length + 8);
      expect(ours.wire.destinations()).toEqual([[...batch]]);
    });
  }

  it('encodes Publish with MessageStructure, Subject and message attributes as the SDK does', async () => {
    const sdk = sdkSns(() => xmlResult('Publish', 'p-1'));
    await sdk.client.send(
      new PublishCommand({
        TopicArn: SNS_INPUT.topicArn,
        Message: SNS_INPUT.message,
        MessageStructure: 'json',
        Subject: SNS_INPUT.subject,
        MessageAttributes: SNS_INPUT.attributes,
      }),
    );
    const ours = oursSns(() => xmlResult('Publish', 'p-1'));
    await ours.client.call('Publish', publishParams(SNS_INPUT));
    const params = ours.wire.calls[0]!.params;
    expect(params).toEqual(sdk.wire.calls[0]!.params);
    expect(params['MessageAttributes.entry.3.Name']).toBe('route');
    expect(params['MessageAttributes.entry.3.Value.DataType']).toBe('String.Array');
    expect(JSON.parse(params.Message!).sms).toBe(`SMS ${TEXT}`);
  });

  it('signs and addresses SES and SNS as the SDK does: scope ses (host email.<region>) and sns', async () => {
    const scope = (authorization: string | undefined) =>
      /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(authorization ?? '')?.slice(1);
    const sdkEmail = sdkSes(() => xmlResult('SendEmail', 'm-1'));
    await sdkEmail.client.send(new SendEmailCommand(JSON.parse(JSON.stringify(sendInput(['a@x.example'])))));
    const ourEmail = oursSes(() => xmlResult('SendEmail', 'm-1'));
    await ourEmail.client.call('SendEmail', sendInput(['a@x.example']));
    expect(scope(ourEmail.wire.calls[0]!.headers.authorization)).toEqual(['eu-central-1', 'ses']);
    expect(scope(ourEmail.wire.calls[0]!.headers.authorization)).toEqual(
      scope(sdkEmail.wire.calls[0]!.headers.authorization),
    );
    expect(ourEmail.wire.calls[0]!.headers.host).toBe(sdkEmail.wire.calls[0]!.headers.host);
    const sdkTopic = sdkSns(() => xmlResult('Publish', 'p-1'));
    await sdkTopic.client.send(new PublishCommand({ TopicArn: SNS_INPUT.topicArn, Message: 'x' }));
    const ourTopic = oursSns(() => xmlResult('Publish', 'p-1'));
    await ourTopic.client.call('Publish', { TopicArn: SNS_INPUT.topicArn, Message: 'x' });
    expect(scope(ourTopic.wire.calls[0]!.headers.authorization)).toEqual(['eu-central-1', 'sns']);
    expect(ourTopic.wire.calls[0]!.headers.host).toBe(sdkTopic.wire.calls[0]!.headers.host);
    // Without an override, the regional endpoints the SDK's rules give.
    expect(endpointOf(SES, 'eu-central-1', {})).toBe('https://email.eu-central-1.amazonaws.com');
    expect(endpointOf(SNS, 'eu-central-1', {})).toBe('https://sns.eu-central-1.amazonaws.com');
  });

  it('a 2xx answer without a MessageId (a proxy page) is no success: transient and ambiguous', async () => {
    const { publishAlert } = await import('../../lambda/notify/sns');
    const ours = oursSns(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>OK</html>' }));
    const failure = await publishAlert({
      client: ours.client,
      topicArn: SNS_INPUT.topicArn,
      message: '{"default":"x"}',
      attributes: {},
    }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'transient', ambiguous: true });
    expect(String((failure as Error).message)).toMatch(/MessageId/);
    expect(messageIdOf((xmlResult('Publish', 'p-9') as { body: string }).body, 'Publish')).toBe('p-9');
  });

  it("sends the body as SDK-encoded form text: no raw + & = or spaces, !'()* escaped", async () => {
    const ours = oursSns(() => xmlResult('Publish', 'p-1'));
    await ours.client.call('Publish', publishParams(SNS_INPUT));
    const { body, headers } = ours.wire.calls[0]!;
    expect(body.startsWith('Action=Publish&Version=2010-03-31&')).toBe(true);
    expect(body).not.toMatch(/[ +!'()*]/);
    expect(body.split('&').every((pair) => pair.split('=').length === 2)).toBe(true);
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFAKEWIRE\/\d{8}\/eu-central-1\/sns\//);
  });

  it('flattens lists, maps, nested structures and empty lists like the SDK serializer', () => {
    const body = queryBody(SES, 'X', {
      A: { B: ['x', 'y'], C: 1, D: true, E: undefined },
      M: new QueryMap({ k: { V: 'v' } }),
      Empty: [],
    });
    expect(body).toBe(
      'Action=X&Version=2010-12-01&A.B.member.1=x&A.B.member.2=y&A.C=1&A.D=true&M.entry.1.key=k&M.entry.1.value.V=v&Empty=',
    );
    expect(formEncode("!'()* +&=é")).toBe('%21%27%28%29%2A%20%2B%26%3D%C3%A9');
    // A lone surrogate (server text may hold one) is sent as U+FFFD, not thrown on.
    expect(formEncode('a\uD83Db')).toBe('a%EF%BF%BDb');
    expect(formEncode('\uDE00🍕')).toBe('%EF%BF%BD%F0%9F%8D%95');
  });
});

describe('reading XML answers', () => {
  it('decodes the five entities and numeric references, keeping unknown ones as written', () => {
    expect(decodeXml('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#1055; &#x1F355; &nbsp; &#xD800;')).toBe(
      'a & b <c> "d" \'e\' П 🍕 &nbsp; &#xD800;',
    );
    expect(decodeXml('&amp;lt;')).toBe('&lt;');
  });

  it('reads a leaf field, and no field across markup', () => {
    expect(xmlField('<R><MessageId>m-&amp;1</MessageId></R>', 'MessageId')).toBe('m-&1');
    expect(xmlField('<R><MessageIdX>no</MessageIdX></R>', 'MessageId')).toBeUndefined();
    expect(xmlField('<R><MessageId><b>x</b></MessageId></R>', 'MessageId')).toBeUndefined();
    expect(xmlField('<R><MessageId><![CDATA[a<b]]></MessageId></R>', 'MessageId')).toBe('a<b');
  });

  it('returns the message id SES and SNS answered, as the SDK does', async () => {
    const id = '0102018e-6f1a-4c2b-9b1e-&-1';
    const sdk = await sdkSns(() => xmlResult('Publish', id)).client.send(
      new PublishCommand({ TopicArn: SNS_INPUT.topicArn, Message: 'x' }),
    );
    const ours = await oursSns(() => xmlResult('Publish', id)).client.call('Publish', {
      TopicArn: SNS_INPUT.topicArn,
      Message: 'x',
    });
    expect(xmlField(ours, 'MessageId')).toBe(sdk.MessageId);
  });
});

describe('error answers, against the SDK', () => {
  const ses: SendContext = { service: 'ses', region: 'eu-central-1', sender: 'alerts@x.example' };
  const unverified =
    'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: boris@staff.example, max@staff.example';
  const answers: [string, WireReply][] = [
    ['SES throttling (400 Throttling)', xmlError('Throttling', 'Maximum sending rate exceeded.')],
    ['the daily quota', xmlError('Throttling', 'Daily message quota exceeded.')],
    ['unverified recipients', xmlError('MessageRejected', unverified)],
    ['an unverified sender, naming nobody', xmlError('MessageRejected', 'Email address is not verified.')],
    ['a paused account', xmlError('AccountSendingPausedException', 'Sending paused for this account.')],
    ['an invalid parameter', xmlError('InvalidParameterValue', "Missing final '@domain' & <more>")],
    ['an access denial', xmlError('AccessDenied', 'User is not authorized to perform ses:SendEmail', 403)],
    ['expired credentials', xmlError('ExpiredToken', 'The security token included in the request is expired', 403)],
    ['a 500 InternalFailure', xmlError('InternalFailure', 'internal', 500)],
    ['a 503 ServiceUnavailable', xmlError('ServiceUnavailable', 'Service is unavailable', 503)],
    ['a 502 HTML page', htmlPage(502, 'Bad Gateway')],
    ['a 503 HTML page', htmlPage(503, 'Service Temporarily Unavailable')],
    ['a 504 with no body', { status: 504, body: '' }],
    ['a 403 HTML page', htmlPage(403, 'Forbidden')],
    ['an empty 404', { status: 404, body: '' }],
    ['a 429 HTML page', htmlPage(429, 'Too Many Requests')],
  ];
  for (const [what, answer] of answers) {
    it(`classifies ${what} as the SDK's error was classified`, async () => {
      const sdkError = await sdkSes(() => answer)
        .client.send(new SendEmailCommand(JSON.parse(JSON.stringify(sendInput(['anna@staff.example'])))))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const ourError = await oursSes(() => answer)
        .client.call('SendEmail', sendInput(['anna@staff.example']))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(sdkError).toBeInstanceOf(Error);
      expect(ourError).toBeInstanceOf(AwsCallError);
      const sdk = classifySendError(sdkError, ses);
      const ours = classifySendError(ourError, ses);
      expect({ kind: ours.kind, ambiguous: ours.ambiguous }).toEqual({ kind: sdk.kind, ambiguous: sdk.ambiguous });
      expect(sesRefusal(ourError, ses.sender)).toEqual(sesRefusal(sdkError, ses.sender));
      const s = sdkError as { name: string; message: string; $fault: string; $metadata: { httpStatusCode: number } };
      const o = ourError as AwsCallError;
      expect(o.$metadata.httpStatusCode).toBe(s.$metadata.httpStatusCode);
      // The one difference: aws/endpoint.ts calls a 429 a server fault (retryable), the SDK a client one.
      expect(o.$fault).toBe(s.$metadata.httpStatusCode === 429 ? 'server' : s.$fault);
      if (!answer || typeof answer !== 'object' || !('body' in answer) || !answer.body.includes('<Code>')) return;
      // An XML error: the same name (the Code) and the same message as the SDK's.
      expect(o.name).toBe(s.name);
      expect(o.message).toBe(s.message);
      expect(ours.message).toBe(sdk.message);
    });
  }

  it('keeps the Type and RequestId of an XML error in details', async () => {
    const error = await oursSes(() => xmlError('MessageRejected', 'no'))
      .client.call('SendEmail', sendInput(['a@x.example']))
      .catch((e: unknown) => e as AwsCallError);
    expect(error).toMatchObject({
      name: 'MessageRejected',
      $fault: 'client',
      details: { Type: 'Sender', RequestId: '7b3e4b7c-0000-4000-8000-000000000001' },
    });
  });

  it('names an HTML answer by its status and quotes no HTML', async () => {
    const error = (await oursSes(() => htmlPage(502, 'Bad Gateway'))
      .client.call('SendEmail', sendInput(['a@x.example']))
      .catch((e: unknown) => e)) as AwsCallError;
    expect(error).toMatchObject({ name: 'Http502', message: 'HTTP 502', $fault: 'server' });
    const classified = classifySendError(error, ses);
    expect(classified).toMatchObject({ kind: 'transient', ambiguous: true });
  });

  it('makes one attempt only, even on a 500 and a throttle', async () => {
    for (const answer of [
      xmlError('InternalFailure', 'x', 500),
      xmlError('Throttling', 'Maximum sending rate exceeded.'),
    ]) {
      const ours = oursSes(() => answer);
      await expect(ours.client.call('SendEmail', sendInput(['a@x.example']))).rejects.toBeInstanceOf(AwsCallError);
      expect(ours.wire.calls).toHaveLength(1);
    }
  });

  it("ends a hanging call at the request timeout with the handler's TimeoutError (ambiguous)", async () => {
    const ours = oursSes(() => 'hang', 50);
    const error = await ours.client.call('SendEmail', sendInput(['a@x.example'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(classifySendError(error, ses)).toMatchObject({ kind: 'transient', ambiguous: true });
  });

  it('ends a hanging call when its abort signal fires, with an AbortError (ambiguous)', async () => {
    const ours = oursSes(() => 'hang');
    const error = await ours.client
      .call('SendEmail', sendInput(['a@x.example']), { abortSignal: AbortSignal.timeout(30) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(classifySendError(error, ses)).toMatchObject({ kind: 'transient', ambiguous: true });
  });

  it('classifies a missing region as a permanent configuration problem, as the SDK\'s "Region is missing"', async () => {
    const client = new QueryClient(SES, { env: {} });
    const error = await client.call('SendEmail', sendInput(['a@x.example'])).catch((e: unknown) => e);
    expect(classifySendError(error, ses)).toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/no AWS region/),
    });
  });
});
