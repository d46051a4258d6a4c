/**
 * The Deliverer (port.ts) over SES and SNS: for one event, the `email` channel (when routes give
 * it e-mail recipients) and the `sns` channel (one publish per event whenever a topic is
 * configured: SMS routing happens inside SNS by filter policy, and integrators subscribe too),
 * both at the same time. Channels listed in `request.skip` are not sent again.
 *
 * It never throws: every problem, a rendering bug included, becomes a `ChannelResult` with a
 * kind (errors.ts), flagged `ambiguous` when the send may have happened anyway. Results list the
 * recipients (e-mail addresses; for sns the topic ARN) and the message ids.
 *
 * It remembers, for `refusedTtlMs` (an hour), the e-mail addresses SES refused (unverified in
 * the sandbox): later events skip them without a failing call, and every ok e-mail result lists
 * the addresses it left out in `refused`.
 *
 * Both channels are paced to the account's quotas (`delivery.sesPerSecond`, `delivery.snsPerSecond`):
 * one pacer per channel, shared by every delivery of the deliverer (of an invocation, in Lambda).
 * With one shard it is a SendPacer at the whole quota. With several and `sendSlots` (the state
 * table) a SharedSendPacer: half of each quota split evenly among the shards (when that is at
 * least one a second each), the rest a pool in the table any shard draws from: a burst in one
 * restaurant gets the pool and its own share when the others are quiet, and a send its own share
 * has room for writes nothing. A send that must wait longer than its
 * request's deadline allows (with its whole budget left) is not attempted: it comes back
 * `deferred` with the instant it may go, and the poller sends it on a later tick.
 */
import type { AlertsConfig } from '../config/schema';
import { renderEmail } from '../core/email';
import { renderSnsMessage, renderSnsSubject } from '../core/sns-message';
import type { AlertInput, RenderOptions } from '../core/texts';
import { isOpen, type OpeningHours, parseOpeningHours } from '../core/hours';
import {
  emailsOf,
  escalationSteps,
  pagingRoutes,
  snsAttributes,
  telegramChats,
  type RoutingFacts,
} from '../core/routing';
import type { Route, TelegramChatId } from '../domain/routes';
import type { TelegramChannel, TelegramChatResult } from './telegram';
import { DeliveryError } from './errors';
import {
  type AttendancePlan,
  type Channel,
  type ChannelResult,
  type Deliverer,
  type DeliveryErrorKind,
  type DeliveryRequest,
  type DeliveryResult,
  isTelegramChannel,
  NO_ATTENDANCE,
  type RefusedRecipient,
  telegramChannel,
} from '../domain/delivery';
import { createSesClient, type SesClient, sendAlertEmail } from './ses';
import { createSnsClient, maxMessageBytes, publishAlert, type SnsClient } from './sns';
import { CLIENT_DEFAULTS } from '../aws/clients';
import type { SendEndpointOptions } from '../aws/query-call';
import type { QuotaService, SendSlotStore } from '../domain/ports';
import { shardCount } from '../config/shards';
import { SendPacer } from './pacing/send-pacer';
import { SHARED_PACING, SharedSendPacer } from './pacing/shared-pacer';
import { type PacerClock, realPacerClock } from './pacing/turns';
import { leastBurstMs } from '../core/send-rate';

export interface DelivererOptions {
  readonly config: AlertsConfig;
  /** The alerts topic. Default: none, and the sns channel is never attempted. */
  readonly topicArn?: string;
  /** Default: `createSesClient(clientOptions)`, made on first use. */
  readonly ses?: SesClient;
  /** Default: `createSnsClient(clientOptions)`, made on first use. */
  readonly sns?: SnsClient;
  /** Clock: how long refused addresses are remembered, and a request's invalid `firstSeenAt`. Default `Date.now`. */
  readonly now?: () => number;
  /** Settings of the clients this deliverer creates (ignored for clients passed in): one attempt per call. */
  readonly clientOptions?: SendEndpointOptions;
  /** Budget of one channel's sends together. Default 10 s (`CLIENT_DEFAULTS.sendTimeoutMs`). */
  readonly sendTimeoutMs?: number;
  /** How long an address SES refused is left out of later e-mails. Default {@link REFUSED_TTL_MS} (1 h). */
  readonly refusedTtlMs?: number;
  /** The Telegram bot, when the config has one; routes' chats are sent through it. */
  readonly telegram?: Pick<TelegramChannel, 'send'>;
  /** The clock SES and SNS sends are paced on (the poller's: deadlines are in its time). Default: real time, `now`. */
  readonly clock?: PacerClock;
  /**
   * Where the shards keep each quota's pool (the state table). With more than one shard, the
   * quotas are then paced for all shards together (own shares and a pool). Default: none, each
   * shard paces to its equal share.
   */
  readonly sendSlots?: SendSlotStore;
  /** Told (a warning for the logs) when shared pacing falls back to the shard's share, and why. */
  readonly onPacingFallback?: (message: string) => void;
}

/** Default of {@link DelivererOptions.refusedTtlMs}: an hour, long enough to stop a failing call per event. */
export const REFUSED_TTL_MS = 3_600_000;

type QuotaConfig = Pick<AlertsConfig, 'delivery' | 'sources' | 'polling'>;

/**
 * What one shard's invocation may send per second: its equal share of the account's quotas, or,
 * with `shared` pacing (several shards and the state table), its own share and the whole pool
 * while the other shards are quiet (with one shard: the whole quota either way).
 */
export function quotaShare(
  config: QuotaConfig,
  options: { readonly shared?: boolean } = {},
): {
  readonly ses: number;
  readonly sns: number;
} {
  const shards = shardCount(config);
  const of = (quota: number) => {
    if (shards === 1 || !options.shared) return quota / shards;
    const { own, pool } = sharedParts(quota, shards);
    return own + pool;
  };
  return { ses: of(config.delivery.sesPerSecond), sns: of(config.delivery.snsPerSecond) };
}

/**
 * How shared pacing splits a quota: `poolShare` of it in the pool, the rest split evenly among the
 * shards, when that gives each at least one unit a second (a smaller share could not send a
 * whole e-mail in a second of its own); else all of it in the pool and no own share.
 */
export function sharedParts(quota: number, shards: number): { readonly own: number; readonly pool: number } {
  const own = (quota * (1 - SHARED_PACING.poolShare)) / shards;
  return own >= 1 ? { own, pool: quota * SHARED_PACING.poolShare } : { own: 0, pool: quota };
}

/**
 * The least time a burst from one source can take under its shard's share of the quotas: the
 * first send to the last, by the pacing rule (core/send-rate.ts). 1,000 calls each e-mailing one
 * recipient at 14/s: ≥ 71 s. The bench reports a burst's time against this, not against the
 * emulators' speed.
 */
export function quotaBoundBurstMs(
  config: QuotaConfig,
  burst: { readonly emailRecipients: number; readonly smsMessages: number },
  options: { readonly shared?: boolean } = {},
): number {
  const share = quotaShare(config, options);
  return Math.max(leastBurstMs(burst.emailRecipients, share.ses), leastBurstMs(burst.smsMessages, share.sns));
}

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { config, topicArn } = options;
  const now = options.now ?? options.clock?.now ?? Date.now;
  const pacerClock: PacerClock = options.clock ?? { now, sleep: realPacerClock.sleep };
  const share = quotaShare(config);
  const shards = shardCount(config);
  const pacerOf = (service: QuotaService) => {
    if (options.sendSlots === undefined || shards === 1) {
      const alone = new SendPacer(pacerClock, share[service]);
      return { pacer: alone, scope: () => `${round(alone.perSecond)}/s for this invocation` };
    }
    const quota = service === 'ses' ? config.delivery.sesPerSecond : config.delivery.snsPerSecond;
    const parts = sharedParts(quota, shards);
    // With no own share, the equal share is what it paces to while the pool cannot be used.
    const own = new SendPacer(pacerClock, parts.own > 0 ? parts.own : share[service]);
    const shared = new SharedSendPacer({
      clock: pacerClock,
      service,
      perSecond: parts.pool,
      ownShare: parts.own > 0,
      store: options.sendSlots,
      own,
      ...(options.onPacingFallback && { onFallback: options.onPacingFallback }),
    });
    const scope = () =>
      shared.fallingBack
        ? `${round(own.perSecond)}/s, this shard's share while the shared pool cannot be used`
        : `${parts.own > 0 ? `${round(parts.own)}/s of this shard's own and ` : ''}a pool of ${round(parts.pool)}/s for every shard`;
    return { pacer: shared, scope };
  };
  const pacers = { ses: pacerOf('ses'), sns: pacerOf('sns') };
  const budgetMs = options.sendTimeoutMs ?? CLIENT_DEFAULTS.sendTimeoutMs;
  /** Wait for a channel's turn; a deferred result when it cannot start with its whole budget before `deadline`. */
  async function paced(channel: 'email' | 'sns', cost: number, deadline: number | undefined) {
    const service = channel === 'email' ? 'ses' : 'sns';
    const { pacer, scope } = pacers[service];
    const turn = await pacer.turn(cost, deadline === undefined ? undefined : deadline - budgetMs);
    if (turn.go) return undefined;
    return {
      channel,
      ok: false as const,
      kind: 'throttled' as const,
      message: `paced to the ${service === 'ses' ? 'SES send rate' : 'SMS rate'} (${scope()}): due at ${new Date(turn.notBefore).toISOString()}`,
      deferred: true as const,
      retryAt: turn.notBefore,
    };
  }
  const render: RenderOptions = { locale: config.locale, timeZone: config.timeZone };
  let ses = options.ses;
  let sns = options.sns;
  const timeout = options.sendTimeoutMs !== undefined ? { timeoutMs: options.sendTimeoutMs } : {};
  const refusedTtlMs = options.refusedTtlMs ?? REFUSED_TTL_MS;
  /** Addresses SES refused, by lower-cased address, until when. */
  const refusals = new Map<string, RefusedRecipient & { readonly until: number }>();

  async function email(input: AlertInput, recipients: readonly string[], deadline?: number): Promise<ChannelResult> {
    if (config.email === undefined) {
      return fail(
        'email',
        'permanent',
        'routes send e-mail but email.from is not configured: set it to a verified SES sender',
      );
    }
    const rendered = attempt('email', () => renderEmail(input, render));
    if (rendered instanceof DeliveryError) return failed(rendered);
    const at = now();
    const known = (address: string) => {
      const refusal = refusals.get(address.toLowerCase());
      return refusal !== undefined && refusal.until > at ? refusal : undefined;
    };
    const skipped = recipients.flatMap((address) => {
      const refusal = known(address);
      return refusal ? [{ address, reason: refusal.reason }] : [];
    });
    const wanted = recipients.filter((address) => known(address) === undefined);
    let sent = { recipients: [] as readonly string[], messageIds: [] as readonly string[], refused: skipped };
    if (wanted.length > 0) {
      // SES counts every recipient against its send rate.
      const deferred = await paced('email', wanted.length, deadline);
      if (deferred) return deferred;
      ses ??= createSesClient(options.clientOptions);
      const result = await sendAlertEmail({
        client: ses,
        from: config.email.from,
        ...(config.email.replyTo && { replyTo: config.email.replyTo }),
        recipients: wanted,
        email: rendered,
        ...timeout,
      });
      for (const refusal of result.refused) {
        refusals.set(refusal.address.toLowerCase(), { ...refusal, until: at + refusedTtlMs });
      }
      sent = { ...result, refused: [...skipped, ...result.refused.map((r) => ({ ...r, fresh: true as const }))] };
    }
    if (sent.recipients.length === 0) {
      return fail(
        'email',
        'permanent',
        `no e-mail sent: SES refuses every recipient (${sent.refused.map((r) => r.address).join(', ')}): ` +
          [...new Set(sent.refused.map((r) => r.reason))].join('; '),
      );
    }
    return {
      channel: 'email',
      ok: true,
      recipients: sent.recipients,
      messageIds: sent.messageIds,
      ...(sent.refused.length > 0 && { refused: sent.refused }),
    };
  }

  async function publish(
    input: AlertInput,
    facts: RoutingFacts,
    arn: string,
    routes: readonly Route[],
    phase: number,
    deadline?: number,
  ): Promise<ChannelResult> {
    const prepared = attempt('sns', () => {
      const attributes = snsAttributes(facts, config, routes, phase);
      const message = renderSnsMessage(input, { ...render, maxBytes: maxMessageBytes(attributes) });
      return { attributes, message, subject: renderSnsSubject(input, render) };
    });
    if (prepared instanceof DeliveryError) return failed(prepared);
    // Each phone the routes' filter policies hand it to is one SMS against the account's rate.
    const deferred = await paced('sns', new Set(routes.flatMap((route) => route.sms)).size, deadline);
    if (deferred) return deferred;
    sns ??= createSnsClient(options.clientOptions);
    const { messageId } = await publishAlert({
      client: sns,
      topicArn: arn,
      message: prepared.message,
      attributes: prepared.attributes,
      ...(prepared.subject !== undefined && { subject: prepared.subject }),
      ...timeout,
    });
    return { channel: 'sns', ok: true, recipients: [arn], messageIds: [messageId] };
  }

  const hours = new Map<string, OpeningHours>(
    config.sources.flatMap((source) =>
      source.openingHours ? [[source.id, parseOpeningHours(source.openingHours)]] : [],
    ),
  );
  const acknowledgeCodes = new Set(config.telegram?.acknowledgeCodes ?? []);

  /** The routes that page for an event in its phase: opening hours at its first sighting, escalation target. */
  function paging(request: Pick<DeliveryRequest, 'sourceId' | 'event' | 'firstSeenAt'>, phase: number): Route[] {
    const facts: RoutingFacts = {
      sourceId: request.sourceId,
      code: request.event.code,
      tableName: request.event.tableName,
    };
    const sourceHours = hours.get(request.sourceId);
    const open = sourceHours === undefined || isOpen(sourceHours, request.firstSeenAt, config.timeZone);
    return pagingRoutes(config, facts, open, phase);
  }

  function attendance(request: Pick<DeliveryRequest, 'sourceId' | 'event' | 'firstSeenAt'>): AttendancePlan {
    if (!acknowledgeCodes.has(request.event.code)) return NO_ATTENDANCE;
    const routes = paging(request, 0);
    if (telegramChats(routes).length === 0) return NO_ATTENDANCE; // nobody could press the button
    return {
      needsAck: true,
      escalateAt: escalationSteps(routes).map((step) => request.firstSeenAt + step.afterSeconds * 1000),
    };
  }

  async function telegramSends(
    input: AlertInput,
    chats: readonly TelegramChatId[],
    done: readonly TelegramChatId[],
    request: DeliveryRequest,
    acknowledge: boolean,
  ): Promise<ChannelResult[]> {
    const wanted = chats.filter((chat) => !done.some((d) => String(d) === String(chat)));
    if (wanted.length === 0) return [];
    if (options.telegram === undefined) {
      return wanted.map((chat) =>
        fail(
          telegramChannel(chat),
          'permanent',
          'routes list Telegram chats but no bot is configured: add a telegram section with the bot token',
        ),
      );
    }
    try {
      const { chats: results } = await options.telegram.send({
        alert: input,
        chats: wanted,
        acknowledge,
        ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
        ...(request.recordId !== undefined ? { recordId: request.recordId } : {}),
      });
      return results.map((result) => telegramResult(result, now()));
    } catch (error) {
      const message = `Telegram: ${error instanceof Error ? error.message : String(error)}`;
      return wanted.map((chat) => ({
        channel: telegramChannel(chat),
        ok: false as const,
        kind: 'transient' as const,
        message,
      }));
    }
  }

  return {
    attendance,
    async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
      const skip = new Set<Channel>(request.skip ?? []);
      const phase = request.phase ?? 0;
      const wanted = attempt('email', () => {
        const { event } = request;
        const facts: RoutingFacts = { sourceId: request.sourceId, code: event.code, tableName: event.tableName };
        const firstSeenAt = Number.isFinite(request.firstSeenAt) ? request.firstSeenAt : now();
        const input: AlertInput = {
          sourceId: request.sourceId,
          sourceName: request.sourceName,
          event,
          firstSeenAt,
          ...(phase > 0 ? { unanswered: { step: phase, waitedMs: Math.max(0, now() - firstSeenAt) } } : {}),
        };
        const routes = paging({ ...request, firstSeenAt }, phase);
        return {
          input,
          facts,
          routes,
          recipients: skip.has('email') ? [] : emailsOf(routes),
          chats: telegramChats(routes),
          acknowledge: attendance({ ...request, firstSeenAt }).needsAck,
        };
      });
      if (wanted instanceof DeliveryError) {
        // A request the types promise cannot happen (no event): answer for every channel rather than throw.
        const channels: Channel[] = [
          ...(skip.has('email') ? [] : ['email' as const]),
          ...(skip.has('sns') || topicArn === undefined ? [] : ['sns' as const]),
        ];
        return {
          channels: channels.map((channel) =>
            fail(channel, 'permanent', wanted.message.replace('the email message', 'the message')),
          ),
        };
      }
      const { input, facts, routes, recipients, chats, acknowledge } = wanted;
      const done = [...skip].filter(isTelegramChannel).map((c) => c.slice('telegram:'.length));
      // An escalation step goes to its route only; the alert itself also to integrators on SNS.
      const publishes = !skip.has('sns') && topicArn !== undefined && (phase === 0 || routes.length > 0);
      const tasks: Promise<ChannelResult | ChannelResult[]>[] = [];
      if (recipients.length > 0) tasks.push(settle('email', () => email(input, recipients, request.deadline)));
      if (publishes) tasks.push(settle('sns', () => publish(input, facts, topicArn!, routes, phase, request.deadline)));
      if (chats.length > 0) tasks.push(telegramSends(input, chats, done, request, acknowledge));
      return { channels: (await Promise.all(tasks)).flat() };
    },
  };
}

/** One chat's Telegram outcome as a channel result (a chat is a channel of its own). */
function telegramResult(result: TelegramChatResult, now: number): ChannelResult {
  const channel = telegramChannel(result.chatId);
  if (result.status === 'sent') {
    return {
      channel,
      ok: true,
      recipients: [String(result.chatId)],
      messageIds: [String(result.messageId)],
      ...(result.migratedTo !== undefined
        ? {
            notice: `Telegram chat ${result.chatId} became a supergroup: replace it with ${result.migratedTo} in the config`,
          }
        : {}),
    };
  }
  if (result.status === 'deferred') {
    return {
      channel,
      ok: false,
      kind: 'throttled',
      message: `paced by Telegram's limits: due at ${new Date(result.notBefore).toISOString()}`,
      deferred: true,
      retryAt: result.notBefore,
    };
  }
  return {
    channel,
    ok: false,
    kind: result.kind,
    message: result.message,
    ...(result.ambiguous ? { ambiguous: true as const } : {}),
    ...(result.retryAfterMs !== undefined ? { retryAt: now + result.retryAfterMs } : {}),
  };
}

function fail(channel: Channel, kind: DeliveryErrorKind, message: string): ChannelResult {
  return { channel, ok: false, kind, message };
}

function failed(error: DeliveryError): ChannelResult {
  const { channel, kind, message } = error;
  return error.ambiguous
    ? { channel, ok: false, kind, message, ambiguous: true }
    : { channel, ok: false, kind, message };
}

/** Run a channel; whatever it throws becomes a failed result (adapters throw classified errors). */
async function settle(channel: Channel, run: () => Promise<ChannelResult>): Promise<ChannelResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DeliveryError) return failed(error);
    return fail(
      channel,
      'transient',
      `unexpected error while sending ${channel}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Our own code failing on odd input (a bug): retrying will not help, so it is permanent. */
function attempt<T>(channel: Channel, run: () => T): T | DeliveryError {
  try {
    return run();
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new DeliveryError(
      channel,
      'permanent',
      `could not prepare the ${channel} message (a bug in qrmenu-alerts, please report it): ${text}`,
      { cause: error },
    );
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
