/**
 * Specification of routing: which routes an event matches, who gets e-mail, and the SNS side of
 * SMS routing — the `route` attribute every publish carries and the `{"route": [...]}` policy of
 * each phone, with the one check of SNS's policy limits. Pure functions only: the agreement of
 * SNS's own evaluation (fauxqs) with `routeMatches` over generated events is tested against the
 * emulator in test/integration/delivery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAlertsConfig, type AlertsConfigInput } from '../../lambda/config/schema';
import {
  checkFilterPolicy,
  emailRecipients,
  FilterPolicyLimitError,
  pagingRoutes,
  policyComplexity,
  routeFilterPolicy,
  routeMatches,
  smsSubscriptions,
  snsAttributes,
  type FilterPolicy,
  type RoutingFacts,
} from '../../lambda/core/routing';

const SOURCES = [
  { id: 'pizza', url: 'http://127.0.0.1:9', allowPlainHttp: true },
  { id: 'sushi', url: 'http://127.0.0.1:9', allowPlainHttp: true },
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
  it('carries the matching routes as a String.Array, source, code and table, plus table_num and the zones', () => {
    expect(snsAttributes(facts('25'), config)).toEqual({
      route: { DataType: 'String.Array', StringValue: '["terrace","owner"]' },
      source: { DataType: 'String', StringValue: 'pizza' },
      code: { DataType: 'String', StringValue: 'waiter_call' },
      table: { DataType: 'String', StringValue: '25' },
      table_num: { DataType: 'Number', StringValue: '25' },
      zone: { DataType: 'String', StringValue: 'terrace' },
    });
    expect(snsAttributes(facts('VIP'), config)).not.toHaveProperty('table_num');
  });

  it('lists exactly the routes matchingRoutes gives, and leaves the attribute out when none matches', () => {
    const event = facts('6', 'bill_request');
    expect(JSON.parse(snsAttributes(event, config).route!.StringValue)).toEqual(['waiter-b', 'manager', 'owner']);
    const nobody = { ...config, routes: config.routes.filter((r) => r.name !== 'owner') };
    expect(snsAttributes(facts('999', 'table_cleaning', 'pizza'), nobody)).not.toHaveProperty('route');
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

  it('gives each phone the one-key policy {"route": [its routes]}, for ranges, names and zones alike', () => {
    expect(of('+79160000001').filterPolicy).toEqual({ route: ['waiter-a', 'bar'] });
    expect(of('+79160000002').filterPolicy).toEqual({ route: ['waiter-b'] });
    expect(of('+79160000003').filterPolicy).toEqual({ route: ['terrace'] });
  });

  it('gives a route for every event its name as the policy too (every event carries it)', () => {
    expect(of('+79160000007').filterPolicy).toEqual({ route: ['owner'] });
  });

  /** `count` routes, all texting one phone. */
  function routesForOnePhone(count: number): AlertsConfigInput {
    return {
      sources: SOURCES,
      routes: Array.from({ length: count }, (_, i) => ({ name: `r${i}`, tables: [`T${i}`], sms: ['+79161112233'] })),
    };
  }

  it('accepts a phone on 150 routes (150 values of one key)', () => {
    expect(() => smsSubscriptions(parseAlertsConfig(routesForOnePhone(150)))).not.toThrow();
  });

  it('refuses a phone on more than 150 routes with FilterPolicyLimitError naming the phone, the routes and the fix', () => {
    // Build the config without validation: the schema itself would refuse it (next test).
    const tooMany = {
      routes: Array.from({ length: 151 }, (_, i) => ({ name: `r${i}`, sms: ['+79161112233'], email: [] })),
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
    expect(message).toContain('"r150"');
    expect(message).toContain('151 value combinations');
    expect(message).toContain('SNS allows 150');
    expect(message).toMatch(/merge routes/);
  });

  it('makes the config schema fail on such a phone, at the routes field', () => {
    expect(() => parseAlertsConfig(routesForOnePhone(151))).toThrow(ConfigError);
    expect(() => parseAlertsConfig(routesForOnePhone(151))).toThrow(/routes: .*151 value combinations/);
  });

  it('no longer counts tables or codes: a route over 300 tables and 3 codes is one value', () => {
    const wide = parseAlertsConfig({
      sources: SOURCES,
      routes: [
        {
          name: 'wide',
          codes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
          tables: Array.from({ length: 300 }, (_, i) => `T${i}`),
          sms: ['+79161112233'],
        },
      ],
    });
    expect(policyComplexity(smsSubscriptions(wide)[0]!.filterPolicy)).toEqual({ keys: 1, combinations: 1 });
  });
});

describe('filter-policy complexity, counted the same by every SNS implementation', () => {
  /** AWS's documented rule for a policy: multiply the number of values of each key. */
  const documented = (policy: FilterPolicy) => Object.values(policy).reduce((p, v) => p * v.length, 1);
  type OrPolicy = Record<string, unknown[]> & { $or?: Record<string, unknown[]>[] };
  const branches = (policy: OrPolicy): Record<string, unknown[]>[] => {
    const { $or, ...rest } = policy;
    return $or ? $or.map((branch) => ({ ...rest, ...branch })) : [rest];
  };
  const product = (clause: Record<string, unknown[]>) => Object.values(clause).reduce((p, v) => p * v.length, 1);
  /** The project's old reading of `$or`: each branch's product, summed. */
  const sumOverBranches = (policy: OrPolicy) => branches(policy).reduce((sum, b) => sum + product(b), 0);
  /** A product reading of `$or` (moto multiplies across branches): each branch's product, multiplied. */
  const productOverBranches = (policy: OrPolicy) => branches(policy).reduce((p, b) => p * product(b), 1);

  // The example of the issue: a waiter's route over three codes and tables "1-10" and "VIP",
  // and a manager's route for bills; one phone on both.
  const example = parseAlertsConfig({
    sources: SOURCES,
    routes: [
      {
        name: 'waiter',
        codes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
        tables: ['1-10', 'VIP'],
        sms: ['+79161112233'],
      },
      { name: 'bills', codes: ['bill_request'], sms: ['+79161112233'] },
    ],
  });
  const [subscription] = smsSubscriptions(example);

  it('gives the phone one key and no $or', () => {
    expect(subscription!.filterPolicy).toEqual({ route: ['waiter', 'bills'] });
    expect(JSON.stringify(subscription!.filterPolicy)).not.toContain('$or');
    expect(Object.keys(subscription!.filterPolicy)).toEqual(['route']);
  });

  it('counts 1 key × 2 routes = 2 combinations under every reading of the limit', () => {
    const policy = subscription!.filterPolicy as unknown as OrPolicy;
    expect(policyComplexity(subscription!.filterPolicy)).toEqual({ keys: 1, combinations: 2 });
    expect(documented(subscription!.filterPolicy)).toBe(2);
    expect(sumOverBranches(policy)).toBe(2);
    expect(productOverBranches(policy)).toBe(2);
  });

  it('(before) the old $or policy of the same routes got a different count from each reading', () => {
    // What the phone got before: one branch per route and kind of table selector.
    const old: OrPolicy = {
      $or: [
        { code: ['waiter_call', 'waiter_call_cash', 'bill_request'], table: ['VIP'] },
        { code: ['waiter_call', 'waiter_call_cash', 'bill_request'], table_num: [{ numeric: ['>=', 1, '<=', 10] }] },
        { code: ['bill_request'] },
      ],
    };
    expect(sumOverBranches(old)).toBe(7);
    expect(productOverBranches(old)).toBe(9);
  });

  it('is checked by one function, for SMS phones and extra subscribers alike', () => {
    expect(checkFilterPolicy(routeFilterPolicy(['waiter']), 'x')).toEqual({ route: ['waiter'] });
    const names = Array.from({ length: 151 }, (_, i) => `r${i}`);
    expect(() => checkFilterPolicy(routeFilterPolicy(names), 'this subscriber gets')).toThrow(
      /^this subscriber gets an SNS filter policy with 151 value combinations/,
    );
  });
});

describe('who is paged: opening hours and escalation', () => {
  const config = parseAlertsConfig({
    sources: [{ id: 'pizza', url: 'https://203.0.113.10:8443' }],
    routes: [
      { name: 'hall', telegram: [-100123], sms: ['+79160000001'], escalate: [{ afterSeconds: 120, to: 'manager' }] },
      { name: 'night', sms: ['+79160000003'], always: true },
      { name: 'manager', sms: ['+79160000002'], escalationOnly: true },
    ],
  });
  const facts = { sourceId: 'pizza', code: 'waiter_call', tableName: '6' };
  const names = (routes: { name: string }[]) => routes.map((r) => r.name);

  it('the alert pages the matching routes, but not one that hears only escalations', () => {
    expect(names(pagingRoutes(config, facts, true))).toEqual(['hall', 'night']);
  });

  it('outside opening hours only the routes marked always', () => {
    expect(names(pagingRoutes(config, facts, false))).toEqual(['night']);
  });

  it('an escalation step pages its route, and is published with the step for SNS to route the SMS', () => {
    const step1 = pagingRoutes(config, facts, true, 1);
    expect(names(step1)).toEqual(['manager']);
    const attributes = snsAttributes(facts, config, step1, 1);
    expect(JSON.parse(attributes.route!.StringValue)).toEqual(['manager']);
    expect(attributes.escalation).toEqual({ DataType: 'Number', StringValue: '1' });
    expect(pagingRoutes(config, facts, true, 2)).toEqual([]);
  });
});
