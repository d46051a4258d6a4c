/**
 * The alert e-mail: the subject names the table, the event and the restaurant; a plain-text
 * body and an HTML body (inline styles, every server string escaped) give the restaurant, table,
 * event, when it was first seen and the bill/order when it can be read (details.ts). Words come
 * from texts.ts; the SES adapter (notify/ses.ts) sends what `renderEmail` returns.
 * Pure functions: no I/O.
 */
import { UNKNOWN_CODE } from '../domain/event';
import { extractInvoice, extractOrder, type Amount, type BillDetails } from './details';
import { clip } from './sms';
import {
  DEFAULT_LOCALE,
  displayTable,
  eventSentence,
  unansweredMark,
  formatAmount,
  formatTime,
  isKnownCode,
  line,
  TEXT_LIMITS,
  texts,
  type AlertInput,
  type Locale,
  type RenderOptions,
  type Texts,
} from './texts';

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
  const sentence = `${unansweredMark(input.unanswered, options.locale)}${eventSentence(event.code, event.tableName, options.locale)}`;
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
