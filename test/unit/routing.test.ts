/**
 * Specification of routing: which routes an event matches, who gets e-mail, and the SNS side of
 * SMS routing. The key property: SNS's own evaluation of each phone's filter policy (fauxqs, a
 * real protocol peer — its evaluator is not importable, the package exports only its server)
 * selects exactly the events `routeMatches` selects, over a few hundred generated events.
 * Also: the 150-combination limit of SNS filter policies fails with a clear message.
 */
import { GetQueueAttributesCommand, CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ConfigError, parseAlertsConfig, type AlertsConfigInput } from '../../lambda/config/schema';
import {
  emailRecipients,
  FilterPolicyLimitError,
  routeMatches,
  smsSubscriptions,
  snsAttributes,
  type RoutingFacts,
} from '../../lambda/core/routing';
import { seededRandom } from '../support/random';

const SOURCES = [
  { id: 'pizza', url: 'http://127.0.0.1:9' },
  { id: 'sushi', url: 'http://127.0.0.1:9' },
];

const config = parseAlertsConfig({
  sources: SOURCES,
  zones: { terrace: ['20-29', 'T1', 'T2'], bar: ['Bar-1', 'Bar-2'] },
  routes: [
    {
      name: 'waiter-a',
      codes: ['waiter_call', 'waiter_call_cash'],
      tables: ['1-10'],
      sms: ['+79160000001'],
      email: ['anna@staff.example'],
    },
    { name: 'waiter-b', tables: ['11-19', 'VIP', '6'], sms: ['+79160000002'], email: ['boris@staff.example'] },
    { name: 'terrace', tables: ['terrace'], codes: ['waiter_call'], sources: ['pizza'], sms: ['+79160000003'] },
    { name: 'bar', tables: ['bar', '100-200', '7', '42-42'], sms: ['+79160000004', '+79160000001'] },
    {
      name: 'manager',
      codes: ['bill_request', 'order_paid'],
      sms: ['+79160000005'],
      email: ['Anna@Staff.example', 'max@staff.example'],
    },
    { name: 'sushi-all', sources: ['sushi'], sms: ['+79160000006'] },
    { name: 'owner', sms: ['+79160000007'] },
  ],
  email: { from: 'alerts@example.com' },
});

const facts = (tableName: string, code = 'waiter_call', sourceId = 'pizza'): RoutingFacts => ({
  sourceId,
  code,
  tableName,
});
const route = (name: string) => config.routes.find((r) => r.name === name)!;

describe('routeMatches', () => {
  it('sends a waiter subscribed to tables 1–10 table 6 and not table 12', () => {
    expect(routeMatches(route('waiter-a'), facts('6'), config.zones)).toBe(true);
    expect(routeMatches(route('waiter-a'), facts('12'), config.zones)).toBe(false);
  });

  it('takes both ends of a range, and a table name with leading zeros as its number', () => {
    expect(routeMatches(route('waiter-a'), facts('1'), config.zones)).toBe(true);
    expect(routeMatches(route('waiter-a'), facts('10'), config.zones)).toBe(true);
    expect(routeMatches(route('waiter-a'), facts('06'), config.zones)).toBe(true);
    expect(routeMatches(route('waiter-a'), facts('0'), config.zones)).toBe(false);
  });

  it('matches zones by the tables they list', () => {
    expect(routeMatches(route('terrace'), facts('25'), config.zones)).toBe(true);
    expect(routeMatches(route('terrace'), facts('T2'), config.zones)).toBe(true);
    expect(routeMatches(route('terrace'), facts('30'), config.zones)).toBe(false);
  });

  it('filters by code and by source', () => {
    expect(routeMatches(route('waiter-a'), facts('6', 'bill_request'), config.zones)).toBe(false);
    expect(routeMatches(route('terrace'), facts('25', 'waiter_call', 'sushi'), config.zones)).toBe(false);
  });

  it('gives a route without conditions every event, unknown codes too', () => {
    expect(routeMatches(route('owner'), facts('?', 'something_new', 'sushi'), config.zones)).toBe(true);
  });
});

describe('emailRecipients', () => {
  it('collects the addresses of every matching route, each once regardless of case', () => {
    expect(emailRecipients(config, facts('6', 'bill_request'))).toEqual([
      'boris@staff.example',
      'Anna@Staff.example',
      'max@staff.example',
    ]);
    expect(emailRecipients(config, facts('6', 'waiter_call'))).toEqual(['anna@staff.example', 'boris@staff.example']);
  });

  it('gives nobody when no route with e-mail matches', () => {
    expect(emailRecipients(config, facts('25'))).toEqual([]);
  });
});

describe('snsAttributes', () => {
  it('carries source, code and table, plus table_num for whole-number names and the zones', () => {
    expect(snsAttributes(facts('25'), config.zones)).toEqual({
      source: { DataType: 'String', StringValue: 'pizza' },
      code: { DataType: 'String', StringValue: 'waiter_call' },
      table: { DataType: 'String', StringValue: '25' },
      table_num: { DataType: 'Number', StringValue: '25' },
      zone: { DataType: 'String', StringValue: 'terrace' },
    });
    expect(snsAttributes(facts('VIP'), config.zones)).not.toHaveProperty('table_num');
  });
});

describe('smsSubscriptions', () => {
  const subscriptions = smsSubscriptions(config);
  const of = (phone: string) => subscriptions.find((s) => s.phone === phone)!;

  it('gives each phone one subscription, however many routes name it', () => {
    expect(subscriptions.map((s) => s.phone).sort()).toEqual([
      '+79160000001',
      '+79160000002',
      '+79160000003',
      '+79160000004',
      '+79160000005',
      '+79160000006',
      '+79160000007',
    ]);
    expect(of('+79160000001').routes).toEqual(['waiter-a', 'bar']);
  });

  it('expresses a range as a numeric condition on table_num, and names as exact table values', () => {
    expect(of('+79160000002').filterPolicy).toEqual({
      $or: [{ table: ['VIP', '6'] }, { table_num: [{ numeric: ['>=', 11, '<=', 19] }] }],
    });
  });

  it('gives a route for every event a subscription without a filter policy', () => {
    expect(of('+79160000007').filterPolicy).toBeNull();
  });

  function withTables(count: number, codes?: string[]): AlertsConfigInput {
    return {
      sources: SOURCES,
      routes: [
        {
          name: 'long-list',
          ...(codes && { codes }),
          tables: Array.from({ length: count }, (_, i) => `T${i}`),
          sms: ['+79161112233'],
        },
      ],
    };
  }

  it('accepts a policy of exactly 150 value combinations', () => {
    expect(() => smsSubscriptions(parseAlertsConfig(withTables(150)))).not.toThrow();
  });

  it('refuses a policy above 150 combinations with FilterPolicyLimitError naming the phone, the routes and the fix', () => {
    // Build the config without validation: the schema itself would refuse it (next test).
    const tooMany = {
      routes: [
        {
          name: 'long-list',
          codes: ['waiter_call', 'bill_request'],
          tables: Array.from({ length: 76 }, (_, i) => `T${i}`),
          sms: ['+79161112233'],
          email: [],
        },
      ],
      zones: {},
    };
    let error: unknown;
    try {
      smsSubscriptions(tooMany);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FilterPolicyLimitError);
    const message = (error as Error).message;
    expect(message).toContain('+79161112233');
    expect(message).toContain('"long-list"');
    expect(message).toContain('152 value combinations');
    expect(message).toContain('SNS allows 150');
    expect(message).toMatch(/table ranges|zones/);
  });

  it('makes the config schema fail on such a route, at the routes field', () => {
    expect(() => parseAlertsConfig(withTables(151))).toThrow(ConfigError);
    expect(() => parseAlertsConfig(withTables(151))).toThrow(/routes: .*151 value combinations/);
  });
});

describe('SNS filter policies, evaluated by a real SNS (fauxqs)', () => {
  const endpoint = inject('emulators').sns;
  const clientConfig = {
    endpoint,
    region: 'eu-central-1',
    maxAttempts: 1,
    requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
  };
  const sns = new SNSClient(clientConfig);
  const sqs = new SQSClient(clientConfig);

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
    const run = randomUUID().slice(0, 8);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `routing-${run}` }));
    const phones = await Promise.all(
      smsSubscriptions(config).map(async (subscription, i) => {
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
              MessageAttributes: snsAttributes(event, config.zones),
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
      const routes = subscription.routes.map(route);
      events.forEach((event, index) => {
        const expected = routes.some((r) => routeMatches(r, event, config.zones));
        if (expected !== received.has(index)) {
          disagreements.push(
            `${subscription.phone} ${JSON.stringify(event)}: routeMatches ${expected}, SNS ${received.has(index)}`,
          );
        }
      });
    }
    expect(disagreements).toEqual([]);
    // The generated stream really exercises both outcomes for every phone with a policy.
    for (const { subscription } of phones.filter((p) => p.subscription.filterPolicy !== null)) {
      const routes = subscription.routes.map(route);
      const matched = events.filter((e) => routes.some((r) => routeMatches(r, e, config.zones))).length;
      expect(matched, subscription.phone).toBeGreaterThan(0);
      expect(matched, subscription.phone).toBeLessThan(events.length);
    }
  });
});
