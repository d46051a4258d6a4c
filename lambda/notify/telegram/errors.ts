/**
 * What a failed Bot API call means, in the delivery port's kinds, with a message the operator can
 * act on and never the bot token (every message is passed through `redact`):
 *
 *   throttled   429 Too Many Requests (retryAfterMs from parameters.retry_after)
 *   transient   network errors, timeouts, 5xx, unreadable answers, 409 (another getUpdates or a webhook)
 *   permanent   401/404 (token rejected), 403 (bot blocked, kicked, not a member), 400 (chat not
 *               found, group upgraded: migrateToChatId, bad request)
 *
 * "ambiguous" marks failures after which the message may still have been accepted (a timeout
 * after the request left, a reset mid-answer, a 5xx, an answer that could not be read).
 * Pure: the caller passes whether its own timeout fired. The errors are bot-api.ts's.
 */
import { BotApiError, BotApiHttpError } from './bot-api';
import type { DeliveryErrorKind } from '../../domain/delivery';
import { redact } from '../../qrmenu/errors';

export interface TelegramFailure {
  readonly kind: DeliveryErrorKind;
  readonly message: string;
  /** The request may have been accepted even so: a retry may send the message twice. */
  readonly ambiguous?: true;
  /** 429: how long Telegram asked to wait. */
  readonly retryAfterMs?: number;
  /** 400 after a group became a supergroup: its new id. */
  readonly migrateToChatId?: number;
  /** Telegram's error code when it answered with one. */
  readonly errorCode?: number;
  /** What the failure is about, for callers that react to it (the setup command, the poller). */
  readonly reason?: 'token' | 'chat' | 'conflict' | 'throttled' | 'network' | 'timeout' | 'server' | 'request';
}

/** A classified failure, thrown by calls that have no per-chat result (getUpdates, getMe). */
export class TelegramError extends Error {
  override readonly name = 'TelegramError';
  constructor(readonly failure: TelegramFailure) {
    super(failure.message);
  }
  get kind(): DeliveryErrorKind {
    return this.failure.kind;
  }
}

export interface CallContext {
  /** The Bot API method ("sendMessage"). */
  readonly method: string;
  /** The chat the call was for, shown in messages. */
  readonly chatId?: number | string;
  /** Our own request timeout fired. */
  readonly timedOut?: boolean;
  readonly timeoutMs?: number;
  /** Strings that must never appear in a message (the token). */
  readonly secrets: readonly string[];
}

/** Longest wait taken from a 429 (a larger retry_after is clipped to it). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** Methods whose effect a lost answer leaves in doubt. */
const CHANGING_METHODS = new Set(['sendMessage', 'editMessageText', 'editMessageReplyMarkup', 'answerCallbackQuery']);

/** Network error codes that mean the request never reached Telegram. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function classifyTelegramError(error: unknown, context: CallContext): TelegramFailure {
  const clean = (text: string): string => redact(text, context.secrets);
  const chat = context.chatId !== undefined ? ` for chat ${context.chatId}` : '';
  const what = `Telegram ${context.method}${chat}`;
  const maybe = CHANGING_METHODS.has(context.method) ? '; it may have been done all the same' : '';
  if (error instanceof BotApiError) return fromApiError(error, what, maybe, clean);
  if (context.timedOut) {
    return {
      kind: 'transient',
      reason: 'timeout',
      ambiguous: true,
      message: `${what}: no answer within ${context.timeoutMs ?? '?'} ms${maybe}`,
    };
  }
  const inner = error instanceof BotApiHttpError && error.cause !== undefined ? error.cause : error;
  const code = errorCode(inner);
  const detail = clean(snippet(inner instanceof Error ? inner.message : String(inner)));
  if (code !== undefined && NOT_SENT.has(code)) {
    return {
      kind: 'transient',
      reason: 'network',
      message: `${what}: cannot reach the Bot API (${code}). Check the network path to api.telegram.org (or the configured apiRoot)`,
    };
  }
  if (isUnreadable(error)) {
    return {
      kind: 'transient',
      reason: 'server',
      ambiguous: true,
      message: `${what}: the answer could not be read (${detail})${maybe}`,
    };
  }
  return {
    kind: 'transient',
    reason: 'network',
    ambiguous: true,
    message: `${what}: network error${code ? ` ${code}` : ''} (${detail})${maybe}`,
  };
}

function fromApiError(
  error: BotApiError,
  what: string,
  maybe: string,
  clean: (text: string) => string,
): TelegramFailure {
  const code = error.errorCode;
  const description = clean(snippet(error.description));
  const said = `${code ?? 'error'}: ${description || 'no description'}`;
  const base = code !== undefined ? { errorCode: code } : {};
  if (code === 429) {
    const seconds = Number(error.parameters?.retry_after);
    const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000);
    return {
      ...base,
      kind: 'throttled',
      reason: 'throttled',
      retryAfterMs,
      message: `${what}: too many requests (${said}); waiting ${retryAfterMs / 1000} s`,
    };
  }
  if (code === 401 || code === 404) {
    return {
      ...base,
      kind: 'permanent',
      reason: 'token',
      message: `${what}: Telegram rejected the bot token (${said}). Put the token @BotFather gave you into the bot's secret`,
    };
  }
  if (code === 403) {
    return {
      ...base,
      kind: 'permanent',
      reason: 'chat',
      message: `${what}: the bot may not write there (${said}). Add the bot to that chat again (or unblock it), then check the id with npm run telegram:chats`,
    };
  }
  const migrate = Number(error.parameters?.migrate_to_chat_id);
  if (code === 400 && Number.isSafeInteger(migrate) && migrate !== 0) {
    return {
      ...base,
      kind: 'permanent',
      reason: 'chat',
      migrateToChatId: migrate,
      message: `${what}: the group became a supergroup with the id ${migrate} (${said}). Replace the chat id in the config`,
    };
  }
  if (code === 400 && /chat not found/i.test(description)) {
    return {
      ...base,
      kind: 'permanent',
      reason: 'chat',
      message: `${what}: no such chat for this bot (${said}). The bot must be a member; find the id with npm run telegram:chats`,
    };
  }
  if (code === 409) {
    return {
      ...base,
      kind: 'transient',
      reason: 'conflict',
      message: `${what}: conflict (${said}). Another poller is reading this bot's updates, or a webhook is set (deleteWebhook removes it)`,
    };
  }
  if (code !== undefined && code >= 400 && code < 500) {
    return { ...base, kind: 'permanent', reason: 'request', message: `${what} was refused (${said})` };
  }
  return {
    ...base,
    kind: 'transient',
    reason: 'server',
    ambiguous: true,
    message: `${what}: the Bot API failed (${said})${maybe}`,
  };
}

function errorCode(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/** An answer came but was not a Bot API answer (not JSON, no `ok`, too large). */
function isUnreadable(error: unknown): boolean {
  return error instanceof BotApiHttpError && error.unreadable;
}

function snippet(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
