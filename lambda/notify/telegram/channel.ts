/**
 * The Telegram channel: sends an alert to a route's chats (with an "Иду" / "On my way" button for
 * calls that need someone to come), edits a message once the call is acknowledged, answers
 * presses, and reads presses and chats through getUpdates. Speaks the Bot API through our small
 * client on Node's own fetch (bot-api.ts), with a configurable `apiRoot` (the emulator locally).
 *
 * Like the deliverer, it never throws for a delivery problem: each chat gets a result, sent
 * (message id), failed (kind as in port.ts, "ambiguous" when it may have gone anyway) or deferred
 * (pacing would start it after the caller's deadline: not attempted). Chats done on an earlier
 * attempt are passed in and skipped. The token never appears in a result or message.
 */
import { BotApi, BotApiError, type BotApiTransformer } from './bot-api';
import { redact } from '../../qrmenu/errors';
import { registerSecret } from '../../obs/telemetry';
import type { DeliveryErrorKind } from '../../domain/delivery';
import type { Locale } from '../../core/texts';
import { encodeAckData } from './callback-data';
import { classifyTelegramError, TelegramError, type TelegramFailure } from './errors';
import { type PacerClock, realPacerClock } from '../pacing/turns';
import { Pacer } from './pacer';
import { DEFAULT_PACING, pacedChat, type PacingLimits } from './pacing';
import {
  ackButtonLabel,
  PRESS_ANSWER_MAX,
  renderTelegramAck,
  renderTelegramAlert,
  type AckInput,
  type TelegramAlertInput,
} from './texts';
import { parseUpdates, PRESS_UPDATES, type ParsedUpdates } from './updates';
import { clip } from '../../core/sms';

/** A chat as routes name it: a numeric id (groups are negative) or a public "@channel" name. */
export type TelegramChatId = number | string;

/** Codes that get the button by default: somebody has to come to the table. */
export const DEFAULT_ACKNOWLEDGE_CODES: readonly string[] = ['waiter_call', 'waiter_call_cash', 'bill_request'];

export const TELEGRAM_DEFAULTS = {
  apiRoot: 'https://api.telegram.org',
  /** One Bot API request (send, edit, answer), all of it. */
  requestTimeoutMs: 5_000,
  /** Retries after a 429 within one call, when the wait still ends before the deadline. */
  maxThrottleRetries: 2,
} as const;

export interface TelegramChannelOptions {
  /** The bot token, or a function returning the current one (see token.ts). */
  readonly token: string | (() => Promise<string>);
  /** Default https://api.telegram.org; the emulator's endpoint locally. No trailing "/". */
  readonly apiRoot?: string;
  /** Language of every text. Default 'ru'. */
  readonly locale?: Locale;
  /** IANA zone of the time shown. Default 'Europe/Moscow'. */
  readonly timeZone?: string;
  /** Event codes whose message carries the acknowledgement button. Default {@link DEFAULT_ACKNOWLEDGE_CODES}. */
  readonly acknowledgeCodes?: readonly string[];
  /** Default: the real clock. Pacing sleeps and deadlines use it. */
  readonly clock?: PacerClock;
  readonly pacing?: Partial<PacingLimits>;
  /** Default {@link TELEGRAM_DEFAULTS}.requestTimeoutMs. */
  readonly requestTimeoutMs?: number;
  /** Default {@link TELEGRAM_DEFAULTS}.maxThrottleRetries. */
  readonly maxThrottleRetries?: number;
  /** The fetch the client uses. Default: the platform's (Node's built-in fetch). */
  readonly fetch?: typeof fetch;
  /** Wrappers of every Bot API request, outermost last (tests record each call's time with one). */
  readonly transformers?: readonly BotApiTransformer[];
}

export interface TelegramSendRequest {
  readonly alert: TelegramAlertInput;
  /** The chats of every route that matched (duplicates are sent once). */
  readonly chats: readonly TelegramChatId[];
  /** Chats that got this alert on an earlier attempt: not sent again, not in the result. */
  readonly done?: readonly TelegramChatId[];
  /** Force the button on or off; default: whether the code is one of `acknowledgeCodes`. */
  readonly acknowledge?: boolean;
  /** Latest start of a send (epoch ms on the channel's clock); later ones come back deferred. */
  readonly deadline?: number;
  /** What the button names (the event's record id; default its hash): a press is matched to it. */
  readonly recordId?: string;
}

export interface TelegramSent {
  readonly status: 'sent';
  readonly ok: true;
  readonly chatId: TelegramChatId;
  readonly messageId: number;
  /** Whether the message carries the button. */
  readonly acknowledgeable: boolean;
  /** The group had become a supergroup: sent to this id instead. Tell the operator to update the config. */
  readonly migratedTo?: number;
}

export interface TelegramFailed extends TelegramFailure {
  readonly status: 'failed';
  readonly ok: false;
  readonly chatId: TelegramChatId;
}

export interface TelegramDeferred {
  readonly status: 'deferred';
  readonly ok: false;
  readonly chatId: TelegramChatId;
  /** Not attempted: pacing would have started it at this time, after the deadline. */
  readonly notBefore: number;
}

export type TelegramChatResult = TelegramSent | TelegramFailed | TelegramDeferred;

export interface TelegramSendResult {
  /** One per chat not in `done`, in the order of `chats`. */
  readonly chats: readonly TelegramChatResult[];
}

export type TelegramEditResult =
  | { readonly status: 'edited'; readonly ok: true; readonly alreadyEdited?: true }
  | (TelegramFailure & { readonly status: 'failed'; readonly ok: false })
  | { readonly status: 'deferred'; readonly ok: false; readonly notBefore: number };

export type TelegramAnswerResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: DeliveryErrorKind; readonly message: string };

export interface GetUpdatesOptions {
  /** Update types to receive (Telegram remembers the last list given). Default: callback queries only. */
  readonly allowedUpdates?: readonly string[];
  /** 1–100, default 100. */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

export interface BotIdentity {
  readonly id: number;
  readonly username?: string;
  readonly firstName: string;
}

export class TelegramChannel {
  private readonly clock: PacerClock;
  private readonly pacer: Pacer;
  private readonly acknowledgeCodes: ReadonlySet<string>;
  private readonly requestTimeoutMs: number;
  private readonly maxThrottleRetries: number;
  private api: { token: string; api: BotApi } | undefined;

  constructor(private readonly options: TelegramChannelOptions) {
    this.clock = options.clock ?? realPacerClock;
    this.pacer = new Pacer(this.clock, { ...DEFAULT_PACING, ...options.pacing });
    this.acknowledgeCodes = new Set(options.acknowledgeCodes ?? DEFAULT_ACKNOWLEDGE_CODES);
    this.requestTimeoutMs = options.requestTimeoutMs ?? TELEGRAM_DEFAULTS.requestTimeoutMs;
    this.maxThrottleRetries = options.maxThrottleRetries ?? TELEGRAM_DEFAULTS.maxThrottleRetries;
    if (typeof options.token === 'string') registerSecret(options.token);
  }

  /** Whether an alert of this code carries the button (unless the request says otherwise). */
  acknowledges(code: string): boolean {
    return this.acknowledgeCodes.has(code);
  }

  /** Send the alert to every chat not yet done, paced; never throws for a delivery problem. */
  async send(request: TelegramSendRequest): Promise<TelegramSendResult> {
    const done = new Set((request.done ?? []).map(String));
    const seen = new Set<string>();
    const chats = request.chats.filter((chat) => {
      const key = String(chat);
      if (done.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (chats.length === 0) return { chats: [] };
    const acknowledgeable = request.acknowledge ?? this.acknowledges(request.alert.event.code);
    const text = renderTelegramAlert(request.alert, this.textOptions());
    const replyMarkup = acknowledgeable
      ? {
          inline_keyboard: [
            [
              {
                text: ackButtonLabel(this.options.locale),
                callback_data: encodeAckData(request.alert.sourceId, request.recordId ?? request.alert.event.hash),
              },
            ],
          ],
        }
      : undefined;
    let api: { token: string; api: BotApi };
    try {
      api = await this.currentApi();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        chats: chats.map((chatId) => ({
          status: 'failed',
          ok: false,
          chatId,
          kind: 'permanent',
          reason: 'token',
          message,
        })),
      };
    }
    const results = await Promise.all(
      chats.map((chatId) => this.sendOne(api, chatId, text, replyMarkup, acknowledgeable, request.deadline)),
    );
    return { chats: results };
  }

  private async sendOne(
    { api, token }: { token: string; api: BotApi },
    chatId: TelegramChatId,
    text: string,
    replyMarkup: { inline_keyboard: { text: string; callback_data: string }[][] } | undefined,
    acknowledgeable: boolean,
    deadline: number | undefined,
  ): Promise<TelegramChatResult> {
    let target = chatId;
    let migratedTo: number | undefined;
    for (let throttles = 0; ; ) {
      const outcome = await this.paced(target, deadline, (signal) =>
        api.call(
          'sendMessage',
          {
            chat_id: target,
            text,
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
            ...(replyMarkup && { reply_markup: replyMarkup }),
          },
          signal,
        ),
      );
      if ('notBefore' in outcome) return { status: 'deferred', ok: false, chatId, notBefore: outcome.notBefore };
      const result = this.settle(outcome, 'sendMessage', target, token);
      if (result.ok) {
        const messageId = Number((result.value as { message_id?: unknown } | null)?.message_id);
        if (!Number.isSafeInteger(messageId)) {
          return {
            status: 'failed',
            ok: false,
            chatId,
            kind: 'transient',
            reason: 'server',
            ambiguous: true,
            message: `Telegram sendMessage for chat ${target}: the answer carried no message id; it may have been sent all the same`,
          };
        }
        return { status: 'sent', ok: true, chatId, messageId, acknowledgeable, ...(migratedTo && { migratedTo }) };
      }
      const { failure } = result;
      if (failure.migrateToChatId !== undefined && migratedTo === undefined) {
        migratedTo = failure.migrateToChatId;
        target = migratedTo;
        continue;
      }
      if (failure.kind === 'throttled' && throttles < this.maxThrottleRetries) {
        throttles += 1;
        const waitEnds = this.clock.now() + (failure.retryAfterMs ?? 1_000);
        if (deadline === undefined || waitEnds <= deadline) continue;
      }
      return { status: 'failed', ok: false, chatId, ...failure };
    }
  }

  /**
   * Show the acknowledgement in place of the alert ("✅ Стол 6 — Иван, 0:42") and remove the
   * button. An edit that changes nothing (done before) counts as done.
   */
  async markAcknowledged(
    chatId: TelegramChatId,
    messageId: number,
    ack: AckInput,
    options: { readonly deadline?: number } = {},
  ): Promise<TelegramEditResult> {
    let api: { token: string; api: BotApi };
    try {
      api = await this.currentApi();
    } catch (error) {
      return { status: 'failed', ok: false, kind: 'permanent', reason: 'token', message: (error as Error).message };
    }
    const text = renderTelegramAck(ack, this.textOptions());
    for (let throttles = 0; ; ) {
      const outcome = await this.paced(chatId, options.deadline, (signal) =>
        api.api.call(
          'editMessageText',
          {
            chat_id: chatId,
            message_id: messageId,
            text,
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
            reply_markup: { inline_keyboard: [] },
          },
          signal,
        ),
      );
      if ('notBefore' in outcome) return { status: 'deferred', ok: false, notBefore: outcome.notBefore };
      const result = this.settle(outcome, 'editMessageText', chatId, api.token);
      if (result.ok) return { status: 'edited', ok: true };
      const { failure } = result;
      if (failure.errorCode === 400 && /message is not modified/i.test(failure.message))
        return { status: 'edited', ok: true, alreadyEdited: true };
      if (failure.kind === 'throttled' && throttles < this.maxThrottleRetries) {
        throttles += 1;
        const waitEnds = this.clock.now() + (failure.retryAfterMs ?? 1_000);
        if (options.deadline === undefined || waitEnds <= options.deadline) continue;
      }
      return { status: 'failed', ok: false, ...failure };
    }
  }

  /** Answer a press (the small notice the presser sees). Not paced: Telegram wants it within seconds. */
  async answerPress(
    callbackQueryId: string,
    text: string,
    options: { readonly showAlert?: boolean } = {},
  ): Promise<TelegramAnswerResult> {
    try {
      const { api, token } = await this.currentApi();
      const outcome = await this.call((signal) =>
        api.call(
          'answerCallbackQuery',
          {
            callback_query_id: callbackQueryId,
            text: clip(text, PRESS_ANSWER_MAX),
            ...(options.showAlert && { show_alert: true }),
          },
          signal,
        ),
      );
      const result = this.settle(outcome, 'answerCallbackQuery', undefined, token);
      return result.ok ? { ok: true } : { ok: false, kind: result.failure.kind, message: result.failure.message };
    } catch (error) {
      return { ok: false, kind: 'permanent', message: (error as Error).message };
    }
  }

  /**
   * One long poll: waits up to `timeoutSeconds` for updates from `offset` on (which confirms every
   * update before it), and returns the presses and chats found. Throws {@link TelegramError}.
   */
  async getUpdates(
    offset: number | undefined,
    timeoutSeconds: number,
    options: GetUpdatesOptions = {},
  ): Promise<ParsedUpdates> {
    const { api, token } = await this.currentApiOrThrow();
    const timeout = Math.max(0, Math.floor(timeoutSeconds));
    const outcome = await this.call(
      (signal) =>
        api.call(
          'getUpdates',
          {
            ...(offset !== undefined && { offset }),
            timeout,
            limit: options.limit ?? 100,
            allowed_updates: [...(options.allowedUpdates ?? PRESS_UPDATES)] as never,
          },
          signal,
        ),
      this.requestTimeoutMs + timeout * 1_000,
      options.signal,
    );
    const result = this.settle(outcome, 'getUpdates', undefined, token);
    if (!result.ok) throw new TelegramError(result.failure);
    return parseUpdates(result.value, this.clock.now());
  }

  /** Who the bot is (getMe): also the cheapest check that the token works. Throws {@link TelegramError}. */
  async getMe(): Promise<BotIdentity> {
    const { api, token } = await this.currentApiOrThrow();
    const result = this.settle(await this.call((signal) => api.call('getMe', {}, signal)), 'getMe', undefined, token);
    if (!result.ok) throw new TelegramError(result.failure);
    const me = result.value as { id: number; username?: string; first_name?: string };
    return { id: me.id, firstName: me.first_name ?? '', ...(me.username && { username: me.username }) };
  }

  private textOptions() {
    return {
      ...(this.options.locale && { locale: this.options.locale }),
      ...(this.options.timeZone && { timeZone: this.options.timeZone }),
    };
  }

  private async paced<T>(
    chatId: TelegramChatId,
    deadline: number | undefined,
    request: (signal: AbortSignal) => Promise<T>,
  ): Promise<CallOutcome<T> | { notBefore: number }> {
    const chat = pacedChat(chatId);
    const turn = await this.pacer.turn(chat, deadline);
    if (!turn.go) return { notBefore: turn.notBefore };
    const outcome = await this.call(request);
    if (!outcome.ok && outcome.error instanceof BotApiError && outcome.error.errorCode === 429) {
      const seconds = Number(outcome.error.parameters.retry_after);
      this.pacer.throttled(chat, Number.isFinite(seconds) && seconds > 0 ? seconds * 1_000 : 1_000);
    }
    return outcome;
  }

  /** One request with our own timeout (and the caller's signal). */
  private async call<T>(
    request: (signal: AbortSignal) => Promise<T>,
    timeoutMs = this.requestTimeoutMs,
    outer?: AbortSignal,
  ): Promise<CallOutcome<T>> {
    const timer = AbortSignal.timeout(timeoutMs);
    const signal = outer ? AbortSignal.any([timer, outer]) : timer;
    try {
      return { ok: true, value: await request(signal) };
    } catch (error) {
      return { ok: false, error, timedOut: timer.aborted, timeoutMs };
    }
  }

  private settle<T>(
    outcome: CallOutcome<T>,
    method: string,
    chatId: TelegramChatId | undefined,
    token: string,
  ): { ok: true; value: T } | { ok: false; failure: TelegramFailure } {
    if (outcome.ok) return outcome;
    const failure = classifyTelegramError(outcome.error, {
      method,
      ...(chatId !== undefined && { chatId }),
      timedOut: outcome.timedOut,
      timeoutMs: outcome.timeoutMs,
      secrets: [token],
    });
    return { ok: false, failure: { ...failure, message: redact(failure.message, [token]) } };
  }

  private async currentApiOrThrow(): Promise<{ token: string; api: BotApi }> {
    try {
      return await this.currentApi();
    } catch (error) {
      throw new TelegramError({ kind: 'permanent', reason: 'token', message: (error as Error).message });
    }
  }

  /** The client for the current token (a changed secret gives a new one). */
  private async currentApi(): Promise<{ token: string; api: BotApi }> {
    const token = typeof this.options.token === 'string' ? this.options.token : await this.options.token();
    registerSecret(token);
    if (this.api?.token !== token) {
      const api = new BotApi(token, {
        apiRoot: this.options.apiRoot ?? TELEGRAM_DEFAULTS.apiRoot,
        ...(this.options.fetch && { fetch: this.options.fetch }),
        ...(this.options.transformers && { transformers: this.options.transformers }),
      });
      this.api = { token, api };
    }
    return this.api;
  }
}

type CallOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown; readonly timedOut: boolean; readonly timeoutMs: number };
