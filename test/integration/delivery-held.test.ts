/**
 * Sends that AWS accepts but answers late. A `HoldingProxy` in front of the SNS emulator
 * (fauxqs) or the SES emulator (aws-ses-v2-local) forwards each request at once, so the emulator
 * delivers the message, and holds the answer. The delivery clients make ONE attempt per call
 * (lambda/aws/clients.ts, `send` profile), so:
 *
 * - an answer 3.5 s late is simply a slow success: one SMS, one e-mail;
 * - an answer later than the client's timeout is a failure flagged `ambiguous` — and the emulator
 *   holds exactly one message, where the default profile's retries would resend it.
 *
 * The timeout cases use a 1 s client timeout and a 1.5 s hold to stay quick; the rule does not
 * depend on the figure. Waiting is on events (the proxy's `settled()`), never on sleeps.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { CLIENT_DEFAULTS } from '../../lambda/aws/clients';
import { QueryClient, SNS } from '../../lambda/aws/query-call';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { createDeliverer } from '../../lambda/notify/deliverer';
import type { ChannelResult, DeliveryRequest } from '../../lambda/domain/delivery';
import { createSesClient } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';
import type { QrEvent } from '../../lambda/domain/event';
import { HoldingProxy } from '../support/proxy';

const emulators = inject('emulators');
const run = randomUUID().slice(0, 8);
const setup = {
  region: 'eu-central-1',
  maxAttempts: 1,
  requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
};
const sns = new SNSClient({ ...setup, endpoint: emulators.sns });
const sqs = new SQSClient({ ...setup, endpoint: emulators.sns });

const proxies: HoldingProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

async function holding(target: string, holdMs: number): Promise<HoldingProxy> {
  const proxy = await HoldingProxy.start(target, holdMs);
  proxies.push(proxy);
  return proxy;
}

/** A topic of its own with one unfiltered SQS "phone": every publish lands there once. */
async function topicWithPhone(name: string): Promise<{ topicArn: string; count: () => Promise<number> }> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `held-${run}-${name}` }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `held-${run}-${name}` }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn }));
  const count = async () => {
    let n = 0;
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
      );
      if (Messages.length === 0) return n;
      n += Messages.length;
    }
  };
  return { topicArn: TopicArn!, count };
}

async function mailsTo(address: string): Promise<number> {
  const response = await fetch(`${emulators.ses}/store`, { signal: AbortSignal.timeout(5_000) });
  const store = (await response.json()) as { emails: { destination: { to: string[] } }[] };
  return store.emails.filter((mail) => mail.destination.to.includes(address)).length;
}

const config = (recipient: string) =>
  parseAlertsConfig({
    sources: [{ id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
    routes: [{ name: 'all', email: [recipient], sms: ['+79160000001'] }],
    email: { from: `alerts-${run}@example.com` },
  });

const event: QrEvent = {
  hash: '0xfeed',
  code: 'waiter_call',
  tableId: 1,
  tableName: '6',
  invoice: null,
  order: null,
  raw: {},
  placeholders: [],
};
const request = (skip: DeliveryRequest['skip']): DeliveryRequest => ({
  sourceId: 'pizza',
  sourceName: 'Pizza',
  event,
  firstSeenAt: Date.UTC(2026, 2, 12, 11, 0, 0),
  skip,
});

function only(channels: readonly ChannelResult[]): ChannelResult {
  expect(channels).toHaveLength(1);
  return channels[0]!;
}

describe('a send whose answer is held back', () => {
  it.concurrent('SNS answering 3.5 s late: one publish, one SMS, a success', async () => {
    const phone = await topicWithPhone('sns-late');
    const proxy = await holding(emulators.sns, 3_500);
    const deliverer = createDeliverer({
      config: config(`nobody-${run}@staff.example`),
      topicArn: phone.topicArn,
      sns: createSnsClient({ endpoint: proxy.endpoint }),
    });
    const started = performance.now();
    const result = only((await deliverer.deliver(request(['email']))).channels);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ channel: 'sns', ok: true });
    expect(elapsed).toBeGreaterThanOrEqual(3_500);
    expect(elapsed).toBeLessThan(CLIENT_DEFAULTS.send.requestTimeoutMs);
    await proxy.settled();
    expect(proxy.requests).toBe(1);
    expect(await phone.count()).toBe(1);
  });

  it.concurrent('SNS answering after the timeout: a failure flagged ambiguous, and exactly one SMS', async () => {
    const phone = await topicWithPhone('sns-timeout');
    const proxy = await holding(emulators.sns, 1_500);
    const deliverer = createDeliverer({
      config: config(`nobody-${run}@staff.example`),
      topicArn: phone.topicArn,
      sns: createSnsClient({ endpoint: proxy.endpoint, requestTimeoutMs: 1_000 }),
    });
    const result = only((await deliverer.deliver(request(['email']))).channels);
    expect(result).toMatchObject({
      channel: 'sns',
      ok: false,
      kind: 'transient',
      ambiguous: true,
      message: expect.stringMatching(/no answer from SNS.*may have accepted it.*a retry may send it twice/),
    });
    await proxy.settled();
    expect(proxy.requests).toBe(1);
    expect(await phone.count()).toBe(1);
  });

  it.concurrent('(why) the retries of the default profile resend a publish answered late', async () => {
    const phone = await topicWithPhone('sns-sdk-retries');
    const proxy = await holding(emulators.sns, 1_500);
    // An SNS endpoint with the default profile's retries (3 attempts), as the SDK clients had them.
    const retrying = new QueryClient(SNS, { endpoint: proxy.endpoint, requestTimeoutMs: 1_000 });
    const deliverer = createDeliverer({
      config: config(`nobody-${run}@staff.example`),
      topicArn: phone.topicArn,
      sns: retrying,
    });
    const result = only((await deliverer.deliver(request(['email']))).channels);
    expect(result).toMatchObject({ channel: 'sns', ok: false });
    await proxy.settled();
    // One deliver(), CLIENT_DEFAULTS.maxAttempts (3) identical SMS.
    expect(proxy.requests).toBe(CLIENT_DEFAULTS.maxAttempts);
    expect(await phone.count()).toBe(CLIENT_DEFAULTS.maxAttempts);
  });

  it.concurrent('SES answering 3.5 s late: one e-mail, a success', async () => {
    const recipient = `late-${run}@staff.example`;
    const proxy = await holding(emulators.ses, 3_500);
    const deliverer = createDeliverer({
      config: config(recipient),
      ses: createSesClient({ endpoint: proxy.endpoint }),
    });
    const result = only((await deliverer.deliver(request(['sns']))).channels);
    expect(result).toMatchObject({ channel: 'email', ok: true, recipients: [recipient] });
    await proxy.settled();
    expect(proxy.requests).toBe(1);
    expect(await mailsTo(recipient)).toBe(1);
  });

  it.concurrent('SES answering after the timeout: a failure flagged ambiguous, and exactly one e-mail', async () => {
    const recipient = `timeout-${run}@staff.example`;
    const proxy = await holding(emulators.ses, 1_500);
    const deliverer = createDeliverer({
      config: config(recipient),
      ses: createSesClient({ endpoint: proxy.endpoint, requestTimeoutMs: 1_000 }),
    });
    const result = only((await deliverer.deliver(request(['sns']))).channels);
    expect(result).toMatchObject({
      channel: 'email',
      ok: false,
      kind: 'transient',
      ambiguous: true,
      message: expect.stringContaining('no answer from SES'),
    });
    await proxy.settled();
    expect(proxy.requests).toBe(1);
    expect(await mailsTo(recipient)).toBe(1);
  });
});
