/**
 * The vocabulary of every alert: the locales (Russian by default, English), the phrase for each
 * event code ("вызов официанта"), the headline "Стол 6: вызов официанта", labels, and how times
 * and amounts are written. The SMS (sms-text.ts), the e-mail (email.ts) and the SNS message
 * (sns-message.ts) are all built from these words, so a new code or locale is added here once.
 *
 * Everything from the QR-menu server is untrusted text: `line` makes it one line and looks at
 * a bounded prefix only, `displayTable` clips it. Pure functions: values in, values out; times
 * are passed in as epoch ms, never read from a clock.
 */
import type { Locale } from '../domain/routes';
import { KNOWN_CODES, UNKNOWN_CODE, UNKNOWN_TABLE, type KnownCode, type QrEvent } from '../domain/event';
import type { Amount } from './details';
import { clip, oneLine, safeSlice } from './sms';

export type { Locale };

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
  /** An escalation: nobody acknowledged the call for `waitedMs`; step 1, 2, … */
  readonly unanswered?: { readonly step: number; readonly waitedMs: number };
}

/** "0:42", "12:05", "1:02:09": how long a guest has waited. "?" for nonsense. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const total = Math.floor(ms / 1000);
  const seconds = String(total % 60).padStart(2, '0');
  const minutes = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
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

/** The words of one locale. */
export interface Texts {
  readonly table: (name: string) => string;
  readonly codes: Readonly<Record<KnownCode, string>>;
  readonly generic: (code: string) => string;
  /** The mark of an escalated call, before its sentence: "БЕЗ ОТВЕТА 2:00". */
  readonly unanswered: (waited: string) => string;
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
    unanswered: (waited) => `БЕЗ ОТВЕТА ${waited}`,
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
    unanswered: (waited) => `UNANSWERED ${waited}`,
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

/** The words of a locale (the default locale for an unknown one). */
export function texts(locale: Locale | undefined): Texts {
  return TEXTS[locale ?? DEFAULT_LOCALE] ?? TEXTS[DEFAULT_LOCALE];
}

/** A code with its own phrase (see `KNOWN_CODES` in qrmenu/event.ts). */
export function isKnownCode(code: string): code is KnownCode {
  return Object.hasOwn(KNOWN_CODES, code);
}

/** The event as a phrase ("вызов официанта", `event "table_cleaning"`). */
export function eventText(code: string, locale?: Locale): string {
  const t = texts(locale);
  const clean = line(code) || UNKNOWN_CODE;
  return isKnownCode(clean) ? t.codes[clean] : t.generic(clip(clean, TEXT_LIMITS.code));
}

/** "Стол 6: вызов официанта" — the headline of every message. */
/** "БЕЗ ОТВЕТА 2:00: " before an escalated call's headline; empty for the alert itself. */
export function unansweredMark(unanswered: AlertInput['unanswered'], locale?: Locale): string {
  return unanswered ? `${texts(locale).unanswered(formatDuration(unanswered.waitedMs))}: ` : '';
}

export function eventSentence(code: string, tableName: string, locale?: Locale): string {
  return `${texts(locale).table(displayTable(tableName))}: ${eventText(code, locale)}`;
}

/** A table name as shown in e-mails and headlines: one line, clipped, "?" when empty. */
export function displayTable(tableName: string): string {
  return clip(line(tableName), TEXT_LIMITS.table) || UNKNOWN_TABLE;
}

/**
 * Server text made one line, looking at no more than `maxUnits` of it: nothing longer is ever
 * shown, and a megabyte-long name must not cost a megabyte of work at every step.
 */
export function line(text: string, maxUnits = 4_000): string {
  return oneLine(safeSlice(text, maxUnits));
}

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
