/**
 * Specification of what staff read: the sentences per event code in both locales, the SMS that
 * always fits one segment (checked over many generated inputs), the e-mail with escaped HTML and
 * leniently read bills/orders, and the SNS message that always fits SNS's size limit.
 * Pure functions only: no emulator, no clock (times are fixed epoch values).
 */
import { describe, expect, it } from 'vitest';
import { extractInvoice, extractOrder } from '../../lambda/core/details';
import { renderEmail } from '../../lambda/core/email';
import { renderSnsMessage, renderSnsSubject, SNS_MAX_MESSAGE_BYTES } from '../../lambda/core/sns-message';
import { renderSms } from '../../lambda/core/sms-text';
import { eventSentence, formatTime, type AlertInput, type Locale } from '../../lambda/core/texts';
import { clip, graphemes, isGsm7, oneLine, smsSegments, smsSize } from '../../lambda/core/sms';
import type { QrEvent } from '../../lambda/domain/event';
import { seededRandom } from '../support/random';

function qrEvent(overrides: Partial<QrEvent> = {}): QrEvent {
  return {
    hash: '0xd8833dd3',
    code: 'waiter_call',
    tableId: 1000028,
    tableName: '6',
    invoice: null,
    order: null,
    raw: {
      hash: '0xd8833dd3',
      code: 'waiter_call',
      table: 1000028,
      table_repr: { id: 1000028, name: '6', max_guests: 50 },
    },
    placeholders: [],
    ...overrides,
  };
}

/** 2026-03-12 11:05:09 UTC = 14:05:09 in Moscow. */
const SEEN_AT = Date.UTC(2026, 2, 12, 11, 5, 9);

function alert(event: Partial<QrEvent> = {}, sourceName = 'Пиццерия на Ленина'): AlertInput {
  return { sourceId: 'pizza', sourceName, event: qrEvent(event), firstSeenAt: SEEN_AT };
}

const LOCALES: readonly Locale[] = ['ru', 'en'];

const SENTENCES: Record<Locale, Record<string, string>> = {
  ru: {
    waiter_call: 'Стол 6: вызов официанта',
    bill_request: 'Стол 6: просят счёт',
    waiter_call_cash: 'Стол 6: вызов официанта, оплата наличными',
    new_order: 'Стол 6: новый заказ',
    order_paid: 'Стол 6: заказ оплачен',
    table_cleaning: 'Стол 6: событие «table_cleaning»',
  },
  en: {
    waiter_call: 'Table 6: waiter called',
    bill_request: 'Table 6: bill requested',
    waiter_call_cash: 'Table 6: waiter called, cash payment',
    new_order: 'Table 6: new order',
    order_paid: 'Table 6: order paid',
    table_cleaning: 'Table 6: event "table_cleaning"',
  },
};
const CODES = Object.keys(SENTENCES.ru);

describe('event sentences', () => {
  for (const locale of LOCALES) {
    for (const code of CODES) {
      it(`says "${SENTENCES[locale][code]}" for ${code} in ${locale}`, () => {
        expect(eventSentence(code, '6', locale)).toBe(SENTENCES[locale][code]);
        expect(renderSms({ event: qrEvent({ code }) }, { locale })).toBe(SENTENCES[locale][code]);
      });
    }
  }

  it('uses Russian when no locale is given', () => {
    expect(eventSentence('waiter_call', '6')).toBe('Стол 6: вызов официанта');
  });

  it('names a table without a usable name "?"', () => {
    expect(eventSentence('waiter_call', '?', 'ru')).toBe('Стол ?: вызов официанта');
    expect(eventSentence('waiter_call', ' \n\t', 'en')).toBe('Table ?: waiter called');
    expect(renderSms({ event: qrEvent({ tableName: '' }) }, { locale: 'ru' })).toBe('Стол ?: вызов официанта');
  });

  it('names an unknown code, even an empty one, instead of dropping the event', () => {
    expect(eventSentence('', '6', 'en')).toBe('Table 6: event "unknown"');
    expect(eventSentence('__proto__', '6', 'en')).toBe('Table 6: event "__proto__"');
    expect(eventSentence('toString', '6', 'ru')).toBe('Стол 6: событие «toString»');
  });

  it('makes server text one line (no line breaks, tabs or bidi overrides)', () => {
    expect(eventSentence('waiter_call', 'VIP\r\n 2\u202E', 'en')).toBe('Table VIP 2: waiter called');
  });
});

describe('SMS segment counting', () => {
  it('counts pure GSM-7 text in septets, up to 160 in one segment', () => {
    expect(smsSize('Table 6: waiter called')).toEqual({ encoding: 'GSM-7', units: 22, segments: 1 });
    expect(smsSegments('a'.repeat(160))).toBe(1);
    expect(smsSegments('a'.repeat(161))).toBe(2);
  });

  it('counts GSM-7 extension characters as two septets', () => {
    for (const ch of ['{', '}', '[', ']', '~', '^', '|', '€', '\\']) {
      expect(smsSize(ch)).toEqual({ encoding: 'GSM-7', units: 2, segments: 1 });
    }
    expect(smsSegments(`${'a'.repeat(158)}€`)).toBe(1);
    expect(smsSegments(`${'a'.repeat(159)}€`)).toBe(2);
  });

  it('switches the whole text to UCS-2 (70 per segment) for one character outside GSM-7', () => {
    expect(isGsm7('Café à Zürich')).toBe(true);
    expect(smsSize(`${'a'.repeat(69)}ё`)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments(`${'a'.repeat(70)}ё`)).toBe(2);
    expect(smsSize('«»').encoding).toBe('UCS-2');
  });

  it('counts an emoji as two UCS-2 units', () => {
    expect(smsSize('🍕')).toEqual({ encoding: 'UCS-2', units: 2, segments: 1 });
  });

  it('estimates longer texts with 153 (GSM-7) and 67 (UCS-2) per segment', () => {
    expect(smsSegments('a'.repeat(306))).toBe(2);
    expect(smsSegments('a'.repeat(307))).toBe(3);
    expect(smsSegments('ж'.repeat(134))).toBe(2);
    expect(smsSegments('ж'.repeat(135))).toBe(3);
  });
});

describe('renderSms', () => {
  it('adds the restaurant name when it fits', () => {
    expect(renderSms({ sourceName: 'Пиццерия на Ленина', event: qrEvent() }, { locale: 'ru' })).toBe(
      'Стол 6: вызов официанта (Пиццерия на Ленина)',
    );
    expect(renderSms({ sourceName: 'Pizza Palace', event: qrEvent() }, { locale: 'en' })).toBe(
      'Table 6: waiter called (Pizza Palace)',
    );
  });

  it('shortens a long restaurant name with an ellipsis before leaving it out', () => {
    const sms = renderSms(
      { sourceName: 'Ресторан «Очень длинное название на проспекте»', event: qrEvent({ code: 'waiter_call_cash' }) },
      { locale: 'ru' },
    );
    expect(sms).toMatch(/^Стол 6: вызов официанта, оплата наличными \(Ресторан .*…\)$/);
    expect(smsSize(sms).units).toBeLessThanOrEqual(70);
  });

  it('leaves the restaurant name out when too little of it would remain', () => {
    const sms = renderSms(
      { sourceName: 'Ж'.repeat(60), event: qrEvent({ code: 'waiter_call_cash', tableName: 'Веранда-12' }) },
      { locale: 'ru' },
    );
    expect(sms).toMatch(/^Стол Веранда-12: вызов официанта, оплата наличными \(Ж{5,}…\)$/);
    expect(smsSize(sms).units).toBe(70);
    const noRoom = renderSms(
      {
        sourceName: 'Ж'.repeat(60),
        event: qrEvent({ code: 'waiter_call_cash', tableName: 'Веранда у окна, стол 12' }),
      },
      { locale: 'ru' },
    );
    expect(noRoom).toBe('Стол Веранда у окна, стол 12: вызов официанта, оплата наличными');
  });

  it('keeps English text in GSM-7 (160) by shortening with "..." rather than "…"', () => {
    const sms = renderSms(
      { sourceName: 'The Very Long Name Of A Restaurant '.repeat(6), event: qrEvent() },
      { locale: 'en' },
    );
    expect(sms.startsWith('Table 6: waiter called (The Very Long Name')).toBe(true);
    expect(sms.endsWith('...)')).toBe(true);
    expect(smsSize(sms)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(sms.length).toBeGreaterThan(140);
  });

  it('drops a Cyrillic restaurant name from English text when keeping it would force UCS-2 and overflow', () => {
    const sms = renderSms(
      {
        sourceName: 'Пиццерия на Ленина',
        event: qrEvent({ code: 'waiter_call_cash', tableName: 'Terrace by the fountain, window' }),
      },
      { locale: 'en' },
    );
    expect(sms).toBe('Table Terrace by the fountain, window: waiter called, cash payment');
    expect(smsSize(sms).encoding).toBe('GSM-7');
  });

  it('shortens a long unknown code before it touches the table name', () => {
    const sms = renderSms({ event: qrEvent({ code: `custom_${'x'.repeat(120)}`, tableName: '12' }) }, { locale: 'ru' });
    expect(sms.startsWith('Стол 12: событие «custom_xxx')).toBe(true);
    expect(sms.endsWith('…»')).toBe(true);
    expect(smsSegments(sms)).toBe(1);
  });

  it('shortens the table name itself only as the last resort, keeping its start', () => {
    const table60 = 'Летняя веранда у фонтана с видом на реку, стол номер двенадцать'.slice(0, 60);
    expect(table60).toHaveLength(60);
    const sms = renderSms({ sourceName: 'Пиццерия', event: qrEvent({ tableName: table60 }) }, { locale: 'ru' });
    expect(sms.startsWith('Стол Летняя веранда у фонтана')).toBe(true);
    expect(sms.endsWith('…: вызов официанта')).toBe(true);
    expect(smsSize(sms).units).toBeLessThanOrEqual(70);
  });

  const TABLES = {
    short: '6',
    cyrillic60: 'Ж'.repeat(60),
    cyrillic200: 'Стол-у-окна-'.repeat(17).slice(0, 200),
    latin200: 'Table-by-the-window-'.repeat(10),
    extension200: '{Bar}[1]'.repeat(25),
    emoji: '🍕'.repeat(50),
    family: '👨‍👩‍👧‍👦'.repeat(20),
    zalgo: `Z${'\u0301'.repeat(500)}`,
  };
  const SOURCES = ['Пиццерия на Ленина', 'Pizza Palace', '', 'Ресторан '.repeat(7), 'Café {Main} €'.repeat(5)];
  for (const locale of LOCALES) {
    for (const code of [...CODES, 'x'.repeat(300)]) {
      it(`fits one segment for ${code.slice(0, 20)} in ${locale} with every odd table and restaurant name`, () => {
        for (const [kind, tableName] of Object.entries(TABLES)) {
          for (const sourceName of SOURCES) {
            const sms = renderSms({ sourceName, event: qrEvent({ code, tableName }) }, { locale });
            expect(smsSegments(sms), `${kind} / ${sourceName}: ${sms}`).toBe(1);
            expect(sms.startsWith(locale === 'ru' ? 'Стол ' : 'Table ')).toBe(true);
            expect(sms, kind).toContain(graphemes(tableName)[0]!.slice(0, 1));
          }
        }
      });
    }
  }

  it('fits one segment for 3000 generated events, always naming the table', () => {
    const next = seededRandom(20_260_312);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const alphabets = [
      'abcXYZ0123 -',
      'абвгдЖЗИЙ ',
      '{}[]~^|€\\',
      '🍕🙂👍🏽',
      'é@£$_',
      '\n\t\u00A0\u2028',
      '«»“”…—',
      '漢字かな',
    ];
    const text = (max: number): string => {
      let out = '';
      const length = Math.floor(next() * max);
      for (let i = 0; i < length; i += 1) out += pick(Array.from(pick(alphabets)));
      return out;
    };
    for (let i = 0; i < 3_000; i += 1) {
      const locale = pick(LOCALES);
      const tableName = next() < 0.2 ? String(Math.floor(next() * 100)) : text(pick([5, 30, 80, 250]));
      const code = next() < 0.5 ? pick(CODES) : text(pick([10, 40, 200]));
      const sourceName = text(pick([0, 20, 60]));
      const sms = renderSms({ sourceName, event: qrEvent({ code, tableName }) }, { locale });
      const context = JSON.stringify({ locale, tableName, code, sourceName, sms });
      expect(smsSegments(sms), context).toBe(1);
      const table = oneLine(tableName) || '?';
      expect(sms.startsWith(`${locale === 'ru' ? 'Стол' : 'Table'} ${graphemes(table)[0]}`), context).toBe(true);
    }
  });
});

describe('renderEmail', () => {
  it('names the table, the event and the restaurant in the subject', () => {
    expect(renderEmail(alert(), { locale: 'ru' }).subject).toBe('Стол 6: вызов официанта — Пиццерия на Ленина');
    expect(
      renderEmail(alert({ code: 'bill_request', tableName: 'VIP' }, 'Pizza Palace'), { locale: 'en' }).subject,
    ).toBe('Table VIP: bill requested — Pizza Palace');
  });

  for (const locale of LOCALES) {
    for (const code of CODES) {
      it(`renders ${code} in ${locale} with the restaurant, table, event and time`, () => {
        const email = renderEmail(alert({ code }), { locale, timeZone: 'Europe/Moscow' });
        expect(email.subject.startsWith(SENTENCES[locale][code]!)).toBe(true);
        for (const body of [email.text, email.html]) {
          expect(body).toContain('Пиццерия на Ленина');
          expect(body).toContain('14:05:09');
          expect(body).toContain(locale === 'ru' ? 'Получено' : 'Received');
          expect(body).toContain(code);
        }
      });
    }
  }

  it('prints the first-seen time in the configured time zone, locale-aware', () => {
    expect(formatTime(SEEN_AT, { locale: 'ru', timeZone: 'Europe/Moscow' })).toMatch(
      /^12 марта 2026 г\.(,| в) 14:05:09/,
    );
    expect(formatTime(SEEN_AT, { locale: 'en', timeZone: 'Asia/Tokyo' })).toMatch(/^12 March 2026(,| at) 20:05:09/);
    expect(renderEmail(alert(), { locale: 'en', timeZone: 'America/New_York' }).text).toContain('07:05:09');
  });

  it('falls back to UTC, and says so, when the time zone is unknown; prints "?" for an invalid time', () => {
    expect(formatTime(SEEN_AT, { locale: 'en', timeZone: 'Mars/Olympus' })).toMatch(
      /11:05:09 UTC \(time zone "Mars\/Olympus" unknown\)$/,
    );
    expect(formatTime(Number.NaN, { locale: 'en' })).toBe('?');
    expect(formatTime(1e20, { locale: 'en' })).toBe('?');
  });

  it('keeps an HTML-looking table name as text in the HTML body', () => {
    const email = renderEmail(alert({ tableName: '<img src=x onerror=alert(1)>' }), { locale: 'ru' });
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.text).toContain('Стол: <img src=x onerror=alert(1)>');
    expect(email.subject).toBe('Стол <img src=x onerror=alert(1)>: вызов официанта — Пиццерия на Ленина');
  });

  it('escapes every string from the server and the config in the HTML body', () => {
    const email = renderEmail(
      {
        sourceId: 'pizza',
        sourceName: 'Tom & Jerry\'s "<b>Bar</b>"',
        firstSeenAt: SEEN_AT,
        event: qrEvent({
          hash: '<script>alert("hash")</script>',
          code: '"><script>alert(1)</script>',
          tableName: '<i>6</i>',
          invoice: {
            id: '<u>1</u>',
            sum_to_pay: '<s>100</s>',
            currency: '<em>',
            dishes: [{ name: '<iframe src=//x>', quantity: '<q>', price: '<p>' }],
          },
          order: { id: 5, status: '<marquee>', items: [{ title: '<svg onload=alert(1)>' }] },
          placeholders: ['<table_repr>'],
        }),
      },
      { locale: 'en' },
    );
    const tags = email.html.match(/<\/?([a-zA-Z0-9]+)/g)!.map((t) => t.replace(/[</]/g, '').toLowerCase());
    expect(new Set(tags)).toEqual(
      new Set(['html', 'head', 'meta', 'title', 'body', 'div', 'h1', 'table', 'tr', 'td', 'p', 'ul', 'li']),
    );
    expect(email.html).toContain('Tom &amp; Jerry&#39;s &quot;&lt;b&gt;Bar&lt;/b&gt;&quot;');
    expect(email.html).toContain('&lt;svg onload=alert(1)&gt;');
    expect(email.html).toContain('&lt;iframe src=//x&gt;');
  });

  it('lists the bill: id, amount with currency, and the dishes', () => {
    const email = renderEmail(
      alert({
        code: 'bill_request',
        invoice: {
          id: 77,
          table: 1000028,
          sum_to_pay: 1500.5,
          currency: 'RUB',
          dishes: [
            { name: 'Пицца Маргарита', quantity: 2, price: 500 },
            { name: 'Чай', quantity: 1, price: 500.5 },
          ],
        },
      }),
      { locale: 'ru' },
    );
    // Intl separates thousands with a no-break space in Russian.
    const text = email.text.replace(/[\u00A0\u202F]/g, ' ');
    expect(text).toContain('Счёт № 77, к оплате: 1 500,50 ₽');
    expect(text).toContain('  • Пицца Маргарита × 2 — 500,00 ₽');
    expect(email.html.replace(/[\u00A0\u202F]/g, ' ')).toContain('Чай × 1 — 500,50 ₽');
  });

  it('lists the order: id, status, total and positions', () => {
    const email = renderEmail(
      alert(
        {
          code: 'new_order',
          order: { id: 'o-9', status: 'cooking', positions: [{ title: 'Soup', count: 3, sum: 900 }], total: '900' },
        },
        'Pizza',
      ),
      { locale: 'en' },
    );
    expect(email.text).toContain('Order no. o-9, status: cooking, total: 900');
    expect(email.text).toContain('  • Soup × 3 — 900');
  });

  it('says so when a bill arrives in a shape it cannot read, instead of hiding it', () => {
    const email = renderEmail(alert({ invoice: { foo: 'bar' } }), { locale: 'en' });
    expect(email.text).toContain('Bill: sent in an unfamiliar format');
  });

  it('names the fields the server left out', () => {
    const email = renderEmail(alert({ tableName: '?', placeholders: ['table_repr.name'] }), { locale: 'ru' });
    expect(email.text).toContain('Сервер не прислал: table_repr.name');
  });
});

describe('reading bills and orders', () => {
  it.each([
    ['sum_to_pay', { sum_to_pay: 10 }],
    ['to_pay', { to_pay: 10 }],
    ['amount', { amount: 10 }],
    ['total', { total: 10 }],
    ['sum', { sum: '10' }],
  ])('reads the amount to pay from %s', (_key, invoice) => {
    expect(extractInvoice(invoice)).toMatchObject({ recognised: true, amount: 10 });
  });

  it.each(['dishes', 'items', 'positions'])(
    'reads the lines from %s with name/title, quantity/qty/count and price/sum',
    (key) => {
      const invoice = {
        [key]: [
          { name: 'A', quantity: 1, price: 5 },
          { title: 'B', qty: '2', sum: '7.5' },
          { name: 'C', count: 3 },
          { dish: { name: 'D' } },
        ],
      };
      expect(extractInvoice(invoice)?.items).toEqual([
        { name: 'A', quantity: 1, price: 5 },
        { name: 'B', quantity: 2, price: 7.5 },
        { name: 'C', quantity: 3 },
        { name: 'D' },
      ]);
    },
  );

  it('keeps an amount that is not a plain number as text', () => {
    expect(extractOrder({ total: '1 500,00 руб.' })).toMatchObject({ amount: '1 500,00 руб.' });
  });

  it('shows at most 30 lines and counts the rest', () => {
    const details = extractInvoice({ items: Array.from({ length: 45 }, (_, i) => ({ name: `dish ${i}` })) });
    expect(details?.items).toHaveLength(30);
    expect(details?.moreItems).toBe(15);
  });

  it('returns null for no bill and "not recognised" for shapes it cannot read', () => {
    expect(extractInvoice(null)).toBeNull();
    expect(extractInvoice(undefined)).toBeNull();
    for (const garbage of [[], [1, 2], 'bill', 42, true, {}, { items: 'soup' }, { total: {} }]) {
      expect(extractInvoice(garbage), JSON.stringify(garbage)).toMatchObject({ recognised: false });
    }
  });

  it('never reads inherited properties', () => {
    const parsed = JSON.parse('{"__proto__": {"id": "evil", "total": 5}}') as unknown;
    expect(extractInvoice(parsed)).toMatchObject({ recognised: false });
    expect(extractInvoice(Object.create({ id: 1, total: 2 }))).toMatchObject({ recognised: false });
  });

  const deep = (levels: number): Record<string, unknown> => {
    let value: Record<string, unknown> = { name: 'bottom' };
    for (let i = 0; i < levels; i += 1)
      value = i % 3 === 0 ? { items: [value] } : i % 3 === 1 ? { dish: value } : { total: { sum: value } };
    return value;
  };
  const throwing = Object.defineProperty({}, 'items', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const cyclic: Record<string, unknown> = { id: 1 };
  cyclic.self = cyclic;
  cyclic.items = [cyclic];
  const GARBAGE: Record<string, unknown> = {
    array: [{ name: 'x' }],
    string: 'счёт',
    number: 12,
    nullItems: { items: null, total: null, id: null },
    nullLines: { dishes: [null, undefined, 1, 'soup', [], { name: null }, { name: {} }, { title: ['x'] }] },
    nanAmounts: { total: Number.NaN, sum: Infinity, items: [{ name: 'x', price: Number.NaN, quantity: -Infinity }] },
    deep: deep(2_000),
    prototypeless: Object.assign(Object.create(null) as object, { id: 3, items: [{ name: 'x' }] }),
    throwingGetter: throwing,
    cyclic,
    hugeStrings: {
      id: 'i'.repeat(100_000),
      total: '9'.repeat(100_000),
      items: [{ name: 'n'.repeat(100_000), price: '1'.repeat(500) }],
    },
    manyItems: { items: Array.from({ length: 50_000 }, (_, i) => ({ name: `d${i}`, price: i })) },
  };

  for (const [kind, value] of Object.entries(GARBAGE)) {
    it(`never throws on a ${kind} bill or order, in the e-mail or the SNS message`, () => {
      for (const locale of LOCALES) {
        const input = alert({
          invoice: value as QrEvent['invoice'],
          order: value as QrEvent['order'],
          raw: { invoice: value },
        });
        const email = renderEmail(input, { locale });
        expect(email.text.length).toBeLessThan(20_000);
        const message = renderSnsMessage(input, { locale });
        expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
      }
    });
  }
});

describe('renderSnsMessage', () => {
  it('carries the full event as default, the SMS text as sms and the plain e-mail as email', () => {
    const input = alert({ code: 'bill_request', invoice: { id: 1, sum: 5 } });
    const message = JSON.parse(renderSnsMessage(input, { locale: 'ru' })) as Record<string, string>;
    expect(Object.keys(message).sort()).toEqual(['default', 'email', 'sms']);
    expect(message.sms).toBe(renderSms(input, { locale: 'ru' }));
    expect(message.email).toContain('Стол 6: просят счёт — Пиццерия на Ленина');
    expect(JSON.parse(message.default!)).toEqual({
      type: 'qrmenu-alerts.event',
      version: 1,
      source: 'pizza',
      sourceName: 'Пиццерия на Ленина',
      hash: '0xd8833dd3',
      code: 'bill_request',
      text: 'Стол 6: просят счёт',
      table: { id: 1000028, name: '6' },
      firstSeenAt: '2026-03-12T11:05:09.000Z',
      invoice: { id: 1, sum: 5 },
      order: null,
      raw: input.event.raw,
    });
  });

  const envelope = (message: string): Record<string, unknown> =>
    JSON.parse((JSON.parse(message) as { default: string }).default) as Record<string, unknown>;

  it('leaves out raw first when the message would exceed the limit, and says so', () => {
    const input = alert({ invoice: { id: 1, note: 'n'.repeat(1_000) }, raw: { blob: 'x'.repeat(300_000) } });
    const message = renderSnsMessage(input);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const e = envelope(message);
    expect(e.raw).toBeUndefined();
    expect(e.invoice).toEqual({ id: 1, note: 'n'.repeat(1_000) });
    expect(e.omitted).toEqual(['raw']);
    expect(e.omittedReason).toContain('larger than SNS accepts');
  });

  it('then leaves out the invoice and order too', () => {
    const input = alert({ invoice: { blob: 'я'.repeat(100_000) }, order: { blob: 'я'.repeat(100_000) }, raw: {} });
    const e = envelope(renderSnsMessage(input));
    expect(e.omitted).toEqual(['raw', 'invoice', 'order']);
    expect(e.invoice).toBeUndefined();
    expect(e.table).toEqual({ id: 1000028, name: '6' });
  });

  it('respects a smaller limit given by the adapter (the attributes count too)', () => {
    const input = alert({ raw: { blob: 'x'.repeat(5_000) } });
    const message = renderSnsMessage(input, { maxBytes: 4_000 });
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(4_000);
    expect(envelope(message).omitted).toEqual(['raw']);
  });

  it('clips absurdly long server strings so that the message always fits', () => {
    const input = alert({ hash: 'h'.repeat(200_000), tableName: 'Ж'.repeat(200_000), code: 'c'.repeat(100_000) });
    const message = renderSnsMessage(input);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const e = envelope(message);
    expect(String(e.hash)).toBe(clip('h'.repeat(200_000), 256));
    expect(e.omittedReason).toContain('clipped');
  });

  it('leaves out a raw object that cannot be serialised instead of failing', () => {
    const raw: Record<string, unknown> = { a: 1 };
    raw.self = raw;
    const e = envelope(renderSnsMessage(alert({ raw })));
    expect(e.omitted).toEqual(['raw']);
  });

  it('gives an invalid first-seen time as null', () => {
    expect(envelope(renderSnsMessage({ ...alert(), firstSeenAt: Number.NaN })).firstSeenAt).toBeNull();
  });

  it('gives SNS e-mail subscribers an ASCII subject only when the headline can be one', () => {
    expect(renderSnsSubject(alert({}, 'Pizza Palace'), { locale: 'en' })).toBe('Table 6: waiter called - Pizza Palace');
    expect(renderSnsSubject(alert({}, 'Пиццерия'), { locale: 'en' })).toBe('Table 6: waiter called');
    expect(renderSnsSubject(alert(), { locale: 'ru' })).toBeUndefined();
  });
});
