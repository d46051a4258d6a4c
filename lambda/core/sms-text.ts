/**
 * The SMS a waiter reads: "Стол 6: вызов официанта (Пиццерия на Ленина)", always one segment
 * (paid per segment; the arithmetic is in sms.ts). When the whole text does not fit, parts are
 * shortened in a fixed order (restaurant name, then an unknown code, then the table name) and
 * the table is never left out. Words come from texts.ts.
 * Pure function: no I/O.
 */
import { UNKNOWN_CODE, UNKNOWN_TABLE, type QrEvent } from '../domain/event';
import { clip, fitsOneSegment, hardCutToOneSegment, isGsm7, shortenToFit } from './sms';
import { isKnownCode, line, texts, unansweredMark, type RenderOptions } from './texts';

/** Fewest graphemes of the restaurant name worth showing in an SMS; shorter, it is left out. */
export const SMS_MIN_SOURCE_GRAPHEMES = 5;

export interface SmsInput {
  readonly sourceName?: string;
  readonly event: Pick<QrEvent, 'code' | 'tableName'>;
  /** An escalated call: "БЕЗ ОТВЕТА 2:00: Стол 6: …". */
  readonly unanswered?: { readonly step: number; readonly waitedMs: number };
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
  const mark = unansweredMark(input.unanswered, options.locale);
  const sentence = (tableText: string, codeText: string): string =>
    `${mark}${t.table(tableText)}: ${known ?? t.generic(codeText)}`;
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
