/**
 * What the poller can learn about a QR-menu server's queue from its answers, and THE RULE for
 * telling a repeat of a known event from a new event that reuses its hash. Pure functions.
 *
 * A hash we have a record of is the same event when all three hold:
 *   1. the code and the table are the ones on the record;
 *   2. the hash has not left the server's queue since the record was written — it was in every
 *      complete (`hash=none`) answer since, and the queue was not reset meanwhile;
 *   3. the record is younger than the longest the server keeps an event (the configured retention
 *      or the oldest event seen still queued, whichever is longer, plus one interval) — or the hash
 *      was in the previous complete answer, so it has been queued all along.
 * Otherwise the server has reused the hash (a counter restarted with an emptied queue, say) and it
 * is a new event. A queue counts as reset when a complete answer lost events out of order (the
 * server drops expired events oldest first; losing younger ones while older ones stay means the
 * queue was rebuilt) or a hash of the previous answer came back with another code or table: then
 * every hash of the previous answer has left the queue. One case no client can tell apart: a
 * reissued hash whose new event has the same code and table, within the retention, with no other
 * sign of the reset — it is taken for a repeat (the same call from the same table, just delivered).
 *
 * Retention is learnt from the same answers: an event seen leaving the queue bounds it from above,
 * an event seen still queued from below; the poller uses the shorter of learnt and configured.
 */
import type { QrEvent } from '../domain/event';
import type { QueueSnapshot, SourceState } from '../domain/source-state';

export interface KnowledgeSettings {
  readonly intervalMs: number;
  /** The configured retention. */
  readonly retentionMs: number;
}

/**
 * Complete answers remember at most this many events (the newest): the source item is rewritten
 * every run, so its size is what each save costs (≈ 1 write unit per KB; 500 events ≈ 15 KB).
 * Older events fall back to the age rule.
 */
export const MAX_SNAPSHOT_EVENTS = 500;

/** The retention the poller works with: the shorter of configured and learnt. */
export function effectiveRetentionMs(state: Pick<SourceState, 'learnt'>, settings: KnowledgeSettings): number {
  const learnt = state.learnt.retentionMs;
  return learnt === undefined ? settings.retentionMs : Math.min(settings.retentionMs, learnt);
}

/** The longest the server may still hold an event after we first saw it. */
export function longestKeepMs(state: Pick<SourceState, 'learnt'>, settings: KnowledgeSettings): number {
  return Math.max(settings.retentionMs, state.learnt.longestSeenMs ?? 0) + settings.intervalMs;
}

/** What the poller knows of a hash's record. */
export interface RecordedFacts {
  readonly firstSeenAt: number;
  readonly code: string;
  readonly table: string;
}

export type Sameness = 'repeat' | 'reissued';

/** The rule above, for one event of an answer whose hash has a record. */
export function judgeRecorded(
  recorded: RecordedFacts,
  event: Pick<QrEvent, 'code' | 'tableName'>,
  context: {
    readonly now: number;
    /**
     * The hash left the queue: the events of it first seen up to this instant (the last complete
     * answer that still showed it) are gone; a record first seen later is of a new event.
     */
    readonly goneAt: number | undefined;
    /** Was the hash in the previous complete answer? */
    readonly inLastQueue: boolean;
    readonly longestKeepMs: number;
  },
): Sameness {
  if (!sameIdentity(recorded, event)) return 'reissued';
  if (context.goneAt !== undefined && recorded.firstSeenAt <= context.goneAt) return 'reissued';
  if (context.now - recorded.firstSeenAt > context.longestKeepMs && !context.inLastQueue) return 'reissued';
  return 'repeat';
}

/** Code and table as a record keeps them (clipped by the store to what it can hold). */
export function sameIdentity(
  recorded: Pick<RecordedFacts, 'code' | 'table'>,
  event: Pick<QrEvent, 'code' | 'tableName'>,
): boolean {
  return (
    event.code.startsWith(stripEllipsis(recorded.code)) && event.tableName.startsWith(stripEllipsis(recorded.table))
  );
}

function stripEllipsis(text: string): string {
  return text.endsWith('…') ? text.slice(0, -1) : text;
}

export interface QueueObservation {
  /** The new knowledge (queue snapshot, hashes gone, retention learnt). */
  readonly state: Pick<SourceState, 'queue' | 'gone' | 'learnt'>;
  /** Hashes of the previous complete answer that are not in this one. */
  readonly vanished: readonly string[];
  /** The queue was rebuilt (see the file comment). */
  readonly reset: boolean;
}

/**
 * Compare an answer with the previous complete answer. `complete` answers (`hash=none`) show which
 * events left the queue; any answer may show a hash of the previous one back with another identity.
 * `recorded` gives the record of a hash, when known.
 */
export function observeAnswer(
  state: Pick<SourceState, 'queue' | 'gone' | 'learnt'>,
  answer: { readonly events: readonly Pick<QrEvent, 'hash' | 'code' | 'tableName'>[]; readonly complete: boolean },
  recorded: (hash: string) => RecordedFacts | undefined,
  now: number,
  settings: KnowledgeSettings,
): QueueObservation {
  const previous = state.queue?.events ?? [];
  const previousHashes = new Set(previous.map(([hash]) => hash));
  const present = new Set(answer.events.map((e) => e.hash));
  const vanished = answer.complete ? previous.filter(([hash]) => !present.has(hash)).map(([hash]) => hash) : [];
  // Expiry takes the oldest first: what vanished must be a prefix of the previous answer.
  const outOfOrder = vanished.some((hash, i) => previous[i]?.[0] !== hash);
  const changed = answer.events.some((e) => {
    const known = previousHashes.has(e.hash) ? recorded(e.hash) : undefined;
    return known !== undefined && !sameIdentity(known, e);
  });
  const reset = outOfOrder || changed;

  const gone: Record<string, number> = {};
  const keep = longestKeepMs(state, settings);
  for (const [hash, at] of Object.entries(state.gone)) if (now - at <= keep) gone[hash] = at;
  // What left is the previous answer's events: those first seen by then.
  const lastSeen = state.queue?.at ?? now;
  for (const hash of reset ? previousHashes : vanished) gone[hash] = lastSeen;
  const former = (hash: string, known: RecordedFacts | undefined) =>
    known !== undefined && gone[hash] !== undefined && known.firstSeenAt <= gone[hash];

  let { retentionMs, longestSeenMs } = state.learnt;
  const previousSince = new Map(previous);
  if (!reset && vanished.length > 0) {
    // Some events stayed: the youngest that left surely expired. Everything left: it may have been a
    // restart rather than expiry, so only the oldest is taken to have expired (the weaker bound).
    const total = vanished.length === previous.length;
    const ages = vanished.map((hash) => now - (previousSince.get(hash) ?? now));
    // It was queued at most an interval before we first saw it, and had left by now.
    const upper = (total ? Math.max(...ages) : Math.min(...ages)) + settings.intervalMs;
    retentionMs = retentionMs === undefined ? upper : Math.min(retentionMs, upper);
  }
  if (answer.complete) {
    for (const e of answer.events) {
      const known = recorded(e.hash);
      if (former(e.hash, known)) continue; // a reissue: its record's age is the former event's
      if (known === undefined || !sameIdentity(known, e)) continue;
      const age = now - known.firstSeenAt;
      longestSeenMs = Math.max(longestSeenMs ?? 0, age);
      if (retentionMs !== undefined && age > retentionMs) retentionMs = age;
    }
  }

  const queue: QueueSnapshot | undefined = answer.complete
    ? {
        at: now,
        events: answer.events.slice(-MAX_SNAPSHOT_EVENTS).map((e) => {
          const known = recorded(e.hash);
          const since = former(e.hash, known) ? now : (known?.firstSeenAt ?? previousSince.get(e.hash) ?? now);
          return [e.hash, since] as const;
        }),
      }
    : state.queue;
  return {
    state: {
      ...(queue ? { queue } : {}),
      gone,
      learnt: {
        ...(retentionMs !== undefined ? { retentionMs } : {}),
        ...(longestSeenMs !== undefined ? { longestSeenMs } : {}),
      },
    },
    vanished,
    reset,
  };
}
