/**
 * SMS arithmetic: which encoding a text needs, how many segments it costs, and how to shorten a
 * piece of text so that a whole message fits one segment. SMS is paid per segment.
 *
 * A text made only of GSM 03.38 characters is sent in GSM-7: 160 septets in one segment, 153 per
 * segment of a longer message; the extension characters `^{}\[~]|€` and form feed take two
 * septets each. Any other character (Cyrillic, «», …, emoji) switches the whole text to UCS-2:
 * 70 UTF-16 code units in one segment (an emoji is two), 67 per segment of a longer message.
 * Pure functions: no I/O.
 */

/** The GSM 03.38 basic character set (without the escape character itself). */
const GSM7_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
/** The GSM 03.38 extension table: each costs two septets (escape + character). */
const GSM7_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export const SMS_LIMITS = {
  'GSM-7': { single: 160, multipart: 153 },
  'UCS-2': { single: 70, multipart: 67 },
} as const;

export interface SmsSize {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  /** Segments the text costs; an empty text still costs one. */
  readonly segments: number;
}

/** Is every character of the text in the GSM-7 basic or extension table? */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return false;
  return true;
}

/**
 * The encoding, size and segment count of an SMS text. Exact for the one-segment question; for
 * longer texts it is the usual estimate (it ignores that a segment boundary never splits an
 * escape sequence or a surrogate pair, which can add a segment in rare cases).
 */
export function smsSize(text: string): SmsSize {
  if (isGsm7(text)) {
    let units = 0;
    for (const ch of text) units += GSM7_EXTENSION.has(ch) ? 2 : 1;
    return { encoding: 'GSM-7', units, segments: segmentsFor(units, SMS_LIMITS['GSM-7']) };
  }
  const units = text.length;
  return { encoding: 'UCS-2', units, segments: segmentsFor(units, SMS_LIMITS['UCS-2']) };
}

/** Segments an SMS text costs (see {@link smsSize}). */
export function smsSegments(text: string): number {
  return smsSize(text).segments;
}

export function fitsOneSegment(text: string): boolean {
  return smsSegments(text) === 1;
}

function segmentsFor(units: number, limits: { single: number; multipart: number }): number {
  return units <= limits.single ? 1 : Math.ceil(units / limits.multipart);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The text as user-perceived characters (an emoji with modifiers stays one piece). */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Bidi overrides/isolates and other invisible controls that would scramble a one-line text. */
const INVISIBLE_CONTROLS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/**
 * One line of text: control and bidi characters removed, every run of white space (line breaks,
 * tabs, U+2028…) made one space, trimmed. Used for everything the server sends into a one-line
 * place (SMS, subjects, table cells).
 */
export function oneLine(text: string): string {
  return text.replace(INVISIBLE_CONTROLS, '').replace(/\s+/gu, ' ').trim();
}

/** The first `units` UTF-16 units of a text, one more if the cut would split a surrogate pair. */
export function safeSlice(text: string, units: number): string {
  if (text.length <= units) return text;
  const code = text.charCodeAt(units - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? units + 1 : units);
}

/**
 * The first `max` graphemes of a text, with an ellipsis when something was cut. Cheap on huge
 * inputs: only a window of about `max` graphemes is looked at (a grapheme cluster longer than
 * 12 UTF-16 units, which is rare outside of deliberate "Zalgo" text, may be cut inside).
 */
export function clip(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  const windowUnits = max * 12;
  const head = graphemes(safeSlice(text, windowUnits));
  if (head.length <= max) return head.length > 0 && text.length > windowUnits ? head.join('') + ellipsis : text;
  return head.slice(0, max).join('').trimEnd() + ellipsis;
}

/**
 * The longest prefix of `piece` (in graphemes, at least `minKeep`, always shorter than the whole)
 * for which `build(prefix + ellipsis)` fits one SMS segment, or undefined. The ellipsis is "…" when
 * the message is UCS-2 anyway and "..." when it would otherwise stay GSM-7 (so a Latin text keeps
 * its 160 limit).
 */
export function shortenToFit(piece: string, minKeep: number, build: (shortened: string) => string): string | undefined {
  // No segment holds more than 160 characters: never look further than that.
  const maxChars = SMS_LIMITS['GSM-7'].single;
  const window = safeSlice(piece, maxChars * 4);
  const parts = graphemes(window);
  const start = window.length === piece.length ? parts.length - 1 : parts.length;
  for (let keep = Math.min(start, maxChars); keep >= minKeep; keep -= 1) {
    const prefix = parts.slice(0, keep).join('').trimEnd();
    const plain = build(`${prefix}...`);
    const text = isGsm7(plain) ? plain : build(`${prefix}…`);
    if (fitsOneSegment(text)) return text;
  }
  return undefined;
}

/**
 * Last resort: cut a text to one segment by code points (never splitting a surrogate pair).
 * Only reached for pathological input, e.g. one grapheme cluster made of hundreds of marks.
 */
export function hardCutToOneSegment(text: string): string {
  if (fitsOneSegment(text)) return text;
  const points = Array.from(text);
  let out = '';
  for (const point of points) {
    const next = `${out}${point}`;
    if (!fitsOneSegment(`${next}…`)) break;
    out = next;
  }
  return `${out}…`;
}
