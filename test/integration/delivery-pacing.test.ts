/**
 * A burst paced to the account's quotas, end to end: the poll cycle with the real deliverer sends
 * 30 calls at once through the SES emulator and the SNS emulator, on one manual clock shared by
 * the poller and the deliverer's pacing. Each SendEmail (two recipients) and each Publish (one
 * phone) is timed at the wire: no second ever carries more than the configured rate, the
 * sends that could not start within a tick are deferred to later ticks (nothing given up, no
 * throttling error), and every e-mail and SMS arrives exactly once.
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
import { destinationsOf, tapWire, type WireCall } from '../support/wire';

const emulators = inject('emulators');
const run = randomUUID().slice(0, 8);
const TOKEN = 'pacing-token-4242';
const PHONE = '+79165550007';
const SES_RATE = 4;
const SNS_RATE = 3;
/**
 * The manual clock, but a sleep lets the event loop turn once before time moves: a send the pacer
 * has just granted reaches the SDK at the instant it was granted, as it does in real time.
 */
class YieldingClock extends ManualClock {
  override sleep = async (ms: number): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    this.t += Math.max(0, ms);
  };
}
const clock = new YieldingClock();
const db = countingDynamoDbClient();
const setup = {
  region: 'eu-central-1',
  endpoint: emulators.sns,
  requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
};
const sns = new SNSClient(setup);
const sqs = new SQSClient(setup);
const recipients = [`hall-${run}@staff.example`, `log-${run}@staff.example`];
const config = parseAlertsConfig({
  sources: [{ id: 'pizzeria', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
  routes: [{ name: 'all', email: recipients, sms: [PHONE] }],
  email: { from: `alerts-${run}@pizzeria.example` },
  delivery: { cooldownSeconds: 0, sesPerSecond: SES_RATE, snsPerSecond: SNS_RATE },
});

let sim: Simulator;
let topicArn: string;
let phoneQueue: string;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 41 });
  topicArn = (await sns.send(new CreateTopicCommand({ Name: `pacing-${run}` }))).TopicArn!;
  phoneQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `pacing-${run}-phone` }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: phoneQueue, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  const [subscription] = smsSubscriptions(config);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: arn,
      Attributes: { FilterPolicy: JSON.stringify(subscription!.filterPolicy) },
    }),
  );
});
afterAll(async () => {
  await sim.close();
});

/** A request handler that records, at the wire, the manual-clock instant and the cost of every send. */
function timed(cost: (call: WireCall) => number, into: { at: number; cost: number }[]) {
  return tapWire((call) => {
    into.push({ at: clock.now(), cost: cost(call) });
  });
}

const busiestSecond = (starts: readonly { at: number; cost: number }[]) =>
  Math.max(
    ...starts.map((s) => starts.filter((o) => o.at >= s.at && o.at < s.at + 1_000).reduce((n, o) => n + o.cost, 0)),
  );

async function mailsOfRun(): Promise<{ body: { text: string } }[]> {
  const store = (await (await fetch(`${emulators.ses}/store`)).json()) as {
    emails: { from: string; body: { text: string } }[];
  };
  return store.emails.filter((mail) => mail.from.includes(run));
}

describe('a burst paced to the SES and SNS quotas', () => {
  it('30 calls at once: never over the rate in any second, the rest deferred to later ticks, each sent once', async () => {
    const sesSends: { at: number; cost: number }[] = [];
    const snsSends: { at: number; cost: number }[] = [];
    const deliverer = createDeliverer({
      config,
      topicArn,
      ses: createSesClient({ requestHandler: timed((call) => destinationsOf(call).length, sesSends) }),
      sns: createSnsClient({ requestHandler: timed(() => 1, snsSends) }),
      sendTimeoutMs: 2_000,
      clock,
    });
    const metrics = new RecordingMetrics();
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const poller = makePoller({ clock, sim, store, token: TOKEN }, { deliverer, metrics });
    const leaseUntil = clock.now() + 600_000;
    await poller.begin(leaseUntil);
    await poller.tick(clock.now() + 10_000); // first run: baseline

    const burst = sim.injectMany(30).map((e) => e.hash);
    const started = clock.now();
    await poller.tick(clock.now() + 10_000);
    const afterFirstTick = metrics.get(METRIC.delivered);
    expect(afterFirstTick).toBeGreaterThan(0);
    expect(afterFirstTick).toBeLessThan(30); // 2 e-mails a second for ~8 s: the rest is deferred
    for (let i = 0; i < 12 && metrics.get(METRIC.delivered) < 30; i += 1) {
      clock.advance(2_000);
      await poller.tick(clock.now() + 10_000);
    }

    expect(metrics.get(METRIC.delivered)).toBe(30);
    expect(metrics.get(METRIC.deliveryFailed)).toBe(0);
    expect(metrics.get(METRIC.deliveryRetries)).toBeGreaterThan(0); // the deferred ones, at no attempt's cost
    expect(busiestSecond(sesSends)).toBeLessThanOrEqual(SES_RATE);
    expect(busiestSecond(snsSends)).toBeLessThanOrEqual(SNS_RATE);
    expect(sesSends.reduce((n, s) => n + s.cost, 0)).toBe(60); // nothing sent twice
    expect(snsSends).toHaveLength(30);
    // 60 recipients at 4/s: the last e-mail starts no earlier than 14 s after the first (the quota-bound minimum).
    expect(Math.max(...sesSends.map((s) => s.at)) - started).toBeGreaterThanOrEqual(14_000);

    const sms = (await drainQueue(sqs, phoneQueue)).concat(
      await drainQueue(sqs, phoneQueue),
      await drainQueue(sqs, phoneQueue),
      await drainQueue(sqs, phoneQueue),
    );
    const smsHashes = sms.flatMap((m) => (m.structured ? [phoneMessage(m.structured).hash] : []));
    expect(smsHashes.sort()).toEqual([...burst].sort());
    // One e-mail per call (the SES emulator keeps the first Bcc address of a v1 SendEmail; both
    // recipients of each call were counted at the wire above).
    const mails = await mailsOfRun();
    for (const hash of burst)
      expect(
        mails.filter((m) => m.body.text.includes(hash)),
        hash,
      ).toHaveLength(1);
  });
});
