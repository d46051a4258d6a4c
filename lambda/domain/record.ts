/**
 * THE EVENT RECORD PROTOCOL: what one guest event's DynamoDB item holds, the statuses it moves
 * through, which moves are legal and who may make them, and the one rule for giving up.
 * The store (lambda/state/store.ts) builds every key, condition and update from the names and
 * the transition table here; the poll cycle (lambda/poller/) decides which transition to ask for.
 *
 *   absent ──claim──▶ claimed ──markDelivered──▶ delivered ──escalate (unacknowledged, due)──▶ claimed
 *     │                 │  ▲ └──markFailed──▶ failed            (reissue: a terminal record of a hash the
 *     │                 │  └──takeOver── retry ◀─markRetry─┘     server has reused is replaced by claim)
 *     └──recordSeen──▶ baseline | suppressed ──revive──▶ claimed   (a repeat held behind a failed original)
 *
 * An attendance call (one that needs someone to come) is acknowledged once, by the first press of
 * its "On my way" button, whatever its status; until then each escalation step is one more
 * phase of the same record (`phase` 1, 2, …), delivered like the alert itself.
 *
 * Imports nothing but the event type: this is the bottom of the dependency graph.
 */
import { createHash } from 'node:crypto';
import type { QrEvent } from './event';
import type { Channel } from './delivery';

export const EVENT_STATUS = {
  /** Owned by one poller, which is delivering it; due for take-over when the claim times out. */
  claimed: 'claimed',
  /** An attempt failed; due for another at `dueAt`. */
  retry: 'retry',
  delivered: 'delivered',
  /** Given up on (permanent error, or the retry budget spent); the operator was told. */
  failed: 'failed',
  /** A repeat of one code from one table inside the cooldown: recorded, not sent. */
  suppressed: 'suppressed',
  /** Already queued at a source's first poll: recorded, not sent. */
  baseline: 'baseline',
} as const;
export type EventStatus = (typeof EVENT_STATUS)[keyof typeof EVENT_STATUS];

/** Statuses with work left: the record sits in the sparse `due` index. */
export const PENDING_STATUSES: readonly EventStatus[] = [EVENT_STATUS.claimed, EVENT_STATUS.retry];
/** Statuses nothing will change any more (but a reissue of the hash). */
export const TERMINAL_STATUSES: readonly EventStatus[] = [
  EVENT_STATUS.delivered,
  EVENT_STATUS.failed,
  EVENT_STATUS.suppressed,
  EVENT_STATUS.baseline,
];

/** Every attribute name of an event record; expressions are built from these, never typed inline. */
export const RECORD_ATTR = {
  pk: 'pk',
  sk: 'sk',
  /** The server's hash (the sort key may carry a suffix, see `recordIdOf`). */
  hash: 'hash',
  status: 'status',
  /** Lease owner of the poller holding the claim. */
  owner: 'owner',
  /** Delivery attempts started, the current one included. */
  attempts: 'attempts',
  /** When the poller first saw the event (epoch ms): the API carries no time of its own. */
  firstSeenAt: 'firstSeenAt',
  code: 'code',
  table: 'table',
  /** The event as JSON, for retries (capped, see the store). */
  event: 'event',
  /** TTL, epoch seconds. */
  expiresAt: 'expiresAt',
  /** Present only while pending: the `due` index's partition and sort key. */
  duePk: 'duePk',
  dueAt: 'dueAt',
  claimedAt: 'claimedAt',
  /** Channels already done: never sent again by a retry. */
  doneChannels: 'doneChannels',
  lastErrorKind: 'lastErrorKind',
  lastError: 'lastError',
  deliveredAt: 'deliveredAt',
  failedAt: 'failedAt',
  /** For a suppressed repeat: the hash of the event that started the cooldown. */
  suppressedBy: 'suppressedBy',
  /** 0 = the alert; n = escalation step n (the record is delivered once per phase). */
  phase: 'phase',
  /** An attendance call: acknowledged by a press, escalated until then. */
  needsAck: 'needsAck',
  /** First successful send per channel (epoch ms), across phases: what the daily report reads. */
  sentAt: 'sentAt',
  /** Message ids per channel (`telegram:<chat>` → message id), to edit them once acknowledged. */
  messages: 'messages',
  ackAt: 'ackAt',
  /** Who pressed "On my way", as shown to staff. */
  ackBy: 'ackBy',
  /** Their Telegram user id. */
  ackById: 'ackById',
  /** The press that won (its callback query id): a press processed again is recognised. */
  ackPress: 'ackPress',
  /** When each escalation step was sent (epoch ms), step 1 first. */
  escalatedAt: 'escalatedAt',
  /** When the current phase began (absent for phase 0: the first sighting). */
  phaseAt: 'phaseAt',
} as const;
export type RecordAttribute = (typeof RECORD_ATTR)[keyof typeof RECORD_ATTR];

/** One event record as the poll cycle sees it. */
export interface EventRecord {
  /** The record's own id (usually the hash; see `recordIdOf`). */
  readonly recordId: string;
  readonly hash: string;
  readonly status: EventStatus;
  readonly owner?: string;
  readonly attempts: number;
  readonly firstSeenAt: number;
  readonly code: string;
  readonly table: string;
  readonly dueAt?: number;
  readonly doneChannels: readonly Channel[];
  readonly suppressedBy?: string;
  readonly phase: number;
  readonly needsAck: boolean;
  readonly ackAt?: number;
  readonly ackBy?: string;
}

/** What a look-up of recorded hashes returns: enough to tell a repeat from a reissue, and pending work. */
export type KnownRecord = Pick<
  EventRecord,
  'recordId' | 'hash' | 'status' | 'owner' | 'attempts' | 'firstSeenAt' | 'code' | 'table' | 'dueAt' | 'phase'
>;

/** A record held by this poller for a delivery attempt. */
export interface ClaimedRecord {
  readonly recordId: string;
  readonly event: QrEvent;
  readonly firstSeenAt: number;
  /** Including the attempt about to be made. */
  readonly attempts: number;
  readonly doneChannels: readonly Channel[];
  /** 0 = the alert; n = escalation step n. */
  readonly phase: number;
  /** When this phase began (the first sighting, or when the escalation step came due): its retry window starts here. */
  readonly phaseAt: number;
  /** An attendance call (acknowledged by a press, escalated until then). */
  readonly needsAck: boolean;
  /** Message ids of earlier sends, per channel (kept across attempts and phases). */
  readonly messages: Readonly<Record<string, string>>;
}

/** A record with work left, as the `due` index lists it. */
export interface DueRecord {
  readonly recordId: string;
  readonly dueAt: number;
  readonly attempts: number;
  /** claimed/retry: a delivery attempt; delivered: the next escalation step. */
  readonly status: EventStatus;
  readonly phase: number;
}

/** The key of a send in a record's `messages` map: the channel, and for escalation steps the step. */
export function messageKey(channel: string, phase: number): string {
  return phase === 0 ? channel : `${channel}#${phase}`;
}

/** The longest hash used as its own record id (a Telegram button names the record in 64 bytes). */
export const MAX_PLAIN_RECORD_ID = 19;

/**
 * The record id of a hash: the hash itself when it is short and printable (real ones are ten
 * characters), else `h` + a 108-bit digest of it. When a server reuses a hash while the record of
 * its earlier event still has work left (a retry during an outage), the new event gets its own id:
 * that plus `@` and when it was first seen (base 36). At most 29 characters either way.
 */
export function recordIdOf(hash: string, aliasSince?: number): string {
  const base =
    hash.length <= MAX_PLAIN_RECORD_ID && /^[\x21-\x7e]+$/.test(hash) && !hash.includes('@')
      ? hash
      : `h${createHash('sha256').update(hash).digest('base64url').slice(0, 18)}`;
  return aliasSince === undefined ? base : `${base}@${aliasSince.toString(36)}`;
}

// --- transitions -----------------------------------------------------------------------------

export interface TransitionRule {
  /** Statuses the record may be in; `absent` = no record yet (or a terminal one being replaced). */
  readonly from: readonly EventStatus[] | 'absent';
  readonly to: readonly EventStatus[];
  /** Only the poller whose owner id is on the record may make it. */
  readonly claimantOnly: boolean;
  /** Only once `dueAt` has passed, and only if `attempts` is still what the caller saw. */
  readonly whenDue: boolean;
}

export const TRANSITIONS = {
  /** A new event, claimed for delivery (or a terminal record of a reused hash, replaced). */
  claim: { from: 'absent', to: [EVENT_STATUS.claimed], claimantOnly: false, whenDue: false },
  /** A new event recorded as not to be sent. */
  recordSeen: {
    from: 'absent',
    to: [EVENT_STATUS.baseline, EVENT_STATUS.suppressed],
    claimantOnly: false,
    whenDue: false,
  },
  markDelivered: { from: [EVENT_STATUS.claimed], to: [EVENT_STATUS.delivered], claimantOnly: true, whenDue: false },
  markRetry: { from: [EVENT_STATUS.claimed], to: [EVENT_STATUS.retry], claimantOnly: true, whenDue: false },
  markFailed: { from: [EVENT_STATUS.claimed], to: [EVENT_STATUS.failed], claimantOnly: true, whenDue: false },
  /** Another attempt: a retry that is due, or a claim whose poller died (its claim timed out). */
  takeOver: {
    from: [EVENT_STATUS.claimed, EVENT_STATUS.retry],
    to: [EVENT_STATUS.claimed],
    claimantOnly: false,
    whenDue: true,
  },
  /**
   * A claim its poller could not send before its run ended (too little time left for a send):
   * made due at once, so that the next run takes it over at its first tick instead of after the
   * claim timeout. Nothing was sent on it; only its claimant releases it, attempts unchanged.
   */
  release: { from: [EVENT_STATUS.claimed], to: [EVENT_STATUS.claimed], claimantOnly: true, whenDue: false },
  /** A suppressed repeat whose original failed for good: it is sent after all. */
  revive: { from: [EVENT_STATUS.suppressed], to: [EVENT_STATUS.claimed], claimantOnly: false, whenDue: false },
  /** The next escalation step of an unacknowledged attendance call, once due: one more phase. */
  escalate: { from: [EVENT_STATUS.delivered], to: [EVENT_STATUS.claimed], claimantOnly: false, whenDue: true },
  /**
   * An escalation step not sent yet (its send failed, or its poller died) when the call was
   * acknowledged: it is dropped, never sent (a take-over of a step requires no acknowledgement).
   */
  standDown: {
    from: [EVENT_STATUS.claimed, EVENT_STATUS.retry],
    to: [EVENT_STATUS.delivered],
    claimantOnly: false,
    whenDue: true,
  },
} as const satisfies Record<string, TransitionRule>;

/**
 * The first press wins: an attendance call not yet acknowledged takes who and when, whatever its
 * status (a waiter may answer while a channel is still being retried). Not a status change.
 */
export const ACKNOWLEDGE_RULE = { needsAck: true, notYetAcknowledged: true } as const;
export type Transition = keyof typeof TRANSITIONS;

/** Is `from → to` a move some transition allows? (`undefined` = no record.) */
export function isLegalMove(from: EventStatus | undefined, to: EventStatus): boolean {
  return Object.values(TRANSITIONS).some((rule: TransitionRule) => {
    const fromOk =
      rule.from === 'absent'
        ? from === undefined || (TERMINAL_STATUSES.includes(from) && rule.to.includes(EVENT_STATUS.claimed))
        : from !== undefined && rule.from.includes(from);
    return fromOk && rule.to.includes(to);
  });
}

/**
 * A conditional write was refused, and DynamoDB returned the item as it is. Was it refused because
 * our own earlier attempt of the same write had already been applied (an answer that arrived after
 * we gave up on it)? Then the write is done, not lost to another poller.
 */
export function appliedByUs(
  transition: Transition,
  current: Partial<Pick<EventRecord, 'status' | 'owner' | 'attempts' | 'firstSeenAt'>> | undefined,
  intent: {
    readonly owner: string;
    readonly status?: EventStatus;
    readonly attempts?: number;
    readonly firstSeenAt?: number;
  },
): boolean {
  if (current === undefined) return false;
  const rule: TransitionRule = TRANSITIONS[transition];
  const status = intent.status ?? rule.to[0];
  if (current.status !== status) return false;
  switch (transition) {
    case 'claim':
    case 'recordSeen':
      return (
        current.firstSeenAt === intent.firstSeenAt &&
        (status !== EVENT_STATUS.claimed || current.owner === intent.owner)
      );
    case 'takeOver':
    case 'revive':
      return current.owner === intent.owner && (intent.attempts === undefined || current.attempts === intent.attempts);
    default:
      return current.owner === intent.owner;
  }
}

// --- the retry budget ------------------------------------------------------------------------

export interface RetryPolicy {
  /** Attempts of one event at most. */
  readonly maxAttempts: number;
  /** Transient and throttled failures are retried this long after the event was first seen. */
  readonly retryForMs: number;
  /** First backoff; doubles each attempt. */
  readonly firstDelayMs: number;
  /** Longest backoff. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_DELAYS = { firstDelayMs: 5_000, maxDelayMs: 60_000 } as const;

/** Backoff before attempt n+1: 5 s, 10 s, 20 s, 40 s, then every minute (defaults). */
export function retryDelayMs(attemptsSoFar: number, policy: Pick<RetryPolicy, 'firstDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.firstDelayMs * 2 ** Math.max(0, attemptsSoFar - 1), policy.maxDelayMs);
}

/**
 * THE rule for giving up, asked after an attempt failed (is there to be another?) and before a
 * taken-over attempt starts (its poller may have died during the last one): an event is out of
 * attempts when `attemptsMade` reached `maxAttempts`, or when the next attempt would start after its
 * retry window (an alert half an hour late helps nobody: the operator is told instead).
 */
export function attemptsExhausted(
  record: { readonly attemptsMade: number; readonly firstSeenAt: number },
  nextAttemptAt: number,
  policy: Pick<RetryPolicy, 'maxAttempts' | 'retryForMs'>,
): boolean {
  return record.attemptsMade >= policy.maxAttempts || nextAttemptAt - record.firstSeenAt > policy.retryForMs;
}
