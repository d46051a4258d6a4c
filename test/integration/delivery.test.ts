/**
 * Delivery over real protocol peers: the deliverer sends a mixed stream of events through the SES
 * emulator (aws-ses-v2-local) and the SNS emulator (fauxqs). SQS queues stand in for the staff's
 * phones: each is subscribed to the topic with exactly the filter policy `smsSubscriptions`
 * gives that phone, so the test sees which SMS each phone would get. Also: a dead or silent
 * endpoint gives a `transient` result within its timeout while the other channel still succeeds.
 *
 * Topic, queue and sender names are unique per run: the emulators are shared by parallel test files.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { routeMatches, smsSubscriptions, snsAttributes, type RoutingFacts } from '../../lambda/core/routing';
import { createDeliverer } from '../../lambda/notify/deliverer';
import type { ChannelResult, DeliveryRequest } from '../../lambda/domain/delivery';
import { createSesClient } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';
import type { QrEvent } from '../../lambda/domain/event';
import { destinationsOf, tapWire, xmlError } from '../support/wire';
import { seededRandom } from '../support/random';

const emulators = inject('emulators');
const run = randomUUID().slice(0, 8);
const FROM = `Alerts <alerts-${run}@example.com>`;
const XSS_TABLE = '<img src=x onerror=alert(1)>';

const PHONE = {
  anna: '+79160000001',
  boris: '+79160000002',
  terrace: '+79160000003',
  manager: '+79160000004',
  owner: '+79160000009',
} as const;

const config = parseAlertsConfig({
  locale: 'ru',
  timeZone: 'Europe/Moscow',
  sources: [{ id: 'pizza', name: 'Пиццерия на Ленина', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
  zones: { terrace: ['20-29'] },
  routes: [
    { name: 'waiter-a', tables: ['1-10'], email: ['anna@staff.example'], sms: [PHONE.anna] },
    { name: 'waiter-b', tables: ['11-19', 'VIP'], email: ['boris@staff.example'], sms: [PHONE.boris] },
    {
      name: 'terrace',
      tables: ['terrace'],
      codes: ['waiter_call', 'waiter_call_cash'],
      email: ['Anna@Staff.example', 'terrace@staff.example'],
      sms: [PHONE.terrace],
    },
    {
      name: 'manager',
      codes: ['bill_request', 'order_paid'],
      email: ['manager@staff.example', 'anna@staff.example'],
      sms: [PHONE.manager],
    },
    { name: 'odd-table', tables: [XSS_TABLE], email: ['log@staff.example'] },
    { name: 'owner', sms: [PHONE.owner] },
  ],
  email: { from: FROM, replyTo: ['office@staff.example'] },
});

/** Test clients for setup and inspection: short timeouts (the SES emulator never answers unknown actions). */
const testClientConfig = {
  region: 'eu-central-1',
  maxAttempts: 1,
  requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
};
const sns = new SNSClient({ ...testClientConfig, endpoint: emulators.sns });
const sqs = new SQSClient({ ...testClientConfig, endpoint: emulators.sns });

let topicArn: string;
const phoneQueues = new Map<string, string>();

beforeAll(async () => {
  ({ TopicArn: topicArn } = (await sns.send(new CreateTopicCommand({ Name: `alerts-${run}` }))) as {
    TopicArn: string;
  });
  for (const [i, subscription] of smsSubscriptions(config).entries()) {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `delivery-${run}-phone-${i}` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn,
        ...(subscription.filterPolicy && { Attributes: { FilterPolicy: JSON.stringify(subscription.filterPolicy) } }),
      }),
    );
    phoneQueues.set(subscription.phone, QueueUrl!);
  }
});

function qrEvent(hash: string, code: string, tableName: string, extra: Partial<QrEvent> = {}): QrEvent {
  const raw = {
    hash,
    code,
    table: 1000000 + hash.length,
    table_repr: { id: 1000000 + hash.length, name: tableName, max_guests: 4 },
  };
  return { hash, code, tableId: raw.table, tableName, invoice: null, order: null, raw, placeholders: [], ...extra };
}

const FIRST_SEEN = Date.UTC(2026, 2, 12, 11, 5, 9);
const request = (event: QrEvent): DeliveryRequest => ({
  sourceId: 'pizza',
  sourceName: 'Пиццерия на Ленина',
  event,
  firstSeenAt: FIRST_SEEN,
});

interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
}

async function storedEmails(): Promise<StoredEmail[]> {
  const response = await fetch(`${emulators.ses}/store`, { signal: AbortSignal.timeout(5_000) });
  const store = (await response.json()) as { emails: StoredEmail[] } | StoredEmail[];
  return Array.isArray(store) ? store : store.emails;
}

/** Everything a stand-in phone queue holds, as the `sms` text of each message. */
async function smsTexts(phone: string): Promise<string[]> {
  const texts: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: phoneQueues.get(phone),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    if (Messages.length === 0) return texts;
    for (const message of Messages) {
      // fauxqs does not apply MessageStructure=json per protocol: where real SNS would hand an SMS
      // subscriber only the "sms" value, an SQS subscriber here gets the whole JSON object (inside
      // the SNS envelope's Message). So the test reads the "sms" key itself.
      const notification = JSON.parse(message.Body!) as { Message: string };
      texts.push((JSON.parse(notification.Message) as { sms: string }).sms);
    }
  }
}

/** A loopback port nobody listens on (bound once by the OS, then closed). */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function okResult(results: readonly ChannelResult[], channel: ChannelResult['channel']) {
  const result = results.find((r) => r.channel === channel);
  if (!result?.ok) throw new Error(`expected ${channel} to succeed, got ${JSON.stringify(result)}`);
  return result;
}

describe('delivering a mixed stream of events', () => {
  const events = {
    table6Call: qrEvent('0x01', 'waiter_call', '6'),
    table12Call: qrEvent('0x02', 'waiter_call', '12'),
    table6Bill: qrEvent('0x03', 'bill_request', '6', {
      invoice: {
        id: 501,
        table: 1000004,
        sum_to_pay: 2350,
        currency: 'RUB',
        dishes: [
          { name: 'Пицца «Маргарита»', quantity: 2, price: 650 },
          { name: 'Лимонад', quantity: 3, price: 350 },
        ],
      },
    }),
    terraceCash: qrEvent('0x04', 'waiter_call_cash', '25'),
    vipUnknown: qrEvent('0x05', 'table_cleaning', 'VIP'),
    xssTable: qrEvent('0x06', 'waiter_call', XSS_TABLE),
    table12Order: qrEvent('0x07', 'new_order', '12', {
      order: { id: 'o-77', status: 'new', items: [{ title: 'Борщ', qty: 1 }], total: 420 },
    }),
  };
  type Name = keyof typeof events;
  const results = new Map<Name, readonly ChannelResult[]>();
  let mails: StoredEmail[] = [];
  /** The SMS texts each stand-in phone received (reading a queue empties it, so once). */
  let texts: Record<keyof typeof PHONE, string[]>;

  beforeAll(async () => {
    // Clients made by the deliverer itself: the SDK finds the emulators through AWS_ENDPOINT_URL_SES/_SNS.
    const deliverer = createDeliverer({ config, topicArn, clientOptions: { requestTimeoutMs: 3_000 } });
    for (const [name, event] of Object.entries(events) as [Name, QrEvent][]) {
      results.set(name, (await deliverer.deliver(request(event))).channels);
    }
    const ids = new Set(
      [...results.values()].flatMap((channels) =>
        channels.filter((c) => c.ok && c.channel === 'email').flatMap((c) => (c.ok ? c.messageIds : [])),
      ),
    );
    mails = (await storedEmails()).filter((mail) => ids.has(mail.messageId));
    texts = Object.fromEntries(
      await Promise.all(
        Object.entries(PHONE).map(async ([who, phone]) => [who, (await smsTexts(phone)).sort()] as const),
      ),
    ) as typeof texts;
  });

  const mailOf = (name: Name): StoredEmail => {
    const [id] = okResult(results.get(name)!, 'email').messageIds;
    const mail = mails.find((m) => m.messageId === id);
    if (!mail) throw new Error(`no stored e-mail ${id} for ${name}`);
    return mail;
  };

  it('succeeds on both channels for every event, SNS answering with the topic and a message id', () => {
    for (const [name, channels] of results) {
      expect(
        channels.every((c) => c.ok),
        `${name}: ${JSON.stringify(channels)}`,
      ).toBe(true);
      expect(okResult(channels, 'sns')).toMatchObject({ recipients: [topicArn], messageIds: [expect.any(String)] });
    }
  });

  it('e-mails the waiter of tables 1–10 about table 6, alone in To, from email.from with Reply-To', () => {
    expect(okResult(results.get('table6Call')!, 'email').recipients).toEqual(['anna@staff.example']);
    const mail = mailOf('table6Call');
    expect(mail.from).toBe(FROM);
    expect(mail.replyTo).toEqual(['office@staff.example']);
    expect(mail.destination).toEqual({ to: ['anna@staff.example'], cc: [], bcc: [] });
    expect(mail.subject).toBe('Стол 6: вызов официанта — Пиццерия на Ленина');
    expect(mail.body.text).toContain('Получено: 12 марта 2026 г.');
    expect(mail.body.text).toContain('14:05:09');
  });

  it('e-mails table 12 to the other waiter only', () => {
    expect(mailOf('table12Call').destination).toEqual({ to: ['boris@staff.example'], cc: [], bcc: [] });
  });

  // aws-ses-v2-local keeps only the FIRST address of each of To/Cc/Bcc in its store (its request
  // schema declares only `member.1`), so the complete list is checked in the deliverer's result.
  it('sends a bill request to the waiter and the manager once each, in Bcc, with the bill', () => {
    expect(okResult(results.get('table6Bill')!, 'email').recipients).toEqual([
      'anna@staff.example',
      'manager@staff.example',
    ]);
    const mail = mailOf('table6Bill');
    expect(mail.destination).toEqual({ to: [], cc: [], bcc: ['anna@staff.example'] });
    expect(mail.subject).toBe('Стол 6: просят счёт — Пиццерия на Ленина');
    const text = mail.body.text!.replace(/[\u00A0\u202F]/g, ' ');
    expect(text).toContain('Счёт № 501, к оплате: 2 350,00 ₽');
    expect(text).toContain('Пицца «Маргарита» × 2 — 650,00 ₽');
  });

  it('e-mails terrace tables to the terrace staff, one address per person whatever its case', () => {
    expect(okResult(results.get('terraceCash')!, 'email').recipients).toEqual([
      'Anna@Staff.example',
      'terrace@staff.example',
    ]);
    expect(mailOf('terraceCash').destination).toEqual({ to: [], cc: [], bcc: ['Anna@Staff.example'] });
    expect(mailOf('terraceCash').subject).toBe('Стол 25: вызов официанта, оплата наличными — Пиццерия на Ленина');
  });

  it('delivers an unknown code with a generic text that names it', () => {
    expect(mailOf('vipUnknown').subject).toBe('Стол VIP: событие «table_cleaning» — Пиццерия на Ленина');
  });

  it('keeps an HTML-looking table name as text in the stored e-mail', () => {
    const mail = mailOf('xssTable');
    expect(mail.destination.to).toEqual(['log@staff.example']);
    expect(mail.body.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.body.html).not.toContain('<img');
    expect(mail.subject).toBe(`Стол ${XSS_TABLE}: вызов официанта — Пиццерия на Ленина`);
  });

  it('texts the waiter of tables 1–10 about table 6 and not about table 12', () => {
    expect(texts.anna).toEqual([
      'Стол 6: вызов официанта (Пиццерия на Ленина)',
      'Стол 6: просят счёт (Пиццерия на Ленина)',
    ]);
    expect(texts.anna.some((text) => text.startsWith('Стол 12'))).toBe(false);
  });

  it('sends every other phone the SMS of exactly its events, through the SNS filter policies', () => {
    expect(texts.boris).toEqual(
      [
        'Стол 12: вызов официанта (Пиццерия на Ленина)',
        'Стол VIP: событие «table_cleaning» (Пиццерия на Ленина)',
        'Стол 12: новый заказ (Пиццерия на Ленина)',
      ].sort(),
    );
    expect(texts.terrace).toEqual(['Стол 25: вызов официанта, оплата наличными (Пиццерия на Ленина)']);
    expect(texts.manager).toEqual(['Стол 6: просят счёт (Пиццерия на Ленина)']);
    // The owner's subscription has no filter policy: every event, the odd table too.
    expect(texts.owner).toHaveLength(Object.keys(events).length);
    expect(texts.owner).toContainEqual(expect.stringMatching(/^Стол <img src=x onerror=alert\(1\)>: вызов официанта/));
  });

  it('keeps every SMS within one segment (70 characters of Cyrillic)', () => {
    const all = Object.values(texts).flat();
    expect(all.length).toBeGreaterThan(0);
    for (const text of all) expect(text.length, text).toBeLessThanOrEqual(70);
  });
});

describe('delivering with channels skipped or absent', () => {
  it('sends nothing again for channels that succeeded on an earlier attempt', async () => {
    const deliverer = createDeliverer({ config, topicArn, clientOptions: { requestTimeoutMs: 3_000 } });
    const event = qrEvent('0x10', 'waiter_call', '6');
    const onlySns = await deliverer.deliver({ ...request(event), skip: ['email'] });
    expect(onlySns.channels.map((c) => [c.channel, c.ok])).toEqual([['sns', true]]);
    expect((await deliverer.deliver({ ...request(event), skip: ['email', 'sns'] })).channels).toEqual([]);
  });

  it('attempts no SNS publish without a topic, and no e-mail when no route has an address', async () => {
    const deliverer = createDeliverer({ config, clientOptions: { requestTimeoutMs: 3_000 } });
    expect((await deliverer.deliver(request(qrEvent('0x11', 'waiter_call', '99')))).channels).toEqual([]);
    const emailOnly = await deliverer.deliver(request(qrEvent('0x12', 'waiter_call', '7')));
    expect(emailOnly.channels.map((c) => [c.channel, c.ok])).toEqual([['email', true]]);
  });
});

describe('delivering when a channel fails', () => {
  let silent: { port: number; close: () => Promise<void> };

  beforeAll(async () => {
    // Accepts connections and never answers: the request timeout must end the wait.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    silent = {
      port: (server.address() as AddressInfo).port,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        server.close();
        await once(server, 'close');
      },
    };
  });
  afterAll(() => silent.close());

  const table6 = () => request(qrEvent(`0x2${randomUUID().slice(0, 6)}`, 'waiter_call', '6'));

  it('answers an SES endpoint that refuses connections with a transient result within its timeout, and SNS still delivers', async () => {
    const closedPort = await closedLoopbackPort();
    const ses = createSesClient({
      endpoint: `http://127.0.0.1:${closedPort}`,
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1_000,
    });
    const deliverer = createDeliverer({ config, topicArn, ses, sns: createSnsClient({ requestTimeoutMs: 3_000 }) });
    const started = performance.now();
    const { channels } = await deliverer.deliver(table6());
    expect(performance.now() - started).toBeLessThan(4_000);
    const email = channels.find((c) => c.channel === 'email');
    expect(email).toMatchObject({
      ok: false,
      kind: 'transient',
      message: expect.stringMatching(/cannot reach SES \(eu-central-1\).*ECONNREFUSED/),
    });
    // Nothing was sent over a refused connection: a retry cannot double it.
    expect(email).not.toHaveProperty('ambiguous');
    expect(okResult(channels, 'sns').messageIds).toHaveLength(1);
  });

  it('answers an SNS endpoint that never answers with a transient result after its request timeout, and e-mail still goes out', async () => {
    const sns = createSnsClient({ endpoint: `http://127.0.0.1:${silent.port}`, requestTimeoutMs: 300 });
    const deliverer = createDeliverer({ config, topicArn, sns, clientOptions: { requestTimeoutMs: 3_000 } });
    const started = performance.now();
    const { channels } = await deliverer.deliver(table6());
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(channels.find((c) => c.channel === 'sns')).toMatchObject({
      ok: false,
      kind: 'transient',
      message: expect.stringContaining('no answer from SNS'),
      // The request was written to an open connection: SNS may have taken it.
      ambiguous: true,
    });
    expect(okResult(channels, 'email').recipients).toEqual(['anna@staff.example']);
  });

  it('cuts a send off at the channel budget even when every attempt would wait longer', async () => {
    const sns = createSnsClient({
      endpoint: `http://127.0.0.1:${silent.port}`,
      requestTimeoutMs: 10_000,
    });
    const deliverer = createDeliverer({
      config,
      topicArn,
      sns,
      sendTimeoutMs: 400,
      clientOptions: { requestTimeoutMs: 3_000 },
    });
    const started = performance.now();
    const { channels } = await deliverer.deliver({ ...table6(), skip: ['email'] });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(channels).toEqual([
      {
        channel: 'sns',
        ok: false,
        kind: 'transient',
        message: expect.stringContaining('no answer from SNS'),
        ambiguous: true,
      },
    ]);
  });

  it('answers a deleted topic with a permanent result that says what to fix', async () => {
    const missing = topicArn.replace(/[^:]+$/, `deleted-${run}`);
    const deliverer = createDeliverer({ config, topicArn: missing, clientOptions: { requestTimeoutMs: 3_000 } });
    const { channels } = await deliverer.deliver({ ...table6(), skip: ['email'] });
    expect(channels).toEqual([
      {
        channel: 'sns',
        ok: false,
        kind: 'permanent',
        message: expect.stringContaining(`the topic ${missing} does not exist`),
      },
    ]);
  });
});

describe('delivering when the SES sandbox refuses one recipient', () => {
  it('still e-mails the verified recipient through the SES emulator, and reports the refused one', async () => {
    // aws-ses-v2-local verifies no identity, so the sandbox's refusal is played at the wire: a
    // SendEmail naming the unverified address is answered with SES's XML error, the rest go on.
    const verified = `verified-${run}@staff.example`;
    const unverified = `unverified-${run}@staff.example`;
    const sandbox = tapWire((call) =>
      destinationsOf(call).includes(unverified)
        ? xmlError(
            'MessageRejected',
            `Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: ${unverified}`,
          )
        : undefined,
    );
    const ses = createSesClient({ requestTimeoutMs: 3_000, requestHandler: sandbox });
    const sandboxConfig = parseAlertsConfig({
      sources: [{ id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true }],
      routes: [{ name: 'all', email: [unverified, verified] }],
      email: { from: FROM },
    });
    const deliverer = createDeliverer({ config: sandboxConfig, ses });
    const { channels } = await deliverer.deliver(request(qrEvent('0x30', 'waiter_call', '6')));
    const email = okResult(channels, 'email');
    expect(email.recipients).toEqual([verified]);
    expect(email.refused).toEqual([
      { address: unverified, reason: expect.stringContaining('not verified in SES'), fresh: true },
    ]);
    const stored = (await storedEmails()).filter((mail) => email.messageIds.includes(mail.messageId));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.destination).toEqual({ to: [verified], cc: [], bcc: [] });
    expect(stored[0]!.subject).toBe('Стол 6: вызов официанта — Пиццерия на Ленина');
  });
});

/** A richer set of routes (ranges, names, zones, codes, sources, phones on two routes) for the agreement test. */
const routingConfig = parseAlertsConfig({
  sources: [
    { id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true },
    { id: 'sushi', url: 'http://127.0.0.1:9', allowPlainHttp: true },
  ],
  zones: { terrace: ['20-29', 'T1', 'T2'], bar: ['Bar-1', 'Bar-2'] },
  routes: [
    { name: 'waiter-a', codes: ['waiter_call', 'waiter_call_cash'], tables: ['1-10'], sms: ['+79160000001'] },
    { name: 'waiter-b', tables: ['11-19', 'VIP', '6'], sms: ['+79160000002'] },
    { name: 'terrace', tables: ['terrace'], codes: ['waiter_call'], sources: ['pizza'], sms: ['+79160000003'] },
    { name: 'bar', tables: ['bar', '100-200', '7', '42-42'], sms: ['+79160000004', '+79160000001'] },
    { name: 'manager', codes: ['bill_request', 'order_paid'], sms: ['+79160000005'] },
    { name: 'sushi-all', sources: ['sushi'], sms: ['+79160000006'] },
    { name: 'owner', sms: ['+79160000007'] },
  ],
});
const routingRoute = (name: string) => routingConfig.routes.find((r) => r.name === name)!;

describe('SNS filter policies, evaluated by the SNS emulator', () => {
  // fauxqs 1.9.2 compares a String.Array attribute as its raw JSON string, so `{"route": ["bar"]}`
  // would never match `["waiter-a","bar"]`; AWS documents that an array attribute matches when any
  // element matches. patches/fauxqs+1.9.2.patch (applied by `postinstall`) makes fauxqs do that,
  // and this test is what shows our `routeMatches` and SNS's evaluation agree event by event.
  // (fauxqs 2.x needs Node 22 and has no String.Array matching either.)
  function generateEvents(count: number): RoutingFacts[] {
    const next = seededRandom(7_031_2026);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const odd = [
      '06',
      ' 7 ',
      '007',
      'VIP',
      'vip',
      'Bar-1',
      'Bar-2',
      'T1',
      'T2',
      't1',
      '?',
      '999999999',
      '1000000000',
      '5.5',
      '-3',
      '12a',
      'Стол 5',
      '<img src=x onerror=alert(1)>',
      '6 ',
      '1e1',
    ];
    const codes = [
      'waiter_call',
      'waiter_call_cash',
      'bill_request',
      'new_order',
      'order_paid',
      'table_cleaning',
      'Waiter_Call',
    ];
    return Array.from({ length: count }, () => ({
      sourceId: pick(['pizza', 'pizza', 'sushi', 'elsewhere']),
      code: pick(codes),
      tableName: next() < 0.7 ? String(Math.floor(next() * 230)) : pick(odd),
    }));
  }

  async function receiveAll(queueUrl: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 300,
        }),
      );
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((m) => m.Body!));
    }
  }

  it('delivers to each phone exactly the events routeMatches gives its routes, for 400 generated events', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `routing-${run}` }));
    const phones = await Promise.all(
      smsSubscriptions(routingConfig).map(async (subscription, i) => {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `routing-${run}-phone-${i}` }));
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
        );
        await sns.send(
          new SubscribeCommand({
            TopicArn,
            Protocol: 'sqs',
            Endpoint: Attributes!.QueueArn,
            ...(subscription.filterPolicy && {
              Attributes: { FilterPolicy: JSON.stringify(subscription.filterPolicy) },
            }),
          }),
        );
        return { subscription, queueUrl: QueueUrl! };
      }),
    );

    const events = generateEvents(400);
    for (let i = 0; i < events.length; i += 25) {
      await Promise.all(
        events.slice(i, i + 25).map((event, j) =>
          sns.send(
            new PublishCommand({
              TopicArn,
              Message: JSON.stringify({ index: i + j }),
              MessageAttributes: snsAttributes(event, routingConfig),
            }),
          ),
        ),
      );
    }

    const disagreements: string[] = [];
    for (const { subscription, queueUrl } of phones) {
      const received = new Set(
        (await receiveAll(queueUrl)).map(
          (body) => (JSON.parse((JSON.parse(body) as { Message: string }).Message) as { index: number }).index,
        ),
      );
      const routes = subscription.routes.map(routingRoute);
      events.forEach((event, index) => {
        const expected = routes.some((r) => routeMatches(r, event, routingConfig.zones));
        if (expected !== received.has(index)) {
          disagreements.push(
            `${subscription.phone} ${JSON.stringify(event)}: routeMatches ${expected}, SNS ${received.has(index)}`,
          );
        }
      });
    }
    expect(disagreements).toEqual([]);
    // The generated stream really exercises both outcomes for every phone not on the route for everything.
    for (const { subscription } of phones.filter((p) => !p.subscription.routes.includes('owner'))) {
      const routes = subscription.routes.map(routingRoute);
      const matched = events.filter((e) => routes.some((r) => routeMatches(r, e, routingConfig.zones))).length;
      expect(matched, subscription.phone).toBeGreaterThan(0);
      expect(matched, subscription.phone).toBeLessThan(events.length);
    }
  });
});
