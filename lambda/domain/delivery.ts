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

/** E-mail through SES; the SNS publish that fans out to SMS and any other subscriber. */
export type Channel = 'email' | 'sns';

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
  /** Channels that succeeded on an earlier attempt: do not send them again. */
  readonly skip?: readonly Channel[];
}

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
    };

export interface DeliveryResult {
  /** One entry per channel attempted now (skipped channels and channels with nobody to tell are absent). */
  readonly channels: readonly ChannelResult[];
}

export interface Deliverer {
  deliver(request: DeliveryRequest): Promise<DeliveryResult>;
}
