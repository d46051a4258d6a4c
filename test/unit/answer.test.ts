/**
 * Answer parsing on its own (pure): the envelope, lenient events, and hostile nesting that must
 * neither overflow the stack nor block the good events beside it.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, nestedDeeperThan, parseEventsAnswer, redactDeep } from '../../lambda/qrmenu/answer';
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

describe('the token echoed in an event', () => {
  const TOKEN = 'tok-9c1e55aa-secret';
  const answerWith = (updates: unknown[]) => ok(JSON.stringify(updates));

  it('is redacted from the table name, the code and the raw event', () => {
    const { events } = parseEventsAnswer(
      answerWith([{ hash: '0xa1', code: `call ${TOKEN}`, table: 7, table_repr: { name: `VIP ${TOKEN}` } }]),
      [TOKEN],
    );
    expect(events[0]).toMatchObject({ code: 'call ***', tableName: 'VIP ***' });
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });

  it('is redacted from the invoice, the order and unknown nested fields and keys, at any depth', () => {
    const { events } = parseEventsAnswer(
      answerWith([
        {
          hash: '0xa2',
          code: 'bill_request',
          table: TOKEN,
          invoice: { comment: `for ${TOKEN}`, dishes: [{ name: TOKEN, price: 1 }] },
          order: { [`k-${TOKEN}`]: [[[`x${TOKEN}y${TOKEN}`]]] },
          unknown: { a: { b: { c: TOKEN } } },
        },
      ]),
      [TOKEN],
    );
    const event = events[0]!;
    expect(JSON.stringify(event)).not.toContain(TOKEN);
    expect(event.tableId).toBe('***');
    expect(event.invoice).toEqual({ comment: 'for ***', dishes: [{ name: '***', price: 1 }] });
    expect(event.order).toEqual({ 'k-***': [[['x***y***']]] });
    expect(event.raw.unknown).toEqual({ a: { b: { c: '***' } } });
  });

  it('is redacted when the server spells it with JSON escapes', () => {
    const escaped = [...TOKEN].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const { events } = parseEventsAnswer(ok(`[{"hash":"0xa3","table_repr":{"name":"${escaped}"}}]`), [TOKEN]);
    expect(events[0]!.tableName).toBe('***');
  });

  it('is redacted from a hash and from the reason an event was skipped', () => {
    const { events, skipped } = parseEventsAnswer(
      answerWith([{ hash: `0x${TOKEN}` }, { hash: ` ${TOKEN} ${'x'.repeat(200)}` }]),
      [TOKEN],
    );
    expect(JSON.stringify({ events, skipped })).not.toContain(TOKEN);
    expect(JSON.stringify({ events, skipped })).not.toContain(TOKEN.slice(0, 12));
    expect(events[0]!.hash).toBe('0x***');
  });

  it('is redacted from an event nested 100,000 deep without overflowing the stack', () => {
    const deepWithToken = `${'{"a":'.repeat(100_000)}"${TOKEN}"${'}'.repeat(100_000)}`;
    const value = redactDeep(JSON.parse(deepWithToken), [TOKEN]);
    let node = value as { a?: unknown };
    for (let i = 0; i < 100_000; i++) node = node.a as { a?: unknown };
    expect(node).toBe('***');
    const { events } = parseEventsAnswer(ok(`[{"hash":"0xa4","invoice":${deepWithToken}}]`), [TOKEN]);
    expect(events[0]!.invoice).toBeNull();
  });

  it('keeps a __proto__ key a plain key and leaves events alone when there is no secret', () => {
    const copy = redactDeep(JSON.parse(`{"__proto__":{"polluted":"${TOKEN}"}}`), [TOKEN]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const item = { hash: '0x1' };
    expect(redactDeep(item, [])).toBe(item);
  });
});

describe('result:false read as a rejected token', () => {
  const falseWith = (message: string) => ({
    status: 200,
    contentType: 'application/json',
    body: Buffer.from(JSON.stringify({ result: false, message })),
  });
  const kindOf = (message: string, secrets: string[] = []): string => {
    try {
      parseEventsAnswer(falseWith(message), secrets);
    } catch (error) {
      return (error as { kind: string }).kind;
    }
    return 'none';
  };

  it.each([
    'Invalid token',
    'Token required',
    'token tok-1234 is not valid here',
    'Unauthorized',
    'not authorized',
    'Authentication failed',
    'Access denied',
    'Forbidden',
    'Invalid API key',
    'wrong access key',
    'secret key mismatch',
    'missing token',
    'Неверный ключ доступа',
    'Неверный ключ',
    'Неверный секретный ключ',
    'Секретный ключ не подходит',
    'Ключ доступа не указан',
    'ключ API отсутствует',
    'Ошибка авторизации',
    'Недействительный токен',
    'Токен не указан',
    'Отсутствует токен',
    'Доступ запрещён',
    'Отказано в доступе',
  ])('"%s" is an auth error', (message) => {
    expect(kindOf(message, ['tok-1234'])).toBe('auth');
  });

  it.each([
    'ключ события не найден',
    'ключ события отсутствует',
    'ключ заказа неверен',
    'Event key not found',
    'Unexpected token < in JSON at position 0',
    'Неожиданный токен в строке 1',
    'доступ к базе данных временно ограничен',
    'изменение заказа запрещено',
    'queue locked',
    'permission to edit the menu is missing for the waiter role',
    'secret menu is not available',
    'Duplicate key value violates unique constraint',
  ])('"%s" is a bad response, not a rejected token', (message) => {
    expect(kindOf(message)).toBe('bad_response');
  });

  it('does not take a word of the token itself for a word about the token', () => {
    const token = 'Unauthorized-but-really-the-token';
    expect(kindOf(`queue ${token} locked`, [token])).toBe('bad_response');
  });
});
