/**
 * Answer parsing on its own (pure): the envelope, lenient events, and hostile nesting that must
 * neither overflow the stack nor block the good events beside it.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, nestedDeeperThan, parseEventsAnswer } from '../../lambda/qrmenu/answer';
import { BadResponseError } from '../../lambda/qrmenu/errors';
import { deserializeEvent, serializeEvent } from '../../lambda/state/store';

const ok = (updates: string) => ({
  status: 200,
  contentType: 'application/json',
  body: Buffer.from(`{"result":true,"data":{"updates":${updates}}}`),
});
const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('hostile nesting', () => {
  it('drops an invoice nested 10,000 deep and keeps the event, storable', () => {
    const { events } = parseEventsAnswer(
      ok(`[{"hash":"0x1","code":"bill_request","invoice":${deep(10_000)}},{"hash":"0x2","code":"waiter_call"}]`),
    );
    expect(events.map((e) => e.hash)).toEqual(['0x1', '0x2']);
    expect(events[0]).toMatchObject({ invoice: null, placeholders: expect.arrayContaining(['invoice']) });
    expect(String(events[0]!.raw.invoice)).toMatch(/nested deeper than/);
    expect(deserializeEvent(serializeEvent(events[0]!)).hash).toBe('0x1');
  });

  it('keeps an ordinary nested invoice as sent', () => {
    const { events } = parseEventsAnswer(ok(`[{"hash":"0x3","invoice":${deep(MAX_NESTING - 2)}}]`));
    expect(events[0]!.invoice).not.toBeNull();
  });

  it('calls an answer nested 10,000 deep a bad response, not a network error', () => {
    const body = Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(() => parseEventsAnswer({ status: 200, contentType: 'application/json', body })).toThrow(BadResponseError);
  });

  it('measures depth without recursion', () => {
    const value = JSON.parse(deep(100_000)) as unknown;
    expect(nestedDeeperThan(value, 32)).toBe(true);
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 32)).toBe(false);
  });
});
