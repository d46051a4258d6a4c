/**
 * The SNS message of one alert, for `Publish` with `MessageStructure: 'json'`: the SMS text in
 * `sms`, the plain-text e-mail in `email`, and the full event as JSON in `default` for any other
 * subscriber (SQS, HTTPS, Lambda). It always fits SNS's 256 KB: raw, invoice and order are left
 * out in turn, then long strings clipped, and the envelope says what was left out. Also the
 * optional ASCII `Subject` for SNS e-mail subscribers.
 * Pure functions: no I/O.
 */
import { clip } from './sms';
import { renderEmail } from './email';
import { renderSms } from './sms-text';
import { eventSentence, line, TEXT_LIMITS, unansweredMark, type AlertInput, type RenderOptions } from './texts';

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
  /** An escalated call: its step, and how long nobody answered (ms). */
  readonly escalation?: { readonly step: number; readonly waitedMs: number };
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
    text: `${unansweredMark(input.unanswered, options.locale)}${eventSentence(event.code, event.tableName, options.locale)}`,
    ...(input.unanswered ? { escalation: { ...input.unanswered } } : {}),
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
  input: Pick<AlertInput, 'sourceName' | 'event' | 'unanswered'>,
  options: RenderOptions = {},
): string | undefined {
  const sentence = `${unansweredMark(input.unanswered, options.locale)}${eventSentence(input.event.code, input.event.tableName, options.locale)}`;
  const withSource = `${sentence} - ${clip(line(input.sourceName), TEXT_LIMITS.source)}`;
  const ok = (s: string): boolean => /^[A-Za-z0-9!-/:-@[-`{-~][\x20-\x7E]*$/.test(s) && s.length < 100;
  return ok(withSource) ? withSource : ok(sentence) ? sentence : undefined;
}
