/**
 * An SES or SNS outage in the middle of a stream loses nothing: the poll cycle with the real
 * deliverer talks to the SES and SNS emulators through a proxy that the test switches off and on.
 * Events that fail are retried on later ticks and delivered once the fault clears — each e-mail
 * and each SMS exactly once, because a channel that worked is never repeated.
 */
import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { drainQueue, phoneMessage } from '../../local/local-stack';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { smsSubscriptions } from '../../lambda/core/routing';
import { createDeliverer } from '../../lambda/notify/deliverer';
import { createSesClient } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';
import { METRIC } from '../../lambda/domain/metrics';
import { StateStore } from '../../lambda/state/store';
import { ManualClock, RecordingMetrics, countingDynamoDbClient, freshTable, makePoller } from '../support/harness';
import { SwitchableProxy } from '../support/proxy';

const emulators = inject('emulators');
const run = randomUUID().slice(0, 8);
const TOKEN = 'recovery-token-8080';
const WAITER = '+79165550001';
const clock = new ManualClock();
const db = countingDynamoDbClient();
const setup = {
  region: 'eu-central-1',
  endpoint: emulators.sns,
  requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
};
const sns = new SNSClient(setup);
const sqs = new SQSClient(setup);

let sim: Simulator;
let sesProxy: SwitchableProxy;
let snsProxy: SwitchableProxy;
let topicArn: string;
let phoneQueue: string;
const recipient = `waiter-${run}@staff.example`;
const config = parseAlertsConfig({
  sources: [{ id: 'pizzeria', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
  routes: [{ name: 'all', email: [recipient], sms: [WAITER] }],
  email: { from: `alerts-${run}@pizzeria.example` },
});

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 31 });
  [sesProxy, snsProxy] = await Promise.all([
    SwitchableProxy.start(emulators.ses),
    SwitchableProxy.start(emulators.sns),
  ]);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: `recovery-${run}` }))).TopicArn!;
  phoneQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `recovery-${run}-phone` }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: phoneQueue, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  const [subscription] = smsSubscriptions(config);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: arn,
      ...(subscription?.filterPolicy
        ? { Attributes: { FilterPolicy: JSON.stringify(subscription.filterPolicy) } }
        : {}),
    }),
  );
});
afterAll(async () => {
  await Promise.all([sim.close(), sesProxy.close(), snsProxy.close()]);
});

async function mailsTo(address: string): Promise<{ subject: string }[]> {
  const store = (await (await fetch(`${emulators.ses}/store`)).json()) as {
    emails: { destination: { to: string[]; bcc?: string[] }; subject: string }[];
  };
  return store.emails.filter((mail) => [...mail.destination.to, ...(mail.destination.bcc ?? [])].includes(address));
}

describe('an SES or SNS outage mid-stream', () => {
  it('delays alerts but loses none and doubles none', async () => {
    const clientOptions = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000 };
    const deliverer = createDeliverer({
      config,
      topicArn,
      ses: createSesClient({ ...clientOptions, endpoint: sesProxy.endpoint }),
      sns: createSnsClient({ ...clientOptions, endpoint: snsProxy.endpoint }),
      sendTimeoutMs: 2_000,
    });
    const metrics = new RecordingMetrics();
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const poller = makePoller({ clock, sim, store, token: TOKEN }, { deliverer, metrics });
    const leaseUntil = clock.now() + 600_000;
    await poller.begin(leaseUntil);
    await poller.tick(leaseUntil); // first run: baseline

    const hashes: string[] = [];
    const step = async () => {
      clock.advance(10_000);
      hashes.push(sim.inject({ code: 'waiter_call', tableName: String(hashes.length + 1) }).hash);
      await poller.tick(leaseUntil);
    };
    await step(); // all up
    snsProxy.down();
    await step(); // SNS down: the e-mail goes, the SMS waits
    sesProxy.down();
    await step(); // both down
    snsProxy.up = true;
    await step(); // SNS back, SES still down
    sesProxy.up = true;
    for (let i = 0; i < 12; i += 1) {
      clock.advance(10_000);
      await poller.tick(leaseUntil); // retries come due (5 s, 10 s, 20 s, …)
    }

    expect(metrics.get(METRIC.deliveryRetries)).toBeGreaterThan(0);
    expect(metrics.get(METRIC.deliveryFailed)).toBe(0);
    expect(metrics.get(METRIC.delivered)).toBe(hashes.length);
    const sms = (await drainQueue(sqs, phoneQueue)).concat(await drainQueue(sqs, phoneQueue));
    const smsHashes = sms.flatMap((m) => (m.structured ? [phoneMessage(m.structured).hash] : []));
    expect(smsHashes.sort()).toEqual([...hashes].sort());
    const mails = await mailsTo(recipient);
    expect(mails).toHaveLength(hashes.length);
    for (const n of [1, 2, 3, 4]) expect(mails.filter((m) => m.subject.includes(`Стол ${n}:`))).toHaveLength(1);
  });
});
