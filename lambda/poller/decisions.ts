/**
 * The poll cycle's decisions, as pure functions of values (no I/O, no clock of their own):
 * which hash to ask for, what each event of an answer is (new / duplicate / suppressed /
 * baseline), where the cursor moves, when a silence may have hidden events, and what a delivery
 * attempt's outcome means for the record. source-poller.ts carries them out.
 */
import type { Channel, DeliveryErrorKind, DeliveryResult } from '../notify/port';
import type { QrEvent } from '../qrmenu/event';
import type { SourceState } from '../state/store';

export interface PollSettings {
  readonly intervalMs: number;
  /** How long the server keeps an event. */
  readonly retentionMs: number;
  /** Poll with `hash=none` at least this often. */
  readonly reconcileMs: number;
  /** 0 = no collapsing of repeats. */
  readonly cooldownMs: number;
  readonly claimTimeoutMs: number;
  readonly maxAttempts: number;
  readonly deliverBacklog: boolean;
}

// --- which hash to ask for -------------------------------------------------------------------

export type QueryReason = 'first-run' | 'no-cursor' | 'cursor-stale' | 'reconcile' | 'cursor' | 'cursor-rejected';

export interface QueryChoice {
  /** null = `hash=none`. */
  readonly cursor: string | null;
  readonly reason: QueryReason;
}

/**
 * A cursor is trusted only while the server surely still has its event: a little less than one
 * retention after we first saw it (it may have been queued a poll interval before). Past that,
 * and every `reconcileMs` regardless, ask for everything and let the seen-ids drop repeats: a
 * server that forgot the cursor and answers "nothing new" forever cannot hide events for longer.
 */
export function chooseQuery(state: SourceState, now: number, settings: PollSettings): QueryChoice {
  if (state.baselineAt === undefined) return { cursor: null, reason: 'first-run' };
  if (state.cursor === undefined || state.cursorAt === undefined) return { cursor: null, reason: 'no-cursor' };
  const trustedFor = settings.retentionMs - 2 * settings.intervalMs;
  if (now - state.cursorAt >= trustedFor) return { cursor: null, reason: 'cursor-stale' };
  if (state.lastNoneAt === undefined || now - state.lastNoneAt >= settings.reconcileMs)
    return { cursor: null, reason: 'reconcile' };
  return { cursor: state.cursor, reason: 'cursor' };
}

// --- what each event is ----------------------------------------------------------------------

export type EventFate = 'new' | 'duplicate' | 'suppressed' | 'baseline';

export interface TriagedEvent {
  readonly event: QrEvent;
  readonly fate: EventFate;
}

export interface Triage {
  readonly events: readonly TriagedEvent[];
  /** The cooldowns after this answer (expired ones dropped). */
  readonly cooldowns: Readonly<Record<string, number>>;
}

/** Key of the cooldown of one code at one table (the same as DESIGN's `cool#<table>#<code>`). */
export function cooldownKey(tableName: string, code: string): string {
  return `${tableName}#${code}`;
}

/**
 * Decide every event of an answer, in order. `recorded` holds the hashes that already have a
 * record (or were handled earlier in this run). On the first run the backlog is recorded, not sent,
 * unless the config asks for it. A repeat of one code from one table inside the cooldown is
 * suppressed; the window starts at the event that was sent and is not extended by repeats.
 */
export function triage(
  events: readonly QrEvent[],
  recorded: { has(hash: string): boolean },
  context: { readonly firstRun: boolean; readonly cooldowns: Readonly<Record<string, number>>; readonly now: number },
  settings: PollSettings,
): Triage {
  const cooldowns: Record<string, number> = pruneCooldowns(context.cooldowns, context.now);
  const seen = new Set<string>();
  const out = events.map((event): TriagedEvent => {
    if (recorded.has(event.hash) || seen.has(event.hash)) return { event, fate: 'duplicate' };
    seen.add(event.hash);
    if (context.firstRun && !settings.deliverBacklog) return { event, fate: 'baseline' };
    if (settings.cooldownMs > 0) {
      const key = cooldownKey(event.tableName, event.code);
      const until = cooldowns[key];
      if (until !== undefined && until > context.now) return { event, fate: 'suppressed' };
      cooldowns[key] = context.now + settings.cooldownMs;
    }
    return { event, fate: 'new' };
  });
  return { events: out, cooldowns };
}

export function pruneCooldowns(cooldowns: Readonly<Record<string, number>>, now: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cooldowns).filter(([, until]) => until > now));
}

// --- the cursor ------------------------------------------------------------------------------

/**
 * Where the cursor goes once every event of an answer is durably recorded: to the answer's last
 * event, stamped with when that event was first seen. An empty answer leaves it where it is.
 */
export function advanceCursor(
  state: SourceState,
  events: readonly QrEvent[],
  firstSeenAt: (hash: string) => number,
): Pick<SourceState, 'cursor' | 'cursorAt'> {
  const last = events.at(-1);
  if (last === undefined) return { cursor: state.cursor, cursorAt: state.cursorAt };
  return { cursor: last.hash, cursorAt: firstSeenAt(last.hash) };
}

/** The last successful poll is older than the server's retention: events may have come and gone unseen. */
export function isPossibleGap(state: SourceState, now: number, settings: Pick<PollSettings, 'retentionMs'>): boolean {
  return state.lastSuccessAt !== undefined && now - state.lastSuccessAt > settings.retentionMs;
}

// --- delivery outcomes -----------------------------------------------------------------------

/** Backoff before delivery attempt n+1: 5 s, 10 s, 20 s, … capped at 5 minutes. */
export function retryDelayMs(attemptsSoFar: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attemptsSoFar - 1), 300_000);
}

export type DeliveryVerdict =
  | { readonly outcome: 'delivered'; readonly doneChannels: readonly Channel[] }
  | {
      readonly outcome: 'retry' | 'failed';
      readonly doneChannels: readonly Channel[];
      readonly errorKind: DeliveryErrorKind;
      readonly error: string;
    };

/**
 * What one attempt means: every channel done → delivered; otherwise retry later (keeping the
 * channels that worked), unless the attempts are used up or every failure is permanent.
 */
export function judgeDelivery(
  result: DeliveryResult,
  context: { readonly attempts: number; readonly alreadyDone: readonly Channel[] },
  settings: Pick<PollSettings, 'maxAttempts'>,
): DeliveryVerdict {
  const done = new Set<Channel>(context.alreadyDone);
  const failures = result.channels.filter((c) => !c.ok);
  for (const c of result.channels) if (c.ok) done.add(c.channel);
  const doneChannels = [...done];
  if (failures.length === 0) return { outcome: 'delivered', doneChannels };
  const errorKind = failures.some((f) => f.kind === 'permanent')
    ? 'permanent'
    : failures.some((f) => f.kind === 'throttled')
      ? 'throttled'
      : 'transient';
  const error = failures.map((f) => `${f.channel}: ${f.ok ? '' : f.message}`).join('; ');
  const giveUp = context.attempts >= settings.maxAttempts || failures.every((f) => !f.ok && f.kind === 'permanent');
  return { outcome: giveUp ? 'failed' : 'retry', doneChannels, errorKind, error };
}
