/**
 * The poll cycle's decisions, as pure functions of values (no I/O, no clock of their own):
 * which hash to ask for, what each event of an answer is (new / repeat / reissue / suppressed /
 * baseline), where the cursor may move, when a silence may have hidden events, whether a send may
 * still start, and what a delivery attempt's outcome means for the record. The phases
 * (ingest.ts, delivery.ts) carry them out; the rule for repeats and reused hashes is in
 * queue-knowledge.ts, the retry budget in lambda/domain/record.ts.
 */
import type { Channel, DeliveryErrorKind, DeliveryResult } from '../domain/delivery';
import type { QrEvent } from '../domain/event';
import { attemptsExhausted, type RetryPolicy, retryDelayMs } from '../domain/record';
import type { Cooldown, SourceState } from '../domain/source-state';
import { effectiveRetentionMs, judgeRecorded, type KnowledgeSettings, type RecordedFacts } from './queue-knowledge';

export interface PollSettings extends KnowledgeSettings, RetryPolicy {
  /** Poll with `hash=none` at least this often. */
  readonly reconcileMs: number;
  /** 0 = no collapsing of repeats. */
  readonly cooldownMs: number;
  readonly claimTimeoutMs: number;
  readonly deliverBacklog: boolean;
}

// --- which hash to ask for -------------------------------------------------------------------

export type QueryReason =
  | 'first-run'
  | 'no-cursor'
  | 'cursor-gone'
  | 'cursor-stale'
  | 'reconcile'
  | 'cursor'
  | 'reconcile-backed-off'
  | 'cursor-rejected'
  | 'cursor-fallback';

export interface QueryChoice {
  /** null = `hash=none`. */
  readonly cursor: string | null;
  readonly reason: QueryReason;
}

/** How long a cursor is trusted after its event was first seen: a little less than the retention. */
export function cursorTrustMs(state: Pick<SourceState, 'learnt'>, settings: KnowledgeSettings): number {
  return effectiveRetentionMs(state, settings) - 2 * settings.intervalMs;
}

export function isCursorTrusted(state: SourceState, now: number, settings: KnowledgeSettings): boolean {
  return (
    state.cursor !== undefined &&
    state.cursorAt !== undefined &&
    state.gone[state.cursor] === undefined &&
    now - state.cursorAt < cursorTrustMs(state, settings)
  );
}

/**
 * A cursor is trusted only while the server surely still has its event (and it was not seen to
 * leave the queue). Past that, and every `reconcileMs` regardless, ask for everything and let the
 * records drop repeats: a server that forgot the cursor and answers "nothing new" forever cannot
 * hide events for longer. A `hash=none` poll that keeps failing is backed off while a cursor exists.
 */
export function chooseQuery(state: SourceState, now: number, settings: PollSettings): QueryChoice {
  if (state.baselineAt === undefined) return { cursor: null, reason: 'first-run' };
  if (state.cursor === undefined || state.cursorAt === undefined) return { cursor: null, reason: 'no-cursor' };
  if (state.gone[state.cursor] !== undefined) return { cursor: null, reason: 'cursor-gone' };
  const backedOff = state.reconcile !== undefined && now < state.reconcile.nextAt;
  const reconcileDue = state.lastNoneAt === undefined || now - state.lastNoneAt >= settings.reconcileMs;
  const stale = !isCursorTrusted(state, now, settings);
  if ((stale || reconcileDue) && backedOff) return { cursor: state.cursor, reason: 'reconcile-backed-off' };
  if (stale) return { cursor: null, reason: 'cursor-stale' };
  if (reconcileDue) return { cursor: null, reason: 'reconcile' };
  return { cursor: state.cursor, reason: 'cursor' };
}

/** After `failures` failed `hash=none` polls in a row: when to try the next one. */
export function reconcileBackoff(failures: number, now: number, settings: Pick<PollSettings, 'reconcileMs'>): number {
  return now + Math.min(settings.reconcileMs * 2 ** Math.max(0, failures - 1), 300_000);
}

/**
 * The last successful poll is older than the server's retention: events may have come and gone
 * unseen. A learnt retention is an upper bound (it errs by up to the spacing of complete answers
 * and an interval), so against it the silence counts from that much earlier.
 */
export function isPossibleGap(
  state: SourceState,
  now: number,
  settings: KnowledgeSettings & Pick<PollSettings, 'reconcileMs'>,
): boolean {
  if (state.lastSuccessAt === undefined) return false;
  const retention = effectiveRetentionMs(state, settings);
  const learnt = retention < settings.retentionMs;
  const threshold = learnt
    ? Math.max(settings.intervalMs, retention - settings.reconcileMs - settings.intervalMs)
    : retention;
  return now - state.lastSuccessAt > threshold;
}

// --- what each event is ----------------------------------------------------------------------

export type EventFate =
  /** Already recorded, or earlier in this answer. */
  | { readonly kind: 'duplicate' }
  | {
      /**
       * new: claim and deliver. suppressed: inside the cooldown of `original` — recorded, not sent
       * (`hold`: the original is not delivered yet, so the repeat is sent should it fail).
       * baseline: queued before the source's first poll — recorded, not sent.
       */
      readonly kind: 'new' | 'suppressed' | 'baseline';
      /** The hash has a record of an earlier event (the server reused it): that record is replaced. */
      readonly reissueOf?: RecordedFacts;
      readonly original?: string;
      readonly hold?: boolean;
    };

export interface TriagedEvent {
  readonly event: QrEvent;
  readonly fate: EventFate;
}

export interface TriageContext {
  readonly firstRun: boolean;
  readonly now: number;
  readonly cooldowns: Readonly<Record<string, Cooldown>>;
  /** The record of a hash, when one is known. */
  readonly recorded: (hash: string) => RecordedFacts | undefined;
  /** How the original of a cooldown stands: failed originals suppress nothing; undelivered ones hold their repeats. */
  readonly originalStatus: (hash: string) => 'delivered' | 'failed' | 'pending' | undefined;
  readonly goneAt: (hash: string) => number | undefined;
  readonly inLastQueue: (hash: string) => boolean;
  readonly longestKeepMs: number;
}

export interface Triage {
  readonly events: readonly TriagedEvent[];
  /** The cooldowns after this answer (expired ones dropped). */
  readonly cooldowns: Readonly<Record<string, Cooldown>>;
}

/** Key of the cooldown of one code at one table. */
export function cooldownKey(tableName: string, code: string): string {
  return `${tableName}#${code}`;
}

/**
 * Decide every event of an answer, in order. On the first run the backlog is recorded, not sent,
 * unless the config asks for it. A repeat of one code from one table inside the cooldown is
 * suppressed — unless the event that started the cooldown failed for good; one that is still
 * being retried holds its repeats, to be sent should it fail. The window starts at the event that
 * was sent and is not extended by repeats.
 */
export function triage(events: readonly QrEvent[], context: TriageContext, settings: PollSettings): Triage {
  const cooldowns: Record<string, Cooldown> = pruneCooldowns(context.cooldowns, context.now);
  const seen = new Set<string>();
  const out = events.map((event): TriagedEvent => {
    if (seen.has(event.hash)) return { event, fate: { kind: 'duplicate' } };
    seen.add(event.hash);
    const recorded = context.recorded(event.hash);
    if (recorded !== undefined) {
      const sameness = judgeRecorded(recorded, event, {
        now: context.now,
        goneAt: context.goneAt(event.hash),
        inLastQueue: context.inLastQueue(event.hash),
        longestKeepMs: context.longestKeepMs,
      });
      if (sameness === 'repeat') return { event, fate: { kind: 'duplicate' } };
    }
    const reissue = recorded ? { reissueOf: recorded } : {};
    if (context.firstRun && !settings.deliverBacklog) return { event, fate: { kind: 'baseline', ...reissue } };
    if (settings.cooldownMs > 0) {
      const key = cooldownKey(event.tableName, event.code);
      const window = cooldowns[key];
      // A window started by this very hash is a former event's (a reused hash): not a repeat of it.
      const active = window !== undefined && window.until > context.now && window.hash !== event.hash;
      const original = active ? context.originalStatus(window.hash) : undefined;
      if (active && original !== 'failed') {
        return {
          event,
          fate: { kind: 'suppressed', ...reissue, original: window.hash, hold: original !== 'delivered' },
        };
      }
      cooldowns[key] = { until: context.now + settings.cooldownMs, hash: event.hash };
    }
    return { event, fate: { kind: 'new', ...reissue } };
  });
  return { events: out, cooldowns };
}

export function pruneCooldowns(cooldowns: Readonly<Record<string, Cooldown>>, now: number): Record<string, Cooldown> {
  return Object.fromEntries(Object.entries(cooldowns).filter(([, c]) => c.until > now));
}

// --- the cursor ------------------------------------------------------------------------------

/**
 * Where the cursor may go once events are durably recorded: to the last event of the answer's
 * longest recorded prefix (an event whose record could not be written yet holds the cursor
 * before it), stamped with when that event was first seen. Nothing recorded: it stays.
 */
export function advanceCursor(
  state: Pick<SourceState, 'cursor' | 'cursorAt'>,
  events: readonly QrEvent[],
  isRecorded: (hash: string) => boolean,
  firstSeenAt: (hash: string) => number,
): Pick<SourceState, 'cursor' | 'cursorAt'> {
  let last: QrEvent | undefined;
  for (const event of events) {
    if (!isRecorded(event.hash)) break;
    last = event;
  }
  if (last === undefined) return { cursor: state.cursor, cursorAt: state.cursorAt };
  return { cursor: last.hash, cursorAt: firstSeenAt(last.hash) };
}

// --- whether a send may still start ---------------------------------------------------------

/**
 * When a tick's sends may go. A send starts before `startBy` (the tick's deadline) and may run
 * past it by its budget, but never past `finishBy` (the lease's end less its margin, so another
 * poller cannot take the source over while it is in flight). Holding sends back a whole budget
 * before the tick's deadline instead would leave every run's last seconds unsent: at 2-s polling
 * and a 10-s budget, one call in six waited for the next run (p95 ≈ 11 s in the bench).
 */
export interface SendWindow {
  readonly startBy: number;
  readonly finishBy: number;
}

/** The deadline to give a send starting `now`, or undefined when it may not start any more. */
export function sendDeadline(window: SendWindow, now: number, budgetMs: number): number | undefined {
  const deadline = Math.min(window.startBy + budgetMs, window.finishBy);
  return now + budgetMs <= deadline ? deadline : undefined;
}

// --- delivery outcomes -----------------------------------------------------------------------

export type DeliveryVerdict =
  | { readonly outcome: 'delivered'; readonly doneChannels: readonly Channel[]; readonly ambiguous: readonly Channel[] }
  | {
      readonly outcome: 'retry' | 'failed';
      readonly doneChannels: readonly Channel[];
      readonly errorKind: DeliveryErrorKind;
      readonly error: string;
      /** Channels whose send may have gone out although it failed: a retry may send them twice. */
      readonly ambiguous: readonly Channel[];
      /** retry: when the next attempt is due. */
      readonly dueAt?: number;
    };

/**
 * What one attempt means: every channel done → delivered; otherwise another attempt later (keeping
 * the channels that worked), unless every failure is permanent or the retry budget is spent.
 */
export function judgeDelivery(
  result: DeliveryResult,
  record: { readonly attempts: number; readonly firstSeenAt: number; readonly doneChannels: readonly Channel[] },
  now: number,
  policy: RetryPolicy,
): DeliveryVerdict {
  const done = new Set<Channel>(record.doneChannels);
  for (const c of result.channels) if (c.ok) done.add(c.channel);
  const doneChannels = [...done];
  const failures = result.channels.flatMap((c) => (c.ok ? [] : [c]));
  const ambiguous = failures.filter((f) => f.ambiguous === true).map((f) => f.channel);
  if (failures.length === 0) return { outcome: 'delivered', doneChannels, ambiguous };
  const errorKind: DeliveryErrorKind = failures.some((f) => f.kind === 'permanent')
    ? 'permanent'
    : failures.some((f) => f.kind === 'throttled')
      ? 'throttled'
      : 'transient';
  const error = failures.map((f) => `${f.channel}: ${f.message}`).join('; ');
  // A rate limit names its own time; a send never attempted (paced past the tick) costs no attempt.
  const backoff = now + retryDelayMs(record.attempts, policy);
  const retryAts = failures.flatMap((f) => (f.retryAt !== undefined ? [f.retryAt] : []));
  const dueAt = retryAts.length === failures.length ? Math.max(now, Math.min(...retryAts)) : backoff;
  const onlyDeferred = failures.every((f) => f.deferred === true);
  const giveUp =
    failures.every((f) => f.kind === 'permanent') ||
    attemptsExhausted(
      { attemptsMade: onlyDeferred ? 0 : record.attempts, firstSeenAt: record.firstSeenAt },
      dueAt,
      policy,
    );
  return giveUp
    ? { outcome: 'failed', doneChannels, errorKind, error, ambiguous }
    : { outcome: 'retry', doneChannels, errorKind, error, ambiguous, dueAt };
}
