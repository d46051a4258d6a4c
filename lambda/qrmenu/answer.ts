/**
 * Turns a QR-menu server's raw answer (status, content type, bytes) into events, or a typed error.
 *
 * Strict where it must be (the envelope: `result: true`, `data.updates` an array), lenient where
 * the vendor is silent: unknown keys survive in `raw`, `invoice`/`order` are kept as sent when they
 * are objects, `table_repr` may be missing. One malformed event never hides the good ones beside
 * it: an event without a usable `hash` is reported in `skipped`; other gaps get placeholders, and
 * server objects nested absurdly deep are dropped (nothing downstream may overflow on them).
 * The token is redacted here, once, where it is known: every string of every event (keys included,
 * at any depth) has it replaced by `***`, so no alert, record or log built from an event can carry it.
 * Pure: no I/O.
 */
import { AuthError, BadResponseError, ServerError, redact, snippet } from './errors';
import { UNKNOWN_CODE, UNKNOWN_TABLE, type QrEvent } from '../domain/event';

export interface SkippedEvent {
  /** Position in `updates`. */
  readonly index: number;
  readonly reason: string;
}

export interface EventsAnswer {
  /** Events in the server's (chronological) order. */
  readonly events: readonly QrEvent[];
  readonly skipped: readonly SkippedEvent[];
}

export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** The longest hash kept (DynamoDB keys are small; real hashes are 10 characters). */
export const MAX_HASH_LENGTH = 128;
/** Server objects nested deeper than this are dropped: storing or rendering them would overflow the stack. */
export const MAX_NESTING = 32;
const TOO_DEEP = `[dropped: nested deeper than ${MAX_NESTING} levels]`;

/** Fields a `result:false` answer may carry its reason in. */
const MESSAGE_FIELDS = ['message', 'error', 'error_message', 'description', 'detail', 'msg', 'reason'] as const;
/**
 * A `result:false` whose message says one of these is about the token (checked on the redacted
 * message). Only words that mean a credential problem: a bare "key"/"ключ" ("ключ события не
 * найден", event key not found), a bare "token" ("Unexpected token < in JSON") or "доступ" are not.
 */
const AUTH_PHRASES: readonly RegExp[] = [
  /\b(?:un|not )authori[sz]ed\b|\bauthenticat|\bforbidden\b|\baccess (?:is )?denied\b/i,
  /\b(?:api|access|secret|auth)[ _-]?(?:key|token)\b/i,
  /\b(?:invalid|wrong|bad|incorrect|expired|missing|empty|no)\s+token\b/i,
  /\btoken\b[^.;,]{0,40}?\b(?:invalid|not valid|wrong|incorrect|expired|missing|required|rejected|not accepted|not found)\b/i,
  /(?:неверн|неправильн|недействительн|некорректн|ошибочн|неизвестн)\S*\s+(?:секретн\S*\s+)?(?:ключ|токен)/i,
  /(?:секретн\S*|api|апи)[\s-]+ключ|ключ\S*\s+(?:доступа|авторизации|api|апи)(?![а-яё])/i,
  /(?:ключ|токен)\S*\s+(?:неверен|недействителен|не\s+подходит|не\s+принят|не\s+указан|отсутствует|истёк|истек|устарел|обязателен|требуется)/i,
  /(?:отсутств\S*|нет|пуст\S*|просрочен\S*)\s+токен/i,
  /авториз|аутентифик|доступ\S*\s+запрещ|запрещ\S*\s+доступ|нет\s+доступа|отказано\s+в\s+доступе/i,
];

/** Is a (redacted) `result:false` message about the token? */
export function soundsLikeAuth(message: string): boolean {
  return AUTH_PHRASES.some((phrase) => phrase.test(message));
}

export function parseEventsAnswer(answer: RawAnswer, secrets: readonly string[] = []): EventsAnswer {
  const { status } = answer;
  const text = decode(answer.body);
  if (status === 401) throw new AuthError('http_401');
  if (status === 403) throw new AuthError('http_403');
  if (status >= 500)
    throw new ServerError(status, text ? snippet(describeBody(text, answer.contentType), secrets) : undefined);
  if (status === 404) {
    throw new BadResponseError(
      'http_status',
      'the server answered HTTP 404 for /api/v4/events: check the URL (host, port, no extra path) — is this the QR-menu server?',
      status,
    );
  }
  if (status < 200 || status >= 300) {
    throw new BadResponseError(
      'http_status',
      `the QR-menu server answered HTTP ${status}${text ? ` ("${snippet(describeBody(text, answer.contentType), secrets)}")` : ''}`,
      status,
    );
  }
  if (text.trim() === '') throw new BadResponseError('empty', 'the QR-menu server answered with an empty body', status);
  if (looksLikeHtml(text, answer.contentType)) {
    throw new BadResponseError(
      'html',
      `the QR-menu server answered with an HTML page ("${snippet(describeBody(text, 'text/html'), secrets)}") instead of JSON: ` +
        'a proxy or a login page may be in the way — check the URL and port',
      status,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const cut = /^\s*[[{]/.test(text) ? ' (it looks cut off)' : '';
    throw new BadResponseError(
      'not_json',
      `the QR-menu server's answer is not JSON${cut}: "${snippet(text, secrets, 80)}"`,
      status,
    );
  }
  // The envelope is all that is strict, so two checks by hand (no schema library in the Lambda).
  if (!isRecord(json) || typeof json.result !== 'boolean') {
    throw new BadResponseError(
      'schema',
      `the QR-menu server's answer has no boolean "result": ${snippet(safeStringify(json), secrets, 120)}`,
      status,
    );
  }
  if (!json.result) {
    const message = failureMessage(json);
    const shown = message ? snippet(message, secrets) : undefined;
    if (message && soundsLikeAuth(redact(message, secrets))) throw new AuthError('result_false', shown);
    throw new BadResponseError(
      'result_false',
      `the QR-menu server answered result:false${shown ? ` ("${shown}")` : ' with no message'}`,
      status,
    );
  }
  const updates = isRecord(json.data) ? json.data.updates : undefined;
  if (!Array.isArray(updates)) {
    throw new BadResponseError('schema', 'the QR-menu server answered result:true without a data.updates list', status);
  }
  const events: QrEvent[] = [];
  const skipped: SkippedEvent[] = [];
  const items = updates as unknown[];
  for (let index = 0; index < items.length; index += 1) {
    const parsed = parseEvent(items[index], secrets);
    // Each server item is let go once its event is made (a redacted copy): a big answer's parsed
    // tree and its events are never all alive at once.
    items[index] = undefined;
    if (typeof parsed === 'string') skipped.push({ index, reason: parsed });
    else events.push(parsed);
  }
  return { events, skipped };
}

/** One element of `updates`: an event with every secret redacted, or the reason it cannot be one. */
export function parseEvent(input: unknown, secrets: readonly string[] = []): QrEvent | string {
  const item = redactDeep(input, secrets);
  if (!isRecord(item)) return `not an object (${item === null ? 'null' : Array.isArray(item) ? 'array' : typeof item})`;
  const hash = usableHash(item.hash);
  if (hash === undefined) return `no usable "hash" (${describeValue(item.hash)})`;
  const placeholders: string[] = [];
  const hasCode = typeof item.code === 'string' && item.code.trim() !== '';
  if (!hasCode) placeholders.push('code');
  const code = hasCode ? (item.code as string).trim() : UNKNOWN_CODE;
  const tableId =
    typeof item.table === 'number' || (typeof item.table === 'string' && item.table !== '') ? item.table : null;
  const repr = isRecord(item.table_repr) ? item.table_repr : undefined;
  const reprName =
    repr && (typeof repr.name === 'string' || typeof repr.name === 'number') ? String(repr.name).trim() : '';
  let tableName = reprName;
  if (tableName === '') {
    placeholders.push('table_repr.name');
    tableName = tableId !== null ? String(tableId) : UNKNOWN_TABLE;
  }
  return {
    hash,
    code,
    tableId,
    tableName,
    invoice: objectOrNull(item.invoice, 'invoice', placeholders),
    order: objectOrNull(item.order, 'order', placeholders),
    raw: Object.fromEntries(
      Object.entries(item).map(([key, value]) => [key, nestedDeeperThan(value, MAX_NESTING) ? TOO_DEEP : value]),
    ),
    placeholders,
  };
}

/**
 * A copy of a JSON value with every secret replaced by `***` in every string, object keys included,
 * at any depth. Iterative (safe on input nested 100,000 deep); keys are defined, never assigned, so
 * a `__proto__` key stays a plain key. Returns the value itself when there is no secret to redact.
 */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (!secrets.some((secret) => secret.length >= 4)) return value;
  const clean = (text: string): string => redact(text, secrets);
  if (typeof value !== 'object' || value === null) return typeof value === 'string' ? clean(value) : value;
  const copyOf = (source: object): Record<string, unknown> | unknown[] => (Array.isArray(source) ? [] : {});
  const root = copyOf(value);
  const stack: [object, Record<string, unknown> | unknown[]][] = [[value, root]];
  while (stack.length > 0) {
    const [source, target] = stack.pop()!;
    for (const [key, child] of Object.entries(source)) {
      let copy: unknown = child;
      if (typeof child === 'string') copy = clean(child);
      else if (typeof child === 'object' && child !== null) {
        copy = copyOf(child);
        stack.push([child, copy as Record<string, unknown> | unknown[]]);
      }
      Object.defineProperty(target, Array.isArray(target) ? key : clean(key), {
        value: copy,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return root;
}

/** Does a JSON value nest deeper than `limit`? Iterative: safe on any input. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '(too deeply nested to show)';
  }
}

function usableHash(value: unknown): string | undefined {
  const text =
    typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
  if (text === '' || text.length > MAX_HASH_LENGTH || text.toLowerCase() === 'none' || /[\s\u0000-\u001f]/.test(text))
    return undefined;
  return text;
}

function objectOrNull(value: unknown, field: string, placeholders: string[]): Readonly<Record<string, unknown>> | null {
  if (value === null || value === undefined) return null;
  if (isRecord(value) && !nestedDeeperThan(value, MAX_NESTING)) return value;
  placeholders.push(field);
  return null;
}

function failureMessage(body: Record<string, unknown>): string | undefined {
  for (const field of MESSAGE_FIELDS) {
    const value = body[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
    if (isRecord(value) && typeof value.message === 'string') return value.message;
  }
  return undefined;
}

function decode(body: Buffer): string {
  return body.toString('utf8').replace(/^\uFEFF/, '');
}

function looksLikeHtml(text: string, contentType: string): boolean {
  return /text\/html/i.test(contentType) || /^\s*</.test(text);
}

/** For an HTML page, its <title> or first heading; otherwise the text itself. */
function describeBody(text: string, contentType: string): string {
  if (!looksLikeHtml(text, contentType)) return text;
  const title = /<title[^>]*>([^<]*)</i.exec(text)?.[1] ?? /<h1[^>]*>([^<]*)</i.exec(text)?.[1];
  return title?.trim() || text.replace(/<[^>]*>/g, ' ');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.trim() === '' ? 'empty' : `"${value.slice(0, 20)}${value.length > 20 ? '…' : ''}"`;
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
