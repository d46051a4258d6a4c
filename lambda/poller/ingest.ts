/**
 * The ingest phase of a tick: poll the server → learn from its answer → decide what each event
 * is → write a record for every event worth one → move the cursor past what is recorded.
 *
 * Nothing is lost: the cursor moves only past the longest prefix of the answer whose events all
 * have a record, so an event whose record could not be written (DynamoDB throttling, the tick's
 * time running out) is asked for again. One event DynamoDB refuses in any form (a poison event)
 * blocks only itself. New claims become `send` jobs for the delivery phase (delivery.ts).
 */
import pLimit from 'p-limit';
import { METRIC, POLL_ERROR_METRIC } from '../domain/metrics';
import type { QrEvent } from '../domain/event';
import { type ClaimedRecord, EVENT_STATUS, PENDING_STATUSES, recordIdOf } from '../domain/record';
import { RecordRejectedError } from '../domain/ports';
import type { FetchedAnswer } from '../domain/fetch';
import {
  advanceCursor,
  chooseQuery,
  isCursorTrusted,
  isPossibleGap,
  type QueryReason,
  reconcileBackoff,
  type TriagedEvent,
  triage,
} from './decisions';
import { effectiveRetentionMs, longestKeepMs, observeAnswer } from './queue-knowledge';
import { describeError, type SourceContext, STORE_WRITE_MIN_MS } from './source-context';

export interface IngestReport {
  readonly polled: boolean;
  readonly query?: QueryReason;
  readonly received: number;
  /** New events claimed for delivery. */
  readonly claimed: number;
  /** Events of the answer still without a record (left for the next tick). */
  readonly unrecorded: number;
  readonly error?: string;
}

export async function ingest(ctx: SourceContext, until: number): Promise<IngestReport> {
  const polled = await poll(ctx, until);
  if (!polled.answer)
    return { polled: true, query: polled.reason, received: 0, claimed: 0, unrecorded: 0, error: polled.error };
  const { answer } = polled;
  const now = ctx.o.clock.now();
  const base = { polled: true, query: polled.reason, received: answer.events.length };
  try {
    await lookUpUnknown(ctx, answer.events, now);
  } catch (error) {
    ctx.stateError(error, 'looking up which events are already recorded');
    return { ...base, claimed: 0, unrecorded: answer.events.length, error: 'state' };
  }
  const lastQueue = new Set((ctx.state.queue?.events ?? []).map(([hash]) => hash));
  learn(ctx, answer, polled.cursor === null, now, polled.previousCompleteAt);
  const firstRun = ctx.state.baselineAt === undefined;
  const decided = triage(
    answer.events.filter((e) => !ctx.isPoisoned(e.hash)),
    {
      firstRun,
      now,
      cooldowns: ctx.state.cooldowns,
      recorded: (hash) => ctx.known.get(hash),
      originalStatus: (hash) => {
        const status = ctx.known.get(hash)?.status;
        if (status === undefined) return undefined;
        if (status === EVENT_STATUS.delivered || status === EVENT_STATUS.failed) return status;
        return 'pending';
      },
      goneAt: (hash) => ctx.state.gone[hash],
      inLastQueue: (hash) => lastQueue.has(hash),
      longestKeepMs: longestKeepMs(ctx.state, ctx.settings),
    },
    ctx.settings,
  );
  const recorded = await writeRecords(ctx, decided.events, now, until);
  // A hash is recorded when its first occurrence was a repeat of a record, or its record was written now.
  const repeats = new Set<string>();
  const decidedHashes = new Set<string>();
  for (const { event, fate } of decided.events) {
    if (!decidedHashes.has(event.hash) && fate.kind === 'duplicate') repeats.add(event.hash);
    decidedHashes.add(event.hash);
  }
  const isRecorded = (hash: string) => recorded.has(hash) || repeats.has(hash) || ctx.isPoisoned(hash);
  const allRecorded = answer.events.every((e) => isRecorded(e.hash));
  ctx.state = {
    ...ctx.state,
    ...advanceCursor(ctx.state, answer.events, isRecorded, (hash) => ctx.known.get(hash)?.firstSeenAt ?? now),
    // A new event left unrecorded set no cooldown: it is decided afresh next tick.
    cooldowns: Object.fromEntries(
      Object.entries(decided.cooldowns).filter(([, c]) => recorded.has(c.hash) || ctx.known.has(c.hash)),
    ),
    ...(firstRun && allRecorded ? { baselineAt: now } : {}),
  };
  if (firstRun && allRecorded) await checkpoint(ctx);
  const claimed = decided.events.filter((t) => t.fate.kind === 'new' && recorded.has(t.event.hash)).length;
  return { ...base, claimed, unrecorded: answer.events.filter((e) => !isRecorded(e.hash)).length };
}

// --- poll ------------------------------------------------------------------------------------

interface Polled {
  readonly reason: QueryReason;
  /** What was asked for (null = `hash=none`). */
  readonly cursor: string | null;
  readonly answer?: FetchedAnswer;
  readonly error?: string;
  readonly kind?: string;
  /**
   * The last complete answer (`hash=none`) before this poll: an event it did not show was queued
   * after it. (A cursor answer proves less: a forgotten cursor is answered with nothing.)
   */
  readonly previousCompleteAt?: number;
}

/** Failures that say nothing about the `hash=none` answer (the cursor would fail the same way). */
const NOT_THE_QUEUE = new Set(['auth', 'tls', 'secret']);

async function poll(ctx: SourceContext, until: number): Promise<Polled> {
  const { clock, log, metrics } = ctx.o;
  const now = clock.now();
  const choice = chooseQuery(ctx.state, now, ctx.settings);
  const first = await fetch(ctx, choice.cursor, until);
  let polled: Polled = { ...choice, ...first };
  if (first.error !== undefined && first.kind !== undefined) {
    if (choice.cursor !== null && (first.kind === 'bad_response' || first.kind === 'server')) {
      // The server may have forgotten our cursor and answers it with an error: ask for everything.
      log.warn('the server rejected the cursor; asking for every queued event instead', {
        source: ctx.id,
        cursor: choice.cursor,
        error: first.error,
      });
      polled = { reason: 'cursor-rejected', cursor: null, ...(await fetch(ctx, null, until)) };
    } else if (choice.cursor === null && ctx.state.cursor !== undefined && !NOT_THE_QUEUE.has(first.kind)) {
      polled = await reconcileFailed(ctx, first.error, first.kind, until);
    }
  }
  if (!polled.answer) {
    reportPollError(ctx, polled.error ?? 'unknown', polled.kind ?? 'unreachable');
    return polled;
  }
  if (polled.cursor === null && ctx.state.reconcile !== undefined) {
    const { reconcile: _backedOff, ...rest } = ctx.state;
    ctx.state = rest;
  }
  if (isPossibleGap(ctx.state, now, ctx.settings)) await possibleGap(ctx, now - ctx.state.lastSuccessAt!);
  const previousCompleteAt = ctx.state.lastNoneAt;
  ctx.state = { ...ctx.state, lastSuccessAt: now, ...(polled.cursor === null ? { lastNoneAt: now } : {}) };
  metrics.count(METRIC.pollSucceeded);
  metrics.count(METRIC.eventsReceived, polled.answer.events.length);
  if (polled.answer.skipped.length > 0) {
    metrics.count(METRIC.malformedEvents, polled.answer.skipped.length);
    log.warn('the server sent events that cannot be used; they were skipped', {
      source: ctx.id,
      skipped: polled.answer.skipped,
    });
  }
  log.debug('polled', {
    source: ctx.id,
    query: polled.reason,
    events: polled.answer.events.length,
    attempts: polled.answer.attempts,
    bytes: polled.answer.bytes,
  });
  return previousCompleteAt === undefined ? polled : { ...polled, previousCompleteAt };
}

/** A `hash=none` poll failed: back it off, tell the operator once, and use the cursor meanwhile. */
async function reconcileFailed(ctx: SourceContext, error: string, kind: string, until: number): Promise<Polled> {
  const { clock, log, metrics } = ctx.o;
  const now = clock.now();
  const failures = (ctx.state.reconcile?.failures ?? 0) + 1;
  const nextAt = reconcileBackoff(failures, now, ctx.settings);
  ctx.state = { ...ctx.state, reconcile: { failures, nextAt } };
  metrics.count(METRIC.reconcileFailures);
  const trusted = isCursorTrusted(ctx.state, now, ctx.settings);
  log.warn('asking for every queued event (hash=none) failed; it is backed off and the cursor is used meanwhile', {
    source: ctx.id,
    failures,
    retryAt: nextAt,
    cursorTrusted: trusted,
    error,
  });
  if (failures >= 3) {
    await ctx.alertOnce(
      'reconcile',
      `qrmenu-alerts: ${ctx.name} fails to list its queue`,
      `Asking ${ctx.name} for every queued event (hash=none) failed ${failures} times in a row (${error}). ` +
        'New events are still read after the last known one, but events a restarted server hides may be late. ' +
        'Check polling.maxResponseBytes and polling.requestTimeoutMs against the size of the queue.',
    );
  }
  if (!trusted || ctx.state.cursor === undefined) return { reason: 'cursor-fallback', cursor: null, error, kind };
  return { reason: 'cursor-fallback', cursor: ctx.state.cursor, ...(await fetch(ctx, ctx.state.cursor, until)) };
}

async function fetch(
  ctx: SourceContext,
  cursor: string | null,
  until: number,
): Promise<{ answer?: FetchedAnswer; error?: string; kind?: string }> {
  try {
    return { answer: await ctx.o.fetchEvents(cursor, { deadline: until }) };
  } catch (error) {
    return { error: describeError(error), kind: fetchErrorKind(error) };
  }
}

function fetchErrorKind(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && kind in POLL_ERROR_METRIC ? kind : 'unreachable';
}

function reportPollError(ctx: SourceContext, message: string, kind: string): void {
  const { clock, log, metrics, observer } = ctx.o;
  metrics.count(METRIC.pollErrors);
  metrics.count(POLL_ERROR_METRIC[kind as keyof typeof POLL_ERROR_METRIC] ?? METRIC.unreachableErrors);
  const last = ctx.state.lastSuccessAt;
  metrics.milliseconds(METRIC.pollSilence, last === undefined ? Number.POSITIVE_INFINITY : clock.now() - last);
  log.error('polling the QR-menu server failed', { source: ctx.id, kind, error: message });
  observer?.({ type: 'error', source: ctx.id, kind, message });
}

async function possibleGap(ctx: SourceContext, silenceMs: number): Promise<void> {
  const { log, metrics, observer } = ctx.o;
  const retention = effectiveRetentionMs(ctx.state, ctx.settings);
  const message =
    `no successful poll of ${ctx.name} for ${Math.round(silenceMs / 1000)} s, longer than the server keeps events ` +
    `(${Math.round(retention / 1000)} s${retention < ctx.settings.retentionMs ? ', as learnt from its answers' : ''}): ` +
    'guest calls in that time may have been missed';
  metrics.count(METRIC.possibleGap);
  log.warn('possible gap', { source: ctx.id, silenceMs, retentionMs: retention });
  observer?.({ type: 'gap', source: ctx.id, message });
  await ctx.alertOnce('gap', `qrmenu-alerts: possible missed events at ${ctx.name}`, message);
}

// --- learn -----------------------------------------------------------------------------------

/** Records of the answer's hashes this poller does not know yet; pending ones become jobs. */
async function lookUpUnknown(ctx: SourceContext, events: readonly QrEvent[], now: number): Promise<void> {
  const unknown = [...new Set(events.map((e) => e.hash))].filter((h) => !ctx.known.has(h) && !ctx.isPoisoned(h));
  if (unknown.length === 0) return;
  const found = await ctx.o.store.findRecorded(
    ctx.id,
    unknown.map((hash) => ctx.recordIdOf(hash)),
  );
  const byHash = new Map(events.map((e) => [e.hash, e]));
  for (const record of found.values()) {
    ctx.known.set(record.hash, record);
    const escalation = record.status === EVENT_STATUS.delivered && record.dueAt !== undefined;
    if ((PENDING_STATUSES.includes(record.status) || escalation) && !ctx.jobs.has(record.recordId)) {
      const event = byHash.get(record.hash);
      if (record.owner === ctx.owner && record.status === EVENT_STATUS.claimed && event !== undefined) {
        // Our own claim, whose write was applied after we had given up on it: deliver it now.
        ctx.jobs.set(record.recordId, {
          step: 'send',
          record: {
            recordId: record.recordId,
            event,
            firstSeenAt: record.firstSeenAt,
            attempts: record.attempts,
            doneChannels: [],
            phase: record.phase,
            phaseAt: record.firstSeenAt,
            needsAck: ctx.attendance(event, record.firstSeenAt).needsAck,
            messages: {},
          },
        });
      } else {
        ctx.jobs.set(record.recordId, {
          step: 'due',
          dueAt: record.dueAt ?? now,
          attempts: record.attempts,
          phase: record.phase,
          escalate: escalation,
        });
      }
    }
  }
}

function learn(
  ctx: SourceContext,
  answer: FetchedAnswer,
  complete: boolean,
  now: number,
  queuedAfter: number | undefined,
): void {
  const { log, metrics } = ctx.o;
  const before = effectiveRetentionMs(ctx.state, ctx.settings);
  const observation = observeAnswer(
    ctx.state,
    { events: answer.events, complete },
    (h) => ctx.known.get(h),
    now,
    ctx.settings,
    queuedAfter,
  );
  ctx.state = { ...ctx.state, ...observation.state };
  if (observation.reset) {
    metrics.count(METRIC.queueResets);
    log.warn("the server's queue was rebuilt (a restart?): hashes it shows again are new events", {
      source: ctx.id,
      vanished: observation.vanished.length,
    });
  }
  const after = effectiveRetentionMs(ctx.state, ctx.settings);
  if (after !== before) {
    log.info("the retention learnt from the server's answers changed", {
      source: ctx.id,
      configuredMs: ctx.settings.retentionMs,
      learntMs: ctx.state.learnt.retentionMs,
      effectiveMs: after,
    });
  }
  // Aliases and poison marks matter only while the server may still show the hash.
  const keep = longestKeepMs(ctx.state, ctx.settings);
  const recent = (entries: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(entries).filter(([, since]) => now - since <= keep));
  ctx.state = { ...ctx.state, aliases: recent(ctx.state.aliases), poisoned: recent(ctx.state.poisoned) };
}

// --- records ---------------------------------------------------------------------------------

/** Write the records the triage asks for, in answer order, while the tick has time; returns the recorded hashes. */
async function writeRecords(
  ctx: SourceContext,
  decided: readonly TriagedEvent[],
  now: number,
  until: number,
): Promise<Set<string>> {
  const limit = pLimit(ctx.settings.concurrency);
  const written = await Promise.all(
    decided.map(({ event, fate }) =>
      limit(async (): Promise<Written | undefined> => {
        if (fate.kind === 'duplicate') {
          ctx.o.metrics.count(METRIC.duplicatesSkipped);
          return undefined;
        }
        if (ctx.timeLeft(until) < STORE_WRITE_MIN_MS) return undefined; // left for the next tick, the cursor waits
        return writeRecord(ctx, event, fate, now);
      }),
    ),
  );
  // New claims are delivered in the server's (chronological) order, whichever write finished first.
  const recorded = new Set<string>();
  for (const [i, result] of written.entries()) {
    if (!result) continue;
    recorded.add(decided[i]!.event.hash);
    if (result.claimed) ctx.jobs.set(result.claimed.recordId, { step: 'send', record: result.claimed });
  }
  return recorded;
}

/** A record that is now in the table; a new claim comes with what its delivery needs. */
interface Written {
  readonly claimed?: ClaimedRecord;
}

/** Never throws: a write that failed is logged and counted, and the event left unrecorded (undefined). */
async function writeRecord(
  ctx: SourceContext,
  event: QrEvent,
  fate: Exclude<TriagedEvent['fate'], { kind: 'duplicate' }>,
  now: number,
): Promise<Written | undefined> {
  const { store, metrics, observer, log } = ctx.o;
  const status = fate.kind === 'new' ? EVENT_STATUS.claimed : fate.kind;
  // Only a call that is sent needs someone to come; a repeat is answered through its original.
  const needsAck = status === EVENT_STATUS.claimed && ctx.attendance(event, now).needsAck;
  const previous = fate.reissueOf ? ctx.known.get(event.hash) : undefined;
  // A reused hash whose earlier record still has work cannot take that record over: its own id.
  const alias = previous !== undefined && PENDING_STATUSES.includes(previous.status);
  const recordId = recordIdOf(event.hash, alias ? now : undefined);
  const write = (e: QrEvent) =>
    store.create(ctx.id, {
      recordId,
      event: e,
      status,
      owner: ctx.owner,
      now,
      ...(status === EVENT_STATUS.claimed ? { dueAt: now + ctx.settings.claimTimeoutMs } : {}),
      ttlSeconds: ctx.settings.recordTtlSeconds,
      ...(previous && !alias ? { replaces: previous.firstSeenAt } : {}),
      ...(fate.original !== undefined ? { suppressedBy: fate.original } : {}),
      ...(needsAck ? { needsAck } : {}),
    });
  let stored = event;
  let outcome: 'created' | 'exists';
  try {
    try {
      outcome = await write(event);
    } catch (error) {
      if (!(error instanceof RecordRejectedError)) throw error;
      stored = placeholderEvent(event);
      log.warn("DynamoDB refused the event's record; storing it without the server's extra data", {
        source: ctx.id,
        hash: event.hash,
        error: error.message,
      });
      outcome = await write(stored);
    }
  } catch (error) {
    if (error instanceof RecordRejectedError) {
      await poison(ctx, event, error.message);
      return undefined;
    }
    ctx.stateError(error, 'recording an event', { hash: event.hash });
    return undefined;
  }
  if (outcome === 'exists') {
    // Another poller recorded it first (or replaced the earlier record): nothing to do here.
    ctx.known.delete(event.hash);
    metrics.count(METRIC.duplicatesSkipped);
    return {};
  }
  ctx.known.set(event.hash, {
    recordId,
    hash: event.hash,
    status,
    firstSeenAt: now,
    code: event.code,
    table: event.tableName,
  });
  const { [event.hash]: _consumed, ...gone } = ctx.state.gone;
  ctx.state = {
    ...ctx.state,
    gone,
    ...(alias ? { aliases: { ...ctx.state.aliases, [event.hash]: now } } : {}),
  };
  if (fate.reissueOf) {
    metrics.count(METRIC.reusedHashes);
    log.info('the server reused a hash for a new event', {
      source: ctx.id,
      hash: event.hash,
      earlier: { firstSeenAt: fate.reissueOf.firstSeenAt, code: fate.reissueOf.code, table: fate.reissueOf.table },
    });
  }
  const about = { source: ctx.id, hash: event.hash, code: event.code, table: event.tableName };
  if (status === EVENT_STATUS.claimed) {
    metrics.count(METRIC.eventsNew);
    return {
      claimed: {
        recordId,
        event: stored,
        firstSeenAt: now,
        attempts: 1,
        doneChannels: [],
        phase: 0,
        phaseAt: now,
        needsAck,
        messages: {},
      },
    };
  }
  metrics.count(status === EVENT_STATUS.baseline ? METRIC.baselineRecorded : METRIC.eventsSuppressed);
  observer?.({ type: 'skipped', ...about, reason: status });
  if (fate.kind === 'suppressed' && fate.hold && fate.original !== undefined) {
    const held = ctx.state.held[fate.original] ?? [];
    ctx.state = { ...ctx.state, held: { ...ctx.state.held, [fate.original]: [...held, recordId].slice(-20) } };
  }
  return {};
}

/** The event without anything but what staff need to see, for a record DynamoDB refused whole. */
function placeholderEvent(event: QrEvent): QrEvent {
  return {
    hash: event.hash,
    code: event.code.slice(0, 100),
    tableId: typeof event.tableId === 'string' ? event.tableId.slice(0, 100) : event.tableId,
    tableName: event.tableName.slice(0, 200),
    invoice: null,
    order: null,
    raw: { hash: event.hash },
    placeholders: [...new Set([...event.placeholders, 'invoice', 'order', 'raw'])],
  };
}

async function poison(ctx: SourceContext, event: QrEvent, reason: string): Promise<void> {
  ctx.state = { ...ctx.state, poisoned: { ...ctx.state.poisoned, [event.hash]: ctx.o.clock.now() } };
  ctx.o.metrics.count(METRIC.poisonEvents);
  ctx.o.log.error('an event cannot be recorded in any form; it is not delivered', {
    source: ctx.id,
    hash: event.hash,
    error: reason,
  });
  await ctx.alertOnce(
    `poison:${event.hash}`,
    `qrmenu-alerts: an event from ${ctx.name} could not be handled`,
    `Event ${event.hash.slice(0, 64)} (${event.code.slice(0, 40)}) from ${ctx.name} could not be recorded, even without its ` +
      `extra data, so it was not delivered: ${reason}. The other events are not affected.`,
  );
}

/** Save the state now, keeping the lease (after the first run's backlog is recorded). */
async function checkpoint(ctx: SourceContext): Promise<void> {
  try {
    const saved = await ctx.o.store.saveState(ctx.id, ctx.owner, ctx.state, { release: false });
    if (!saved) ctx.o.log.warn('the lease was lost while saving the state', { source: ctx.id });
  } catch (error) {
    ctx.stateError(error, "saving the first run's state");
  }
}
