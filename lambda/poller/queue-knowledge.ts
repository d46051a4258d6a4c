/**
 * What the poller can learn about a QR-menu server's queue from its answers, and THE RULE for
 * telling a repeat of a known event from a new event that reuses its hash. Pure functions.
 *
 * A hash we have a record of is the same event when all three hold:
 *   1. the code and the table are the ones on the record;
 *   2. the hash has not left the server's queue since the record was written — it was in every
 *      complete (`hash=none`) answer since, and the queue was not reset after its last sighting
 *      (what is known to be queued is the last complete answer plus what cursor answers showed
 *      since; a reset is known only to follow the last complete answer, so a hash a cursor answer
 *      showed since counts as the event queued now);
 *   3. the record is younger than the longest the server keeps an event (the configured retention
 *      or the oldest event seen queued all along, whichever is longer, plus one interval) — or the
 *      hash is known to be queued (the last complete answer, or a cursor answer since, showed it).
 * Otherwise the server has reused the hash (a counter restarted with an emptied queue, say) and it
 * is a new event. A queue counts as reset when a complete answer lost events out of order (the
 * server drops expired events oldest first; losing younger ones while older ones stay means the
 * queue was rebuilt) or a known hash came back with another code or table: then every event last
 * seen in the previous complete answer has left it, and of those seen since, the ones that
 * vanished. One case no client can tell apart: a reissued hash whose new event has the same code and table, within the retention, with
 * no sign of a reset after its last sighting — it is taken for a repeat (the same call from the
 * same table, just delivered).
 *
 * Retention is learnt from the same answers: an event seen leaving the queue bounds it from above
 * (it was queued after the poll before its first sighting), an event seen still queued from below;
 * the poller uses the shorter of learnt and configured.
 */
import type { QrEvent } from '../domain/event';
import type { QueuedEvent, QueueSnapshot, SourceState } from '../domain/source-state';

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
  /** The new knowledge (the known queue, hashes gone, retention learnt). */
  readonly state: Pick<SourceState, 'queue' | 'gone' | 'learnt'>;
  /** Hashes known to be queued that a complete answer no longer shows. */
  readonly vanished: readonly string[];
  /** The queue was rebuilt (see the file comment). */
  readonly reset: boolean;
}

/**
 * Compare an answer with what the queue is known to hold (the last complete answer and what cursor
 * answers showed since). A complete answer (`hash=none`) shows which events left; any answer may
 * show a known hash back with another identity. `recorded` gives the record of a hash, when
 * known; `queuedAfter` is the last complete answer before this one (events it did not show were
 * queued after it).
 */
export function observeAnswer(
  state: Pick<SourceState, 'queue' | 'gone' | 'learnt'>,
  answer: { readonly events: readonly Pick<QrEvent, 'hash' | 'code' | 'tableName'>[]; readonly complete: boolean },
  recorded: (hash: string) => RecordedFacts | undefined,
  now: number,
  settings: KnowledgeSettings,
  queuedAfter: number = now - settings.intervalMs,
): QueueObservation {
  const known = state.queue?.events ?? [];
  const knownByHash = new Map(known.map((entry) => [entry[0], entry]));
  const present = new Set(answer.events.map((e) => e.hash));
  const vanished = answer.complete ? known.filter(([hash]) => !present.has(hash)) : [];
  // Expiry takes the oldest first: what vanished must be a prefix of what was queued.
  const outOfOrder = vanished.some(([hash], i) => known[i]?.[0] !== hash);
  const changed = answer.events.some((e) => {
    const facts = knownByHash.has(e.hash) ? recorded(e.hash) : undefined;
    return facts !== undefined && !sameIdentity(facts, e);
  });
  const reset = outOfOrder || changed;

  const gone: Record<string, number> = {};
  const keep = longestKeepMs(state, settings);
  for (const [hash, at] of Object.entries(state.gone)) if (now - at <= keep) gone[hash] = at;
  // What left are the events of those hashes seen until their last sighting. A reset is known only
  // to follow the last complete answer: a hash a cursor answer showed since may have been seen
  // after the reset already (its event is then the one queued now), so it left only if it vanished.
  const completeAt = state.queue?.at ?? Number.NEGATIVE_INFINITY;
  const left = reset
    ? known.filter(([hash, , lastSeenAt]) => lastSeenAt <= completeAt || (answer.complete && !present.has(hash)))
    : vanished;
  for (const [hash, , lastSeenAt] of left) gone[hash] = lastSeenAt;
  const former = (hash: string, facts: RecordedFacts | undefined) =>
    facts !== undefined && gone[hash] !== undefined && facts.firstSeenAt <= gone[hash];

  let { retentionMs, longestSeenMs } = state.learnt;
  if (!reset && vanished.length > 0) {
    // Each stayed at most from the poll before its first sighting until now. Some stayed: the
    // youngest that left surely expired. Everything left: it may have been a restart rather than
    // expiry, so only the oldest is taken to have expired (the weaker bound).
    const total = vanished.length === known.length;
    const stays = vanished.map(([, , , after]) => now - after);
    const upper = total ? Math.max(...stays) : Math.min(...stays);
    retentionMs = retentionMs === undefined ? upper : Math.min(retentionMs, upper);
  }
  if (answer.complete) {
    for (const e of answer.events) {
      const facts = recorded(e.hash);
      if (former(e.hash, facts)) continue; // a reissue: its record's age is the former event's
      // Only an event known to be queued all along shows how long events stay (a hash back after
      // a while may be a reissue: its record's age is then the forgotten event's).
      if (facts === undefined || !knownByHash.has(e.hash) || !sameIdentity(facts, e)) continue;
      const age = now - facts.firstSeenAt;
      longestSeenMs = Math.max(longestSeenMs ?? 0, age);
      if (retentionMs !== undefined && age > retentionMs) retentionMs = age;
    }
  }

  const entryOf = (e: Pick<QrEvent, 'hash'>): QueuedEvent => {
    const facts = recorded(e.hash);
    const before = knownByHash.get(e.hash);
    if (former(e.hash, facts) || (before === undefined && facts === undefined)) return [e.hash, now, now, queuedAfter];
    const firstSeenAt = facts?.firstSeenAt ?? before![1];
    return [e.hash, firstSeenAt, now, before?.[3] ?? Math.min(queuedAfter, firstSeenAt - settings.intervalMs)];
  };
  let events: QueuedEvent[];
  if (answer.complete) events = answer.events.map(entryOf);
  else {
    // A cursor answer shows events that are queued now: they join what is known to be queued.
    const seen = new Map(answer.events.map((e) => [e.hash, entryOf(e)]));
    events = [
      ...known.filter(([hash]) => !(reset && gone[hash] !== undefined)).map((entry) => seen.get(entry[0]) ?? entry),
      ...answer.events.filter((e) => !knownByHash.has(e.hash)).map((e) => seen.get(e.hash)!),
    ];
  }
  const queue: QueueSnapshot | undefined =
    answer.complete || state.queue !== undefined || events.length > 0
      ? { at: answer.complete ? now : (state.queue?.at ?? now), events: events.slice(-MAX_SNAPSHOT_EVENTS) }
      : undefined;
  return {
    state: {
      ...(queue ? { queue } : {}),
      gone,
      learnt: {
        ...(retentionMs !== undefined ? { retentionMs } : {}),
        ...(longestSeenMs !== undefined ? { longestSeenMs } : {}),
      },
    },
    vanished: vanished.map(([hash]) => hash),
    reset,
  };
}
