/**
 * What staff read in Telegram: the alert (the SMS text's richer sibling: table, event, restaurant,
 * time, the bill's amount where known, an order's lines), the acknowledged form it is edited into
 * ("✅ Стол 6 — Иван, 0:42"), the "Иду" / "On my way" button and the short answers to a press.
 *
 * Messages use Telegram's HTML parse mode: every piece of server or user text is escaped, and
 * the visible text never exceeds Telegram's 4096 characters (counted in UTF-16 units, which is
 * never fewer than Telegram counts). Pure functions: times are passed in, never read.
 */
import { extractInvoice, extractOrder, type BillDetails } from '../../core/details';
import { escapeHtml } from '../../core/email';
import {
  DEFAULT_LOCALE,
  DEFAULT_TIME_ZONE,
  eventSentence,
  eventText,
  formatAmount,
  formatDuration,
  TEXT_LIMITS,
  type Locale,
} from '../../core/texts';
import { clip, oneLine, safeSlice } from '../../core/sms';
import type { QrEvent } from '../../domain/event';

/** Telegram's limit on a message's text after entity parsing. */
export const TELEGRAM_TEXT_MAX = 4096;
/** Telegram's limit on the text of an answer to a button press. */
export const PRESS_ANSWER_MAX = 200;
/** Lines of an order shown in a message (the rest is "and N more"). */
export const TELEGRAM_ORDER_LINES = 10;
/** Graphemes of a person's name shown. */
export const NAME_MAX = 64;

export interface TelegramTextOptions {
  /** Default 'ru'. */
  readonly locale?: Locale;
  /** IANA zone for the time shown. Default 'Europe/Moscow'; an invalid zone falls back to UTC. */
  readonly timeZone?: string;
}

/** One event to tell staff about. */
export interface TelegramAlertInput {
  readonly sourceId: string;
  /** What staff call the place. */
  readonly sourceName: string;
  readonly event: Pick<QrEvent, 'hash' | 'code' | 'tableName' | 'invoice' | 'order'>;
  /** When the notifier first saw the event, epoch ms. */
  readonly firstSeenAt: number;
  /** Set when this is a repeat of a call nobody acknowledged (escalation). */
  readonly unanswered?: { readonly step: number; readonly waitedMs: number };
}

/** An acknowledgement to show in place of the button. */
export interface AckInput {
  readonly tableName: string;
  /** Who pressed (already a display name, see {@link displayName}). */
  readonly by: string;
  /** From the event first seen to the press. */
  readonly responseMs: number;
  /** The event code and restaurant, shown on a second line when given. */
  readonly code?: string;
  readonly sourceName?: string;
}

interface Wording {
  readonly button: string;
  readonly table: (name: string) => string;
  readonly bill: string;
  readonly order: string;
  readonly number: string;
  readonly toPay: string;
  readonly total: string;
  readonly more: (n: number) => string;
  readonly unanswered: (waited: string, step: number) => string;
  readonly accepted: (table: string) => string;
  readonly taken: (by: string) => string;
  readonly stale: string;
  readonly timeTag: string;
}

const WORDING: Readonly<Record<Locale, Wording>> = {
  ru: {
    button: 'Иду',
    table: (name) => `Стол ${name}`,
    bill: 'Счёт',
    order: 'Заказ',
    number: '№',
    toPay: 'к оплате',
    total: 'сумма',
    more: (n) => `и ещё ${n}`,
    unanswered: (waited, step) => `⚠️ Без ответа ${waited}${step > 1 ? ` (повтор ${step})` : ''}`,
    accepted: (table) => `Принято: ${table}`,
    taken: (by) => `Уже идёт: ${by}`,
    stale: 'Этот вызов уже закрыт',
    timeTag: 'ru-RU',
  },
  en: {
    button: 'On my way',
    table: (name) => `Table ${name}`,
    bill: 'Bill',
    order: 'Order',
    number: 'no.',
    toPay: 'to pay',
    total: 'total',
    more: (n) => `and ${n} more`,
    unanswered: (waited, step) => `⚠️ Unanswered for ${waited}${step > 1 ? ` (repeat ${step})` : ''}`,
    accepted: (table) => `Got it: ${table}`,
    taken: (by) => `Taken by ${by}`,
    stale: 'This call is already closed',
    timeTag: 'en-GB',
  },
};

function wording(locale: Locale | undefined): Wording {
  return WORDING[locale ?? DEFAULT_LOCALE] ?? WORDING[DEFAULT_LOCALE];
}

/** A piece of a line: plain text, shown bold or italic or as it is. */
interface Piece {
  readonly text: string;
  readonly style?: 'b' | 'i';
}
type Line = readonly Piece[];

const visibleLength = (lines: readonly Line[]): number =>
  lines.reduce((sum, line) => sum + line.reduce((s, p) => s + p.text.length, 0), 0) + Math.max(0, lines.length - 1);

const toHtml = (lines: readonly Line[]): string =>
  lines
    .map((line) =>
      line.map((p) => (p.style ? `<${p.style}>${escapeHtml(p.text)}</${p.style}>` : escapeHtml(p.text))).join(''),
    )
    .join('\n');

/** Server or user text made one short line. */
function piece(text: string, max: number): string {
  return clip(oneLine(safeSlice(text, max * 16)), max);
}

/** "0:42", "12:05", "1:02:03"; "?" for a time that is not one. */

/** "14:05" in the zone (UTC, marked, when the zone is unknown); "?" for an invalid time. */
export function formatClock(epochMs: number, options: TelegramTextOptions = {}): string {
  if (!Number.isFinite(epochMs)) return '?';
  const format = (timeZone: string): string =>
    new Intl.DateTimeFormat(wording(options.locale).timeTag, {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(epochMs);
  try {
    return format(options.timeZone ?? DEFAULT_TIME_ZONE);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return `${format('UTC')} UTC`;
  }
}

function billLine(
  what: 'bill' | 'order',
  details: BillDetails | null,
  w: Wording,
  locale?: Locale,
): string | undefined {
  if (details === null || !details.recognised || (details.amount === undefined && details.id === undefined))
    return undefined;
  const label = what === 'bill' ? w.bill : w.order;
  const head = details.id !== undefined ? `${label} ${w.number} ${details.id}` : label;
  if (details.amount === undefined) return head;
  return `${head} — ${what === 'bill' ? w.toPay : w.total}: ${formatAmount(details.amount, details.currency, locale)}`;
}

/**
 * The alert as Telegram HTML: the headline in bold ("Стол 6: вызов официанта"), the restaurant and
 * the time, the bill's amount where the server sent one, and for orders up to
 * {@link TELEGRAM_ORDER_LINES} of their lines. Always within {@link TELEGRAM_TEXT_MAX}.
 */
export function renderTelegramAlert(input: TelegramAlertInput, options: TelegramTextOptions = {}): string {
  const w = wording(options.locale);
  const { event } = input;
  const lines: Line[] = [];
  if (input.unanswered)
    lines.push([{ text: w.unanswered(formatDuration(input.unanswered.waitedMs), input.unanswered.step), style: 'b' }]);
  lines.push([{ text: '🔔 ' }, { text: eventSentence(event.code, event.tableName, options.locale), style: 'b' }]);
  const source = piece(input.sourceName, TEXT_LIMITS.source) || piece(input.sourceId, TEXT_LIMITS.source);
  lines.push([{ text: `${source} · ${formatClock(input.firstSeenAt, options)}` }]);
  const invoice = extractInvoice(event.invoice);
  const bill = billLine('bill', invoice, w, options.locale);
  if (bill) lines.push([{ text: bill }]);
  const order = extractOrder(event.order);
  const orderLine = billLine('order', order, w, options.locale);
  if (orderLine) lines.push([{ text: orderLine }]);
  const itemLines: Line[] = [];
  if (order?.recognised) {
    const money = (amount: number | string): string =>
      formatAmount(amount, order.currency ?? invoice?.currency, options.locale);
    for (const item of order.items.slice(0, TELEGRAM_ORDER_LINES)) {
      let text = `• ${item.name}`;
      if (item.quantity !== undefined) text += ` × ${item.quantity}`;
      if (item.price !== undefined) text += ` — ${money(item.price)}`;
      itemLines.push([{ text }]);
    }
    const more = order.moreItems + Math.max(0, order.items.length - TELEGRAM_ORDER_LINES);
    if (more > 0) itemLines.push([{ text: w.more(more), style: 'i' }]);
  }
  return toHtml(fitToLimit(lines, itemLines));
}

/** The lines that fit Telegram's limit: order lines are dropped first, then the text is cut. */
function fitToLimit(head: readonly Line[], tail: readonly Line[]): Line[] {
  const lines = [...head, ...tail];
  while (visibleLength(lines) > TELEGRAM_TEXT_MAX && lines.length > head.length) lines.pop();
  if (visibleLength(lines) <= TELEGRAM_TEXT_MAX) return lines;
  // Unreachable with the clipped pieces above; kept so that no input can ever break the limit.
  let budget = TELEGRAM_TEXT_MAX - (lines.length - 1);
  return lines.map((line) =>
    line.map((p) => {
      const text = cutToUnits(p.text, Math.max(0, budget));
      budget -= text.length;
      return { ...p, text };
    }),
  );
}

/** At most `units` UTF-16 units of a text, with an ellipsis when cut (never splitting a surrogate pair). */
function cutToUnits(text: string, units: number): string {
  if (text.length <= units) return text;
  return units < 2 ? '' : `${safeSlice(text, units - 2)}…`;
}

/** The acknowledged message: "✅ Стол 6 — Иван, 0:42", then the event and restaurant. */
export function renderTelegramAck(ack: AckInput, options: TelegramTextOptions = {}): string {
  const w = wording(options.locale);
  const table = piece(ack.tableName, TEXT_LIMITS.table) || '?';
  const lines: Line[] = [
    [
      { text: '✅ ' },
      { text: w.table(table), style: 'b' },
      { text: ` — ${piece(ack.by, NAME_MAX) || '?'}, ${formatDuration(ack.responseMs)}` },
    ],
  ];
  const details = [
    ack.code !== undefined ? eventText(ack.code, options.locale) : '',
    ack.sourceName !== undefined ? piece(ack.sourceName, TEXT_LIMITS.source) : '',
  ].filter((s) => s !== '');
  if (details.length > 0) lines.push([{ text: details.join(' · '), style: 'i' }]);
  return toHtml(fitToLimit(lines, []));
}

/** The label of the acknowledgement button. */
export function ackButtonLabel(locale?: Locale): string {
  return wording(locale).button;
}

/** Answers to a press, each within Telegram's {@link PRESS_ANSWER_MAX} characters. */
export const pressAnswers = {
  /** To the one whose press won. */
  accepted: (tableName: string, locale?: Locale): string =>
    clip(wording(locale).accepted(wording(locale).table(piece(tableName, 40) || '?')), PRESS_ANSWER_MAX),
  /** To a later press. */
  taken: (by: string, locale?: Locale): string =>
    clip(wording(locale).taken(piece(by, NAME_MAX) || '?'), PRESS_ANSWER_MAX),
  /** To a press on a call that is no longer known or open. */
  stale: (locale?: Locale): string => wording(locale).stale,
} as const;

/** A Telegram user as staff call them: first and last name, else @username, else the id. */
export function displayName(user: {
  readonly id: number;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly username?: string;
}): string {
  const name = piece([user.first_name ?? '', user.last_name ?? ''].join(' '), NAME_MAX);
  if (name) return name;
  const username = piece(user.username ?? '', NAME_MAX);
  return username ? `@${username}` : `id ${user.id}`;
}
