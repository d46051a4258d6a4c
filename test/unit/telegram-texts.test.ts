/**
 * What staff read in Telegram: the alert in both locales (table, event, restaurant, time, the
 * bill's amount, an order's lines), every server string escaped for HTML parse mode, always within
 * 4096 characters whatever arrives; the acknowledged form; the button label and press answers.
 * Pure functions only (times are fixed epoch values).
 */
import { describe, expect, it } from 'vitest';
import {
  ackButtonLabel,
  displayName,
  formatClock,
  PRESS_ANSWER_MAX,
  pressAnswers,
  renderTelegramAck,
  renderTelegramAlert,
  TELEGRAM_TEXT_MAX,
} from '../../lambda/notify/telegram/texts';
import { formatDuration } from '../../lambda/core/texts';
import { alertFor } from '../support/telegram';
import { seededRandom } from '../support/random';

/** The text Telegram shows: tags removed, entities decoded (what the 4096 limit counts). */
function visible(html: string): string {
  return html
    .replace(/<\/?(b|i)>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Only our own tags, balanced; no raw "<", ">" or "&" outside an entity. */
function wellFormed(html: string): boolean {
  const stripped = html.replace(/<(b|i)>([^<]*)<\/\1>/g, '$2');
  return !/[<>]/.test(stripped) && !/&(?!(lt|gt|amp|quot|#39);)/.test(stripped);
}

describe('Telegram alert text', () => {
  it('reads like the SMS, richer: headline, restaurant and time, the bill (ru)', () => {
    const html = renderTelegramAlert(alertFor({ invoice: { id: 'A-17', sum_to_pay: 1500, currency: 'RUB' } }), {
      timeZone: 'Europe/Moscow',
    });
    expect(html).toBe(
      '🔔 <b>Стол 6: вызов официанта</b>\nПиццерия на Ленина · 14:05\nСчёт № A-17 — к оплате: 1\u00a0500,00\u00a0₽',
    );
  });

  it('speaks English when the deployment does', () => {
    const html = renderTelegramAlert(alertFor({ code: 'bill_request', invoice: { sum: '12.5', currency: 'EUR' } }), {
      locale: 'en',
      timeZone: 'Europe/Berlin',
    });
    expect(html).toBe('🔔 <b>Table 6: bill requested</b>\nПиццерия на Ленина · 12:05\nBill — to pay: €12.50');
  });

  it('lists an order’s lines, at most ten, and says how many more', () => {
    const dishes = Array.from({ length: 14 }, (_, i) => ({ name: `Блюдо ${i + 1}`, quantity: 1, price: 100 }));
    const html = renderTelegramAlert(alertFor({ code: 'new_order', order: { id: 77, total: 1400, dishes } }));
    const lines = html.split('\n');
    expect(lines[2]).toBe('Заказ № 77 — сумма: 1\u00a0400');
    expect(lines.filter((l) => l.startsWith('• '))).toHaveLength(10);
    expect(lines.at(-1)).toBe('<i>и ещё 4</i>');
  });

  it('names an unknown code, and marks an unanswered repeat with the wait', () => {
    const html = renderTelegramAlert(
      { ...alertFor({ code: 'table_cleaning' }), unanswered: { step: 2, waitedMs: 125_000 } },
      {},
    );
    expect(html.split('\n')[0]).toBe('<b>⚠️ Без ответа 2:05 (повтор 2)</b>');
    expect(html).toContain('Стол 6: событие «table_cleaning»');
  });

  it('escapes every server string', () => {
    const html = renderTelegramAlert({
      ...alertFor({
        tableName: '<b>6</b>&',
        code: '<script>',
        invoice: { id: '<i>', sum_to_pay: '1 500 <руб>' },
        order: { dishes: [{ name: 'Пицца "4 сыра" & <вино>' }] },
      }),
      sourceName: "O'Hara & <Sons>",
    });
    expect(wellFormed(html)).toBe(true);
    expect(visible(html)).toContain('Стол <b>6</b>&');
    expect(visible(html)).toContain("O'Hara & <Sons>");
    expect(visible(html)).toContain('• Пицца "4 сыра" & <вино>');
  });

  it('stays within 4096 characters and well-formed, whatever the server sends', () => {
    const random = seededRandom(4096);
    const junk = (n: number) =>
      Array.from({ length: n }, () => '<>&"\' \nабв🍕x\u202e'[Math.floor(random() * 13)]).join('');
    for (let i = 0; i < 40; i++) {
      const html = renderTelegramAlert({
        ...alertFor({
          tableName: junk(Math.floor(random() * 5_000)),
          code: junk(Math.floor(random() * 500)),
          invoice: { id: junk(100), sum_to_pay: junk(300), currency: junk(10) },
          order: {
            id: junk(100),
            total: junk(300),
            dishes: Array.from({ length: Math.floor(random() * 60) }, () => ({
              name: junk(1_000),
              quantity: junk(50),
              price: junk(50),
            })),
          },
        }),
        sourceName: junk(Math.floor(random() * 3_000)),
      });
      expect(visible(html).length).toBeLessThanOrEqual(TELEGRAM_TEXT_MAX);
      expect(wellFormed(html)).toBe(true);
    }
  });

  it('shows the time in the configured zone, UTC (marked) when the zone is unknown', () => {
    const at = Date.UTC(2026, 2, 12, 11, 5);
    expect(formatClock(at, { timeZone: 'Asia/Yekaterinburg' })).toBe('16:05');
    expect(formatClock(at, { timeZone: 'Mars/Olympus' })).toBe('11:05 UTC');
    expect(formatClock(Number.NaN)).toBe('?');
  });
});

describe('acknowledgement texts', () => {
  it('shows who took the call and how fast', () => {
    expect(renderTelegramAck({ tableName: '6', by: 'Иван', responseMs: 42_300 })).toBe('✅ <b>Стол 6</b> — Иван, 0:42');
    expect(
      renderTelegramAck(
        { tableName: '6', by: 'Ivan <3', responseMs: 3_723_000, code: 'bill_request', sourceName: 'Pizza & Co' },
        { locale: 'en' },
      ),
    ).toBe('✅ <b>Table 6</b> — Ivan &lt;3, 1:02:03\n<i>bill requested · Pizza &amp; Co</i>');
  });

  it('formats durations', () => {
    expect([0, 999, 42_000, 600_000, 3_599_999, 3_600_000].map(formatDuration)).toEqual([
      '0:00',
      '0:00',
      '0:42',
      '10:00',
      '59:59',
      '1:00:00',
    ]);
    expect(formatDuration(-1)).toBe('?');
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('labels the button and answers presses in the locale, within 200 characters', () => {
    expect(ackButtonLabel()).toBe('Иду');
    expect(ackButtonLabel('en')).toBe('On my way');
    expect(pressAnswers.accepted('6')).toBe('Принято: Стол 6');
    expect(pressAnswers.taken('Иван', 'en')).toBe('Taken by Иван');
    expect(pressAnswers.taken('Иван')).toBe('Уже идёт: Иван');
    expect(pressAnswers.stale('en')).toBe('This call is already closed');
    expect(pressAnswers.taken('x'.repeat(1_000)).length).toBeLessThanOrEqual(PRESS_ANSWER_MAX);
  });

  it('names Telegram users as staff know them', () => {
    expect(displayName({ id: 1, first_name: 'Иван', last_name: 'Петров' })).toBe('Иван Петров');
    expect(displayName({ id: 1, first_name: ' \n', username: 'ivan' })).toBe('@ivan');
    expect(displayName({ id: 5 })).toBe('id 5');
    expect(displayName({ id: 1, first_name: 'a\u202eb\nc' })).toBe('ab c');
  });
});
