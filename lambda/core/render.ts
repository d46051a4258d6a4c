/**
 * What staff read: the SMS text, the e-mail (subject, plain text, HTML) and the SNS message that
 * carries both to every kind of subscriber, in Russian (default) or English.
 *
 * Everything the QR-menu server sends is untrusted text: it is made one line where it goes into a
 * line, clipped where it could be absurdly long, and HTML-escaped in the HTML body. The SMS always
 * fits one segment (see sms.ts); bills and orders are read leniently (details.ts); the SNS message
 * always fits SNS's 256 KB.
 * Pure functions: values in, values out; times are passed in as epoch ms, never read from a clock.
 */
import type { AlertsConfig } from '../config/schema';
import { KNOWN_CODES, UNKNOWN_CODE, UNKNOWN_TABLE, type KnownCode, type QrEvent } from '../qrmenu/event';
import { extractInvoice, extractOrder, type Amount, type BillDetails } from './details';
import { clip, fitsOneSegment, hardCutToOneSegment, isGsm7, oneLine, safeSlice, shortenToFit } from './sms';

export type Locale = AlertsConfig['locale'];

export interface RenderOptions {
  /** Default 'ru'. */
  readonly locale?: Locale;
  /** IANA zone for printed times. Default 'Europe/Moscow'; an invalid zone falls back to UTC. */
  readonly timeZone?: string;
}

/** One event to tell staff about (the same facts as the delivery port's request). */
export interface AlertInput {
  readonly sourceId: string;
  /** What staff call the place. */
  readonly sourceName: string;
  readonly event: QrEvent;
  /** When the notifier first saw the event, epoch ms. */
  readonly firstSeenAt: number;
}

export const DEFAULT_LOCALE: Locale = 'ru';
export const DEFAULT_TIME_ZONE = 'Europe/Moscow';

/** Longest pieces of server text shown in e-mails and the SNS envelope's last-resort form. */
export const TEXT_LIMITS = {
  /** Graphemes of a table name in e-mails and subjects. */
  table: 200,
  /** Graphemes of an event code in e-mails and subjects. */
  code: 100,
  /** Graphemes of a restaurant name. */
  source: 100,
  /** Graphemes of hash/code/names in a clipped SNS envelope. */
  envelope: 256,
} as const;

/** Fewest graphemes of the restaurant name worth showing in an SMS; shorter, it is left out. */
export const SMS_MIN_SOURCE_GRAPHEMES = 5;

interface Texts {
  readonly table: (name: string) => string;
  readonly codes: Readonly<Record<KnownCode, string>>;
  readonly generic: (code: string) => string;
  readonly timeTag: string;
  readonly labels: {
    readonly restaurant: string;
    readonly table: string;
    readonly event: string;
    readonly received: string;
    readonly bill: string;
    readonly order: string;
    readonly number: string;
    readonly toPay: string;
    readonly total: string;
    readonly status: string;
    readonly more: (n: number) => string;
    readonly unreadable: (what: string) => string;
    readonly missing: string;
    readonly footer: (hash: string, sourceId: string) => string;
  };
}

const TEXTS: Readonly<Record<Locale, Texts>> = {
  ru: {
    table: (name) => `Стол ${name}`,
    codes: {
      waiter_call: 'вызов официанта',
      bill_request: 'просят счёт',
      waiter_call_cash: 'вызов официанта, оплата наличными',
      new_order: 'новый заказ',
      order_paid: 'заказ оплачен',
    },
    generic: (code) => `событие «${code}»`,
    timeTag: 'ru-RU',
    labels: {
      restaurant: 'Ресторан',
      table: 'Стол',
      event: 'Событие',
      received: 'Получено',
      bill: 'Счёт',
      order: 'Заказ',
      number: '№',
      toPay: 'к оплате',
      total: 'сумма',
      status: 'статус',
      more: (n) => `и ещё ${n}`,
      unreadable: (what) => `${what}: данные в незнакомом виде (см. JSON в SNS)`,
      missing: 'Сервер не прислал',
      footer: (hash, sourceId) => `qrmenu-alerts · событие ${hash} · источник ${sourceId}`,
    },
  },
  en: {
    table: (name) => `Table ${name}`,
    codes: {
      waiter_call: 'waiter called',
      bill_request: 'bill requested',
      waiter_call_cash: 'waiter called, cash payment',
      new_order: 'new order',
      order_paid: 'order paid',
    },
    generic: (code) => `event "${code}"`,
    timeTag: 'en-GB',
    labels: {
      restaurant: 'Restaurant',
      table: 'Table',
      event: 'Event',
      received: 'Received',
      bill: 'Bill',
      order: 'Order',
      number: 'no.',
      toPay: 'to pay',
      total: 'total',
      status: 'status',
      more: (n) => `and ${n} more`,
      unreadable: (what) => `${what}: sent in an unfamiliar format (see the JSON in SNS)`,
      missing: 'Missing from the server',
      footer: (hash, sourceId) => `qrmenu-alerts · event ${hash} · source ${sourceId}`,
    },
  },
};

function texts(locale: Locale | undefined): Texts {
  return TEXTS[locale ?? DEFAULT_LOCALE] ?? TEXTS[DEFAULT_LOCALE];
}

function isKnownCode(code: string): code is KnownCode {
  return Object.hasOwn(KNOWN_CODES, code);
}

/** The event as a phrase ("вызов официанта", `event "table_cleaning"`). */
export function eventText(code: string, locale?: Locale): string {
  const t = texts(locale);
  const clean = line(code) || UNKNOWN_CODE;
  return isKnownCode(clean) ? t.codes[clean] : t.generic(clip(clean, TEXT_LIMITS.code));
}

/** "Стол 6: вызов официанта" — the headline of every message. */
export function eventSentence(code: string, tableName: string, locale?: Locale): string {
  return `${texts(locale).table(displayTable(tableName))}: ${eventText(code, locale)}`;
}

function displayTable(tableName: string): string {
  return clip(line(tableName), TEXT_LIMITS.table) || UNKNOWN_TABLE;
}

/**
 * Server text made one line, looking at no more than `maxUnits` of it: nothing longer is ever
 * shown, and a megabyte-long name must not cost a megabyte of work at every step.
 */
function line(text: string, maxUnits = 4_000): string {
  return oneLine(safeSlice(text, maxUnits));
}

// ---------------------------------------------------------------------------------------------
// SMS

export interface SmsInput {
  readonly sourceName?: string;
  readonly event: Pick<QrEvent, 'code' | 'tableName'>;
}

/**
 * The SMS text: "Стол 6: вызов официанта (Пиццерия на Ленина)", always one segment. When the full
 * text does not fit, in this order: the restaurant name is shortened with an ellipsis (kept only
 * if at least {@link SMS_MIN_SOURCE_GRAPHEMES} graphemes survive), then left out; an unknown code
 * is shortened; the table name itself is shortened as the last resort. The table is never left out.
 */
export function renderSms(input: SmsInput, options: RenderOptions = {}): string {
  const t = texts(options.locale);
  // Nothing longer than one segment can be shown whole: the rest is cut anyway.
  const table = line(input.event.tableName, 1_000) || UNKNOWN_TABLE;
  const code = line(input.event.code, 1_000) || UNKNOWN_CODE;
  const known = isKnownCode(code) ? t.codes[code] : undefined;
  const source = line(input.sourceName ?? '', 1_000);
  const sentence = (tableText: string, codeText: string): string =>
    `${t.table(tableText)}: ${known ?? t.generic(codeText)}`;
  const withSource = (text: string, sourceText: string): string => (sourceText ? `${text} (${sourceText})` : text);

  const full = withSource(sentence(table, code), source);
  if (fitsOneSegment(full)) return full;
  if (source) {
    const shortened = shortenToFit(source, SMS_MIN_SOURCE_GRAPHEMES, (s) => withSource(sentence(table, code), s));
    if (shortened !== undefined) return shortened;
  }
  const bare = sentence(table, code);
  if (fitsOneSegment(bare)) return bare;
  if (known === undefined) {
    const shortened = shortenToFit(code, 1, (c) => sentence(table, c));
    if (shortened !== undefined) return shortened;
  }
  const minimalCode = known === undefined ? clip(code, 3, isGsm7(t.generic('')) ? '...' : '…') : code;
  const shortened = shortenToFit(table, 1, (name) => sentence(name, minimalCode));
  return shortened ?? hardCutToOneSegment(sentence(table, minimalCode));
}

// ---------------------------------------------------------------------------------------------
// E-mail

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch as keyof typeof HTML_ENTITIES]);
}
const HTML_ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' } as const;

/**
 * An epoch-ms time for people, in the locale and time zone ("12 марта 2026 г., 14:05:09 MSK").
 * An invalid zone falls back to UTC (and says so); an invalid time gives "?".
 */
export function formatTime(epochMs: number, options: RenderOptions = {}): string {
  if (!Number.isFinite(epochMs)) return '?';
  const format = (timeZone: string): string =>
    new Intl.DateTimeFormat(texts(options.locale).timeTag, {
      timeZone,
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).format(epochMs);
  try {
    return format(options.timeZone ?? DEFAULT_TIME_ZONE);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    try {
      return `${format('UTC')} (time zone "${clip(options.timeZone ?? '', 40)}" unknown)`;
    } catch {
      return '?';
    }
  }
}

/** An amount with its currency, in the locale ("1 500,00 ₽", "€12.50", "300 руб."). */
export function formatAmount(amount: Amount, currency: string | undefined, locale?: Locale): string {
  const tag = texts(locale).timeTag;
  if (typeof amount === 'number') {
    if (currency && /^[A-Za-z]{3}$/.test(currency)) {
      try {
        return new Intl.NumberFormat(tag, { style: 'currency', currency: currency.toUpperCase() }).format(amount);
      } catch {
        // not a currency Intl knows: fall through to the plain form
      }
    }
    const number = new Intl.NumberFormat(tag, { maximumFractionDigits: 2 }).format(amount);
    return currency ? `${number} ${currency}` : number;
  }
  return currency ? `${amount} ${currency}` : amount;
}

interface Block {
  readonly heading: string;
  readonly lines: readonly string[];
}

function billBlock(
  what: 'bill' | 'order',
  details: BillDetails | null,
  t: Texts,
  locale: Locale | undefined,
  currency?: string,
): Block | undefined {
  if (details === null) return undefined;
  const label = what === 'bill' ? t.labels.bill : t.labels.order;
  if (!details.recognised) return { heading: t.labels.unreadable(label), lines: [] };
  const money = (amount: Amount): string => formatAmount(amount, details.currency ?? currency, locale);
  const parts = [details.id !== undefined ? `${label} ${t.labels.number} ${details.id}` : label];
  if (details.status !== undefined) parts.push(`${t.labels.status}: ${details.status}`);
  if (details.amount !== undefined)
    parts.push(`${what === 'bill' ? t.labels.toPay : t.labels.total}: ${money(details.amount)}`);
  const lines = details.items.map((item) => {
    let line = item.name;
    if (item.quantity !== undefined) line += ` × ${item.quantity}`;
    if (item.price !== undefined) line += ` — ${money(item.price)}`;
    return line;
  });
  if (details.moreItems > 0) lines.push(t.labels.more(details.moreItems));
  return { heading: parts.join(', '), lines };
}

/**
 * The e-mail: the subject names the table and the event (and the restaurant); the body gives the
 * restaurant, table, event, when it was first seen, and the bill/order when recognisable.
 */
export function renderEmail(input: AlertInput, options: RenderOptions = {}): RenderedEmail {
  const t = texts(options.locale);
  const { event } = input;
  const sentence = eventSentence(event.code, event.tableName, options.locale);
  const source = clip(line(input.sourceName), TEXT_LIMITS.source) || input.sourceId;
  const code = clip(line(event.code), TEXT_LIMITS.code) || UNKNOWN_CODE;
  const eventValue = isKnownCode(code) ? `${t.codes[code]} (${code})` : code;
  const rows: [string, string][] = [
    [t.labels.restaurant, source],
    [t.labels.table, displayTable(event.tableName)],
    [t.labels.event, eventValue],
    [t.labels.received, formatTime(input.firstSeenAt, options)],
  ];
  if (event.placeholders.length > 0)
    rows.push([
      t.labels.missing,
      event.placeholders
        .slice(0, 10)
        .map((p) => clip(line(p), 60))
        .join(', '),
    ]);
  const invoice = extractInvoice(event.invoice);
  const blocks = [
    billBlock('bill', invoice, t, options.locale),
    billBlock('order', extractOrder(event.order), t, options.locale, invoice?.currency),
  ].filter((b): b is Block => b !== undefined);
  const footer = t.labels.footer(clip(line(event.hash), 80), clip(line(input.sourceId), 40));

  const subject = `${sentence} — ${source}`;
  const text = [
    sentence,
    '',
    ...rows.map(([label, value]) => `${label}: ${value}`),
    ...blocks.flatMap((b) => ['', b.heading, ...b.lines.map((line) => `  • ${line}`)]),
    '',
    '—',
    footer,
    '',
  ].join('\n');
  return { subject, text, html: emailHtml(sentence, rows, blocks, footer, options.locale ?? DEFAULT_LOCALE) };
}

function emailHtml(
  sentence: string,
  rows: readonly [string, string][],
  blocks: readonly Block[],
  footer: string,
  locale: Locale,
): string {
  const e = escapeHtml;
  const cell = 'padding:4px 12px 4px 0;vertical-align:top;';
  const rowHtml = rows
    .map(
      ([label, value]) =>
        `<tr><td style="${cell}color:#666;white-space:nowrap;">${e(label)}</td><td style="${cell}font-weight:bold;">${e(value)}</td></tr>`,
    )
    .join('');
  const blockHtml = blocks
    .map(
      (b) =>
        `<p style="margin:16px 0 6px;font-size:15px;font-weight:bold;">${e(b.heading)}</p>` +
        (b.lines.length > 0
          ? `<ul style="margin:0;padding-left:20px;font-size:14px;">${b.lines.map((l) => `<li style="margin:2px 0;">${e(l)}</li>`).join('')}</ul>`
          : ''),
    )
    .join('');
  return (
    `<!DOCTYPE html><html lang="${locale}"><head><meta charset="utf-8"><title>${e(sentence)}</title></head>` +
    '<body style="margin:0;padding:16px;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;color:#222;">' +
    '<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #dddddd;border-radius:6px;padding:16px 20px;">' +
    `<h1 style="margin:0 0 12px;font-size:20px;line-height:1.3;">${e(sentence)}</h1>` +
    `<table role="presentation" style="border-collapse:collapse;font-size:14px;">${rowHtml}</table>` +
    blockHtml +
    `<p style="margin:20px 0 0;font-size:12px;color:#888888;">${e(footer)}</p>` +
    '</div></body></html>'
  );
}

// ---------------------------------------------------------------------------------------------
// SNS

/** SNS's limit on one published message (message and attributes together), in bytes. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

export interface SnsRenderOptions extends RenderOptions {
  /** Largest `Message` in UTF-8 bytes. Default {@link SNS_MAX_MESSAGE_BYTES}; the adapter subtracts the attributes. */
  readonly maxBytes?: number;
}

/** The `default` value: what JSON subscribers (SQS, HTTPS, Lambda) receive. */
export interface SnsEnvelope {
  readonly type: 'qrmenu-alerts.event';
  readonly version: 1;
  readonly source: string;
  readonly sourceName: string;
  readonly hash: string;
  readonly code: string;
  /** The headline staff read ("Стол 6: вызов официанта"). */
  readonly text: string;
  readonly table: { readonly id: number | string | null; readonly name: string };
  /** ISO 8601; null when the time given was not a valid time. */
  readonly firstSeenAt: string | null;
  readonly invoice?: unknown;
  readonly order?: unknown;
  readonly raw?: unknown;
  readonly placeholders?: readonly string[];
  /** Fields left out to stay under SNS's size limit, and why. */
  readonly omitted?: readonly string[];
  readonly omittedReason?: string;
}

/**
 * The `Message` for `Publish` with `MessageStructure: 'json'`:
 * `{ "default": <JSON of the envelope>, "sms": <renderSms>, "email": <plain-text e-mail> }`.
 * If it would exceed `maxBytes`: first `raw` is left out, then `invoice` and `order` too, then
 * long strings are clipped; the envelope lists what was left out in `omitted`.
 */
export function renderSnsMessage(input: AlertInput, options: SnsRenderOptions = {}): string {
  const maxBytes = options.maxBytes ?? SNS_MAX_MESSAGE_BYTES;
  const { event } = input;
  const sms = renderSms(input, options);
  const email = renderEmail(input, options);
  const emailText = `${email.subject}\n\n${email.text}`;
  const base = {
    type: 'qrmenu-alerts.event',
    version: 1,
    source: input.sourceId,
    sourceName: input.sourceName,
    hash: event.hash,
    code: event.code,
    text: eventSentence(event.code, event.tableName, options.locale),
    table: { id: event.tableId, name: event.tableName },
    firstSeenAt:
      Number.isFinite(input.firstSeenAt) && Math.abs(input.firstSeenAt) <= 8.64e15
        ? new Date(input.firstSeenAt).toISOString()
        : null,
  } as const;
  const placeholders = event.placeholders.length > 0 ? { placeholders: event.placeholders } : {};
  const reason = `the full event is larger than SNS accepts (${maxBytes} bytes)`;
  const attempts: (() => SnsEnvelope)[] = [
    () => ({ ...base, invoice: event.invoice, order: event.order, raw: event.raw, ...placeholders }),
    () => ({
      ...base,
      invoice: event.invoice,
      order: event.order,
      ...placeholders,
      omitted: ['raw'],
      omittedReason: reason,
    }),
    () => ({ ...base, ...placeholders, omitted: ['raw', 'invoice', 'order'], omittedReason: reason }),
  ];
  for (const attempt of attempts) {
    let message: string;
    try {
      message = JSON.stringify({ default: JSON.stringify(attempt()), sms, email: emailText });
    } catch {
      continue; // not serialisable (a cycle, a BigInt): try the smaller form
    }
    if (Buffer.byteLength(message, 'utf8') <= maxBytes) return message;
  }
  // Absurd server strings (a megabyte-long hash or table name): clip everything that came from it.
  const max = TEXT_LIMITS.envelope;
  const clipped: SnsEnvelope = {
    ...base,
    sourceName: clip(input.sourceName, max),
    hash: clip(event.hash, max),
    code: clip(event.code, max),
    table: {
      id: typeof event.tableId === 'string' ? clip(event.tableId, max) : event.tableId,
      name: clip(event.tableName, max),
    },
    omitted: ['raw', 'invoice', 'order', 'placeholders'],
    omittedReason: `${reason}; long strings clipped to ${max} characters`,
  };
  return JSON.stringify({ default: JSON.stringify(clipped), sms, email: clip(emailText, 4_000) });
}

/**
 * A `Subject` for SNS e-mail subscribers, or undefined when the headline cannot be one: SNS takes
 * only printable ASCII, under 100 characters (so a Russian deployment sends none, and SNS uses its
 * default subject).
 */
export function renderSnsSubject(
  input: Pick<AlertInput, 'sourceName' | 'event'>,
  options: RenderOptions = {},
): string | undefined {
  const sentence = eventSentence(input.event.code, input.event.tableName, options.locale);
  const withSource = `${sentence} - ${clip(line(input.sourceName), TEXT_LIMITS.source)}`;
  const ok = (s: string): boolean => /^[A-Za-z0-9!-/:-@[-`{-~][\x20-\x7E]*$/.test(s) && s.length < 100;
  return ok(withSource) ? withSource : ok(sentence) ? sentence : undefined;
}
