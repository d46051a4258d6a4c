/**
 * The config schema as a reader meets it: defaults filled in, and one message per mistake that
 * names the field.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAlertsConfig } from '../../lambda/config/schema';

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
      polling: { intervalSeconds: 10, retentionSeconds: 300, reconcileSeconds: 30, deliverBacklog: false },
      delivery: { cooldownSeconds: 60, maxAttempts: 20, retryForSeconds: 600, recordTtlSeconds: 3_600 },
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
    [{ sources: [source], routes: [{ name: 'r' }] }, 'routes[0]: a route needs at least one e-mail or SMS recipient'],
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
