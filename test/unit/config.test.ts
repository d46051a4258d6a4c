/**
 * The config schema as a reader meets it: defaults filled in, and one message per mistake that
 * names the field.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAlertsConfig, recordTtlSeconds } from '../../lambda/config/schema';

const source = { id: 'pizzeria', url: 'https://203.0.113.10:8443' };

function problems(input: unknown): string[] {
  try {
    parseAlertsConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('the config schema', () => {
  it('fills in the documented defaults', () => {
    const config = parseAlertsConfig({ sources: [source] });
    expect(config).toMatchObject({
      name: 'default',
      locale: 'ru',
      polling: {
        intervalSeconds: 1.75,
        retentionSeconds: 300,
        reconcileSeconds: 30,
        deliverBacklog: false,
        sourcesPerShard: 25,
      },
      delivery: {
        cooldownSeconds: 60,
        maxAttempts: 20,
        retryForSeconds: 600,
        recordTtlSeconds: 3_600,
        sesPerSecond: 14,
        snsPerSecond: 20,
      },
    });
  });

  it.each([
    [{ sources: [] }, 'sources: list at least one QR-menu server'],
    [{ sources: [{ ...source, url: 'ftp://x' }] }, 'sources[0].url: must be an http:// or https:// URL'],
    [{ sources: [source, source] }, 'sources[1].id: source id "pizzeria" is used twice'],
    [
      { sources: [source], routes: [{ name: 'r', tables: ['1-x'], sms: ['+79161234567'] }] },
      'routes[0].tables[0]: "1-x" is not a table range (write it like "1-10")',
    ],
    [
      { sources: [source], routes: [{ name: 'r', tables: ['9-3'], sms: ['+79161234567'] }] },
      'routes[0].tables[0]: "9-3" is not a table range: 9 is greater than 3',
    ],
    [
      { sources: [source], routes: [{ name: 'r', sources: ['nope'], sms: ['+79161234567'] }] },
      'routes[0].sources[0]: no source has the id "nope"',
    ],
    [
      { sources: [source], routes: [{ name: 'r', sms: ['89161234567'] }] },
      'routes[0].sms[0]: must be a phone number in E.164 form, e.g. +79161234567',
    ],
    [
      { sources: [source], routes: [{ name: 'r' }] },
      'routes[0]: a route needs at least one e-mail, SMS or Telegram recipient',
    ],
    [
      { sources: [source], routes: [{ name: 'r', email: ['boss@pizza.example'] }] },
      'email: route "r" sends e-mail, so set email.from to a verified SES sender',
    ],
    [{ sources: [source], timeZone: 'Mars/Olympus' }, 'timeZone: is not an IANA time zone (e.g. "Europe/Moscow")'],
    [
      { sources: [source], polling: { intervalSeconds: 0 } },
      'polling.intervalSeconds: Too small: expected number to be >=1',
    ],
  ])('rejects %j with a message naming the field', (input, message) => {
    expect(problems(input)).toContain(message);
  });

  it('refuses a plain http:// source unless it says allowPlainHttp: true, and says what to change', () => {
    const plain = { id: 'lan', url: 'http://192.168.1.20:8080' };
    const [message] = problems({ sources: [plain] });
    expect(message).toMatch(/^sources\[0\]\.url: is plain http:\/\/, so the token would cross the network unencrypted/);
    expect(message).toMatch(/use https:\/\/ .*tls\.fingerprint256.*or set allowPlainHttp: true on this source/);
    const allowed = parseAlertsConfig({ sources: [{ ...plain, allowPlainHttp: true }] });
    expect(allowed.sources[0]).toMatchObject({ url: 'http://192.168.1.20:8080', allowPlainHttp: true });
    expect(parseAlertsConfig({ sources: [source] }).sources[0]!.allowPlainHttp).toBe(false);
    expect(problems({ sources: [{ ...source, allowPlainHttp: 'yes' }] })).toEqual([
      'sources[0].allowPlainHttp: Invalid input: expected boolean, received string',
    ]);
  });

  it('refuses reconcileSeconds + intervalSeconds at or above retentionSeconds, naming what to change', () => {
    const at = problems({
      sources: [source],
      polling: { retentionSeconds: 60, reconcileSeconds: 50, intervalSeconds: 10 },
      delivery: { recordTtlSeconds: 3_600 },
    });
    expect(at).toEqual([
      'polling.reconcileSeconds: polling.reconcileSeconds (50) + polling.intervalSeconds (10) must be less than ' +
        "polling.retentionSeconds (60), or an event could leave the server's queue between two looks: lower " +
        'reconcileSeconds or intervalSeconds, or set retentionSeconds to what the server really keeps',
    ]);
    expect(
      problems({ sources: [source], polling: { retentionSeconds: 60, reconcileSeconds: 49, intervalSeconds: 10 } }),
    ).toEqual([]);
  });

  it('documents that delivery gives up at maxAttempts or retryForSeconds, within their bounds', () => {
    expect(problems({ sources: [source], delivery: { retryForSeconds: 59 } })).toEqual([
      'delivery.retryForSeconds: Too small: expected number to be >=60',
    ]);
    expect(problems({ sources: [source], delivery: { retryForSeconds: 3_601 } })).toContain(
      'delivery.retryForSeconds: Too big: expected number to be <=3600',
    );
    expect(problems({ sources: [source], delivery: { maxAttempts: 51 } })).toEqual([
      'delivery.maxAttempts: Too big: expected number to be <=50',
    ]);
    expect(parseAlertsConfig({ sources: [source], delivery: { maxAttempts: 50 } }).delivery.maxAttempts).toBe(50);
  });

  it('keeps a record for the whole retry schedule: recordTtlSeconds ≥ retryFor + 2 × retention + claim timeout', () => {
    // 600 + 2 × 300 + 30 = 1 230 s
    expect(problems({ sources: [source], delivery: { recordTtlSeconds: 1_230 } })).toEqual([]);
    expect(problems({ sources: [source], delivery: { recordTtlSeconds: 1_229 } })).toEqual([
      'delivery.recordTtlSeconds: must be at least delivery.retryForSeconds + 2 × polling.retentionSeconds + ' +
        'delivery.claimTimeoutSeconds (600 + 2 × 300 + 30 = 1230 s), or a record could expire while its event is ' +
        'still retried and be sent again: raise recordTtlSeconds to 1230 or lower retryForSeconds',
    ]);
    expect(
      problems({ sources: [source], delivery: { retryForSeconds: 3_600, claimTimeoutSeconds: 60 } }).join('\n'),
    ).toMatch(/= 4260 s\).*raise recordTtlSeconds to 4260/);
  });

  it('keeps the older rule: recordTtlSeconds at least twice the retention, with its own message', () => {
    expect(
      problems({ sources: [source], polling: { retentionSeconds: 1_800 }, delivery: { recordTtlSeconds: 3_000 } }),
    ).toEqual([
      'delivery.recordTtlSeconds: must be at least twice polling.retentionSeconds, or a forgotten event could be sent again',
    ]);
  });

  it('refuses routes whose SMS filter policy SNS would reject, with advice', () => {
    // A phone's policy holds one value per route (its names), so only more than 150 routes for one phone is too many.
    const routes = Array.from({ length: 151 }, (_, i) => ({ name: `r${i}`, tables: [`T${i}`], sms: ['+79161234567'] }));
    const found = problems({ sources: [source], routes });
    expect(found.join('\n')).toMatch(/routes: .*151 value combinations.*SNS allows 150.*merge routes/);
    const tables = Array.from({ length: 40 }, (_, i) => `T${i}`);
    const codes = ['waiter_call', 'bill_request', 'order_paid', 'new_order'];
    expect(problems({ sources: [source], routes: [{ name: 'big', codes, tables, sms: ['+79161234567'] }] })).toEqual(
      [],
    );
  });
});

describe('the staff loop in the config', () => {
  const source = { id: 'pizzeria', url: 'https://203.0.113.10:8443' };
  const hall = { name: 'hall', telegram: [-1001234567890], escalate: [{ afterSeconds: 120, to: 'manager' }] };
  const manager = { name: 'manager', sms: ['+79160000002'], always: true };

  it('takes Telegram chats, escalation to another route, opening hours and the daily report', () => {
    const config = parseAlertsConfig({
      sources: [{ ...source, openingHours: { 'mon-fri': '10:00-23:00', 'sat-sun': ['12:00-15:00', '18:00-02:00'] } }],
      routes: [hall, manager],
      email: { from: 'alerts@x.example' },
      report: { to: ['owner@x.example'] },
    });
    expect(config.routes[0]).toMatchObject({
      telegram: [-1001234567890],
      escalate: [{ afterSeconds: 120, to: 'manager' }],
    });
    expect(config.report).toEqual({ to: ['owner@x.example'], at: '09:00', keepDays: 31 });
  });

  it.each([
    [
      { routes: [{ name: 'hall', sms: ['+79160000001'], escalate: [{ afterSeconds: 120, to: 'manager' }] }, manager] },
      /routes\[0\]\.escalate: escalates, but nobody can acknowledge its calls/,
    ],
    [
      { routes: [{ ...hall, escalate: [{ afterSeconds: 120, to: 'boss' }] }] },
      /routes\[0\]\.escalate\[0\]\.to: no route is named "boss"/,
    ],
    [{ routes: [{ ...hall, escalate: [{ afterSeconds: 120, to: 'hall' }] }] }, /escalates to itself/],
    [
      {
        routes: [
          {
            ...hall,
            escalate: [
              { afterSeconds: 300, to: 'manager' },
              { afterSeconds: 120, to: 'manager' },
            ],
          },
          manager,
        ],
      },
      /escalate\[1\]\.afterSeconds: must be later than the step before it \(300 s\)/,
    ],
    [
      { routes: [manager], sources: [{ ...source, openingHours: { mo: '10-23' } }] },
      /"mo" is not a day or a range of days/,
    ],
    [
      { routes: [manager], report: { to: ['owner@x.example'] } },
      /the daily report is sent by e-mail, so set email.from/,
    ],
  ])('refuses %j with a message that says what to change', (input, message) => {
    expect(() => parseAlertsConfig({ sources: [source], ...input })).toThrow(message);
  });
});

describe('how long records are kept', () => {
  it('the delivery needs an hour; with the daily report, its keepDays', () => {
    const source = { id: 'pizzeria', url: 'https://203.0.113.10:8443' };
    const plain = parseAlertsConfig({ sources: [source] });
    expect(recordTtlSeconds(plain)).toBe(3_600);
    const reported = parseAlertsConfig({
      sources: [source],
      email: { from: 'a@x.example' },
      report: { to: ['m@x.example'] },
    });
    expect(recordTtlSeconds(reported)).toBe(31 * 86_400);
  });
});
