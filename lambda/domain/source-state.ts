/**
 * What the poller remembers about one QR-menu server (a "source") between invocations: the
 * cursor, what it has learnt about the server's queue (the last complete answer, hashes that left
 * it, how long events really stay), cooldowns and repeats held behind an undelivered original.
 * Saved once per invocation with the lease item (lambda/state/keys.ts), so none of this costs a
 * write per event. How the queue knowledge is used: lambda/poller/queue-knowledge.ts.
 */

/** One cooldown: repeats of a code at a table are suppressed until `until`, behind event `hash`. */
export interface Cooldown {
  readonly until: number;
  /** The event that was sent and started the window. */
  readonly hash: string;
}

/**
 * What the server's queue is known to hold: the last complete answer (`hash=none`), in its order,
 * and the events cursor answers showed since, after it.
 */
export interface QueueSnapshot {
  /** When the last complete answer came. */
  readonly at: number;
  readonly events: readonly QueuedEvent[];
}

/**
 * [hash, first seen, last seen in an answer, queued after] (epoch ms), oldest first. "Queued after"
 * is the last complete answer before its first sighting: an event that answer did not show was
 * queued after it, so it can have stayed at most `gone − queuedAfter` (after an absence, much
 * more than the time since it was first seen).
 */
export type QueuedEvent = readonly [hash: string, firstSeenAt: number, lastSeenAt: number, queuedAfter: number];

export interface SourceState {
  /** Hash of the newest event up to which every event is durably recorded. */
  readonly cursor?: string;
  /** When the cursor's event was first seen (epoch ms). */
  readonly cursorAt?: number;
  readonly lastSuccessAt?: number;
  /** Last successful poll with `hash=none`. */
  readonly lastNoneAt?: number;
  /** When the backlog found at the first poll was recorded; absent = the source was never polled. */
  readonly baselineAt?: number;
  /** `cooldownKey(table, code)` → the window. */
  readonly cooldowns: Readonly<Record<string, Cooldown>>;
  readonly queue?: QueueSnapshot;
  /** Hashes that left the server's queue (absent from a complete answer) → when that was seen. */
  readonly gone: Readonly<Record<string, number>>;
  /** Hashes whose current event has its own record id (a reused hash, see `recordIdOf`) → since. */
  readonly aliases: Readonly<Record<string, number>>;
  /** Retention learnt from the server's answers (ms): see queue-knowledge.ts. */
  readonly learnt: {
    /** Upper bound from events seen leaving the queue (and raised by events seen staying longer). */
    readonly retentionMs?: number;
    /** The oldest an event was ever seen still queued. */
    readonly longestSeenMs?: number;
  };
  /** A failing `hash=none` poll is backed off: failures in a row and when to try it again. */
  readonly reconcile?: { readonly failures: number; readonly nextAt: number };
  /** Original hash → repeats suppressed behind it while it was not yet delivered (revived if it fails). */
  readonly held: Readonly<Record<string, readonly string[]>>;
  /** Hashes whose record DynamoDB refuses in any form → when that was found: reported once, then let pass. */
  readonly poisoned: Readonly<Record<string, number>>;
}

export const EMPTY_SOURCE_STATE: SourceState = {
  cooldowns: {},
  gone: {},
  aliases: {},
  learnt: {},
  held: {},
  poisoned: {},
};
