/**
 * The delivery port: what the poll cycle asks of the notifiers, and what they answer.
 *
 * The poll cycle claims an event, calls `deliver`, then records the outcome. A deliverer never
 * throws for a delivery problem: it answers per channel, with an error kind the cycle can act on
 * (retry later, or give up and tell the operator). Channels already done on an earlier attempt
 * are passed in `skip`, so a retry never sends the same e-mail or SMS twice — except after a
 * failure flagged `ambiguous`, which may have gone out after all.
 */
import type { QrEvent } from './event';

/**
 * E-mail through SES; the SNS publish that fans out to SMS and any other subscriber; one Telegram
 * chat (`telegram:<chat id>`), each on its own so that a retry never repeats a chat already done.
 */
export type Channel = 'email' | 'sns' | `telegram:${string}`;

export const telegramChannel = (chatId: number | string): Channel => `telegram:${chatId}`;
export const isTelegramChannel = (channel: string): channel is `telegram:${string}` => channel.startsWith('telegram:');

/**
 * - `throttled`, `transient`: worth retrying (later ticks, with backoff).
 * - `permanent`: retrying will not help until the operator fixes something (unverified sender,
 *   invalid recipient, opted-out number, missing permission); the message says what.
 */
export type DeliveryErrorKind = 'throttled' | 'transient' | 'permanent';

export interface DeliveryRequest {
  readonly sourceId: string;
  /** What staff call the place. */
  readonly sourceName: string;
  readonly event: QrEvent;
  /** When the notifier first saw the event (epoch ms): the API carries no time of its own. */
  readonly firstSeenAt: number;
  /** Channels that succeeded on an earlier attempt of this phase: do not send them again. */
  readonly skip?: readonly Channel[];
  /** 0 (default) = the alert; n = escalation step n, to that step's route, marked unanswered. */
  readonly phase?: number;
  /** No send may start after this instant (epoch ms); later ones come back deferred. */
  readonly deadline?: number;
  /** The event's record id, which an acknowledgement button names (default: the hash). */
  readonly recordId?: string;
}

/** What an event asks of the staff: whether someone must come (and press "On my way"), and when to escalate. */
export interface AttendancePlan {
  readonly needsAck: boolean;
  /** When escalation step n+1 is due (epoch ms), step 1 first; empty when nobody escalates. */
  readonly escalateAt: readonly number[];
}

export const NO_ATTENDANCE: AttendancePlan = { needsAck: false, escalateAt: [] };

/** A recipient SES will not send to (unverified in the SES sandbox), and why, in words for the operator. */
export interface RefusedRecipient {
  readonly address: string;
  readonly reason: string;
  /** Refused by the service in this very delivery (not left out because an earlier one was refused). */
  readonly fresh?: true;
}

export type ChannelResult =
  | {
      readonly channel: Channel;
      readonly ok: true;
      /** Who was sent it: e-mail addresses; for sns the topic ARN. */
      readonly recipients: readonly string[];
      readonly messageIds: readonly string[];
      /**
       * E-mail only, present when not empty: recipients left out because SES refuses them, now
       * or within the deliverer's memory of refusals (an hour by default). Listed on every
       * delivery they miss, so the poller can tell the operator once per address.
       */
      readonly refused?: readonly RefusedRecipient[];
      /** Something the operator should change though the send worked (a group that became a supergroup). */
      readonly notice?: string;
    }
  | {
      readonly channel: Channel;
      readonly ok: false;
      readonly kind: DeliveryErrorKind;
      readonly message: string;
      /**
       * The request may have reached AWS and been accepted: a retry may send it twice (a timeout
       * after the request was sent, a connection cut mid-answer, an HTTP 500). Absent when the
       * send surely did not happen (refused connection, DNS, throttling, any 4xx).
       */
      readonly ambiguous?: true;
      /** Try again no earlier than this (epoch ms): a rate limit's own wait, or a paced send's slot. */
      readonly retryAt?: number;
      /** Not attempted at all (paced past the tick's end): it costs no attempt of the budget. */
      readonly deferred?: true;
    };

export interface DeliveryResult {
  /** One entry per channel attempted now (skipped channels and channels with nobody to tell are absent). */
  readonly channels: readonly ChannelResult[];
}

export interface Deliverer {
  deliver(request: DeliveryRequest): Promise<DeliveryResult>;
  /** The staff loop of an event (default: nobody acknowledges, nothing escalates). */
  attendance?(request: Pick<DeliveryRequest, 'sourceId' | 'event' | 'firstSeenAt'>): AttendancePlan;
}
