/**
 * Every port of the poll cycle, as small interfaces passed in: the clock, logs, metrics, the
 * operator's channel, the live feed, the QR-menu fetch, and the two halves of the state store
 * (the source item and the event records). Adapters implement them (lambda/obs, lambda/qrmenu,
 * lambda/state, lambda/notify; wired in lambda/handler.ts); tests pass plain objects or wrap the
 * real adapters to inject faults. Nothing here imports an adapter.
 */
import type { MetricName } from './metrics';
import type { Channel, DeliveryErrorKind } from './delivery';
import type { QrEvent } from './event';
import type { ClaimedRecord, DueRecord, EventStatus, KnownRecord } from './record';
import type { SourceState } from './source-state';

export interface Clock {
  /** Epoch ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Structured logging; Powertools' Logger fits it. Attributes must never hold a token. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Metrics of one source (the `source` dimension is the implementation's business). */
export interface SourceMetrics {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
  /** Emit what was gathered (the handler does, once per invocation). */
  flush(): void;
}

/** The operator's channel (the ops SNS topic in AWS): rare, actionable messages only. */
export interface OpsNotifier {
  alert(subject: string, message: string): Promise<void>;
}

// --- the state store -------------------------------------------------------------------------

export type LeaseResult =
  | { readonly acquired: true; readonly state: SourceState }
  | { readonly acquired: false; readonly holder?: string; readonly leaseUntil?: number };

/** The source item: lease and saved state, one item per source. */
export interface SourceStore {
  /** Take (or renew) the lease until `until`; the saved state comes back with it. */
  acquireLease(sourceId: string, owner: string, now: number, until: number): Promise<LeaseResult>;
  /** Save the state while `owner` holds the lease (false: the lease was lost, nothing written). */
  saveState(
    sourceId: string,
    owner: string,
    state: SourceState,
    options: { readonly release: boolean },
  ): Promise<boolean>;
}

/** How a new record is written. */
export interface NewRecord {
  readonly recordId: string;
  readonly event: QrEvent;
  readonly status: Extract<EventStatus, 'claimed' | 'baseline' | 'suppressed'>;
  readonly owner: string;
  readonly now: number;
  /** claimed: due for take-over at this instant should this poller die. */
  readonly dueAt?: number;
  readonly ttlSeconds: number;
  /** A reused hash: replace the terminal record first seen at this instant. */
  readonly replaces?: number;
  readonly suppressedBy?: string;
  /** An attendance call: acknowledged by a press, escalated until then. */
  readonly needsAck?: boolean;
}

export type CreateOutcome = 'created' | 'exists';

/** The store refused one event's record (too large, or otherwise invalid): a poison event, not an outage. */
export class RecordRejectedError extends Error {
  override readonly name = 'RecordRejectedError';
}

/** What every outcome write records of the sends that went out (both optional, merged into the record). */
export interface SentFacts {
  /** Message ids of this attempt's sends, by `messageKey(channel, phase)`. */
  readonly messages?: Readonly<Record<string, string>>;
  /** Phase 0: channels sent for the first time now (their `sentAt` is set once). */
  readonly sentChannels?: readonly Channel[];
}
export interface MarkDelivered extends SentFacts {
  readonly now: number;
  readonly channels: readonly Channel[];
  /** The phase delivered: an escalation step (≥ 1) is added to `escalatedAt`. */
  readonly phase: number;
  /** The next escalation step is due then: the record stays in the due index. */
  readonly escalateAt?: number;
}
export interface MarkRetry extends SentFacts {
  readonly now: number;
  readonly dueAt: number;
  readonly errorKind: DeliveryErrorKind;
  readonly error: string;
  readonly doneChannels: readonly Channel[];
}
export interface MarkFailed {
  readonly now: number;
  readonly errorKind: DeliveryErrorKind;
  readonly error: string;
  readonly doneChannels: readonly Channel[];
}

/** The event records. Every method is one conditional write or one read; a lost race is an answer, not an error. */
export interface EventStore {
  /** The records of these hashes' record ids (strongly consistent). */
  findRecorded(sourceId: string, recordIds: readonly string[]): Promise<Map<string, KnownRecord>>;
  create(sourceId: string, record: NewRecord): Promise<CreateOutcome>;
  /** claimed → delivered/retry/failed, only by the claimant: false when the claim was lost. */
  markDelivered(sourceId: string, recordId: string, owner: string, done: MarkDelivered): Promise<boolean>;
  markRetry(sourceId: string, recordId: string, owner: string, retry: MarkRetry): Promise<boolean>;
  markFailed(sourceId: string, recordId: string, owner: string, failure: MarkFailed): Promise<boolean>;
  /** Every record of the source with work left (the `due` index). */
  listDue(sourceId: string): Promise<DueRecord[]>;
  /** Another attempt of a due record, if `attempts` is still `expectAttempts`; undefined when done or taken. */
  takeOver(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { readonly now: number; readonly claimTimeoutMs: number; readonly expectAttempts: number },
  ): Promise<ClaimedRecord | undefined>;
  /**
   * A claim of ours not attempted in this run, due now for the next run (its attempts still
   * `expectAttempts`): false when it is not ours as it was any more.
   */
  release(
    sourceId: string,
    recordId: string,
    owner: string,
    release: { readonly now: number; readonly expectAttempts: number },
  ): Promise<boolean>;
  /** suppressed → claimed: a repeat whose original failed; undefined when it is not suppressed any more. */
  revive(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { readonly now: number; readonly claimTimeoutMs: number },
  ): Promise<ClaimedRecord | undefined>;
  /**
   * delivered → claimed for the next escalation step, if still unacknowledged, due, and at
   * `expectPhase`; undefined when acknowledged (the record then leaves the due index) or taken.
   */
  escalate(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { readonly now: number; readonly claimTimeoutMs: number; readonly expectPhase: number },
  ): Promise<ClaimedRecord | undefined>;
  /** The first press wins: who acknowledged, or who had already. */
  acknowledge(sourceId: string, recordId: string, press: Acknowledgement): Promise<AckOutcome>;
}

export interface Acknowledgement {
  readonly at: number;
  /** As shown to staff ("Иван"). */
  readonly by: string;
  readonly byId: string;
  /** The press's own id (Telegram's callback query id): a press processed twice is recognised. */
  readonly pressId: string;
}

/** What the record of an acknowledged call holds for editing its messages and timing the answer. */
export interface AcknowledgedCall {
  readonly hash: string;
  readonly code: string;
  readonly table: string;
  readonly firstSeenAt: number;
  readonly ackAt: number;
  readonly ackBy: string;
  readonly messages: Readonly<Record<string, string>>;
}

export type AckOutcome =
  /** This press acknowledged the call now. */
  | { readonly outcome: 'acknowledged'; readonly call: AcknowledgedCall }
  /** This very press had acknowledged it already (the press is being processed again). */
  | { readonly outcome: 'repeated'; readonly call: AcknowledgedCall }
  /** Someone else had already. */
  | { readonly outcome: 'taken'; readonly call: AcknowledgedCall }
  /** No such call, or not one that is acknowledged. */
  | { readonly outcome: 'unknown' };

/** The bot's item: one reader of its updates at a time (a lease), and where it read up to. */
export interface BotStore {
  acquireBotLease(
    bot: string,
    owner: string,
    now: number,
    until: number,
  ): Promise<{ readonly acquired: boolean; readonly offset?: number }>;
  /** Save the offset while `owner` holds the lease (false: the lease was lost, nothing written). */
  saveBotOffset(bot: string, owner: string, offset: number, options: { readonly release: boolean }): Promise<boolean>;
}

// --- the account's send quotas, shared by the shards ---------------------------------------

/** The quota a shared send pacer counts against. */
export type QuotaService = 'ses' | 'sns';

/**
 * One write to a quota's slot pointer (core/send-slots.ts): the next slot no shard has been given.
 *   claim:  the pointer is at or before `from` (or not stored): it becomes `from + slots`, the
 *           block [from, from + slots) is the writer's, the slots before `from` are never used;
 *   append: the pointer is at or after `from` and at most `latestFirst`: it moves on by `slots`,
 *           the block ends at the pointer returned.
 */
export type SlotRequest =
  | { readonly mode: 'claim'; readonly from: number; readonly slots: number; readonly expiresAt: number }
  | {
      readonly mode: 'append';
      readonly from: number;
      readonly latestFirst: number;
      readonly slots: number;
      readonly expiresAt: number;
    };

export type SlotReservation =
  /** `next`: the pointer after the write. */
  | { readonly reserved: true; readonly next: number }
  /** The pointer was not where the request needs it: where it is (absent: not stored). */
  | { readonly reserved: false; readonly next?: number };

/** Where the shards keep their shared slot pointers, one per quota (DynamoDB: state/store.ts). */
export interface SendSlotStore {
  /**
   * Move the pointer of `service` as `request` says, only if it is where the request needs it;
   * kept until `expiresAt` (epoch ms) unless written again. Not idempotent: a write that failed
   * may have been applied, and its slots are then nobody's (counted, never used: never over).
   */
  reserveSendSlots(service: QuotaService, request: SlotRequest): Promise<SlotReservation>;
}

// --- the staff's chat ------------------------------------------------------------------------

/** A press of "On my way", as the staff bot reads it. */
export interface StaffPress {
  /** The press's own id (answered, and remembered on the record that it acknowledged). */
  readonly id: string;
  /** What the button named; undefined when it is not one of ours. */
  readonly call?: { readonly sourceId: string; readonly recordId: string };
  readonly by: { readonly id: string; readonly name: string };
  /** When it was read (epoch ms): chat services send no time of their own. */
  readonly at: number;
}

export type PressAnswer =
  | { readonly kind: 'accepted'; readonly table: string }
  | { readonly kind: 'taken'; readonly by: string }
  | { readonly kind: 'stale' };

/** The staff's chat bot (Telegram): presses in, acknowledgements and answers out. */
export interface StaffBot {
  /** Wait up to `waitSeconds` for presses after `offset` (which confirms every earlier one). */
  nextPresses(
    offset: number | undefined,
    waitSeconds: number,
  ): Promise<{
    readonly presses: readonly StaffPress[];
    /** Chats the bot was added to (or removed from) meanwhile: the operator may need their ids. */
    readonly chats: readonly { readonly id: string; readonly title: string; readonly added: boolean }[];
    readonly nextOffset: number | undefined;
  }>;
  /** Show on one message that the call is taken ("✅ Стол 6 — Иван, 0:42"); false when it could not be. */
  showAcknowledged(
    chat: string,
    messageId: string,
    ack: { readonly table: string; readonly code: string; readonly by: string; readonly responseMs: number },
  ): Promise<boolean>;
  /** The small notice the presser sees. */
  answer(press: StaffPress, answer: PressAnswer): Promise<void>;
}

// --- the live feed ---------------------------------------------------------------------------

/** One line of the live feed (`npm start`, `--json`). */
export type FeedEntry =
  | {
      type: 'delivered';
      source: string;
      hash: string;
      code: string;
      table: string;
      /** `email`, `sns` or `telegram` (the chat is in `recipients`). */
      channel: 'email' | 'sns' | 'telegram';
      recipients: readonly string[];
      /** ms from the first time the event was seen to this delivery. */
      latencyMs: number;
      attempt: number;
    }
  | {
      type: 'skipped';
      source: string;
      hash: string;
      code: string;
      table: string;
      reason: 'duplicate' | 'suppressed' | 'baseline';
    }
  | {
      type: 'retry' | 'failed';
      source: string;
      hash: string;
      code: string;
      table: string;
      kind: string;
      message: string;
      attempt: number;
    }
  | { type: 'error'; source: string; kind: string; message: string }
  | { type: 'gap'; source: string; message: string }
  | { type: 'acknowledged'; source: string; hash: string; table: string; by: string; responseMs: number }
  | { type: 'escalated'; source: string; hash: string; table: string; step: number; waitedMs: number };

export type Observer = (entry: FeedEntry) => void;
