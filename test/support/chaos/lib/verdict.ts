/**
 * How a chaos run is judged and printed. Every event must go out on every channel the run
 * judges; a copy beyond the first is allowed only with an explanation the product cannot avoid,
 * one per extra copy: the poller died between delivering and marking (the deliver→mark crash
 * window), or the poll cycle itself logged `mayBeSentTwice: true` for it (an ambiguous send, an
 * outcome still unwritten when the run ended, a claim taken over by another poller).
 * An event that never went out is lost unless the run proves it is one of the loud or documented
 * cases, counted apart: given up after the retry window (record `failed`, the DeliveryFailed
 * alarm and the operator told), dropped by the server before the poller could see it (a
 * forgetful restart, or an absence the poller reported as a PossibleGap), or the one undecidable
 * reused hash of lambda/poller/queue-knowledge.ts.
 */
import type { SentTwiceReason } from './log-tap';

export const KINDS = [
  'crash',
  'overlap',
  'real-delivery',
  'dynamodb',
  'oversize',
  'late-send',
  'partial-ses',
  'outage',
  'counter-hashes',
  'short-retention',
  'staff-loop',
  'shared-quota',
] as const;
export type RunKind = (typeof KINDS)[number];

export type Explanation = 'deliver→mark crash window' | SentTwiceReason;
export type Excuse = 'given up' | 'dropped by server' | 'undecidable';

export interface Doubled {
  readonly id: string;
  /** Most copies on one channel. */
  readonly copies: number;
  /** One per extra copy (empty when unexplained). */
  readonly explained: readonly Explanation[];
}

export interface RunOutcome {
  readonly kind: RunKind;
  readonly variant: string;
  readonly seed: number;
  readonly events: number;
  /** Never went out, with nothing that excuses it. */
  readonly lost: readonly { readonly id: string; readonly why: string }[];
  /** Never went out, and counted apart (see the file comment). */
  readonly excused: Readonly<Record<Excuse, number>>;
  /** Events that went out more than once, explained. */
  readonly doubled: readonly Doubled[];
  /** Events that went out more often than explanations allow (with what the run could tell about why). */
  readonly unexplained: readonly {
    readonly id: string;
    readonly copies: number;
    readonly explanations: number;
    readonly why?: string;
  }[];
  /** Checks of the kind that failed (late calls, the operator not told, …). */
  readonly problems: readonly string[];
  /** Errors other than simulated crashes, as text. */
  readonly unexpected: readonly string[];
  readonly crashes: readonly string[];
  /** Faults injected, by where and what (e.g. DynamoDB call kind → error/late/slow). */
  readonly faults: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Figures of the kind, summed over its runs in the kind's line (restarts, outage minutes, …). */
  readonly figures: Readonly<Record<string, number>>;
  readonly details: string;
  readonly ms: number;
}

/** One injected event: its id (unique in the run) and its hash (what the product keys by). */
export interface ChaosEvent {
  readonly id: string;
  readonly hash: string;
}

export interface CopyJudgement {
  /** Events that did not go out on every judged channel. */
  readonly undelivered: readonly ChaosEvent[];
  readonly doubled: readonly Doubled[];
  readonly unexplained: RunOutcome['unexplained'];
}

/**
 * Copies per event and channel against the explanations of its hash. `copies(id, channel)`
 * counts what really went out; `explanations(hash)` lists one entry per crash window the hash was
 * in and per `mayBeSentTwice` line about it.
 */
export function judgeCopies(
  events: readonly ChaosEvent[],
  channels: readonly string[],
  copies: (id: string, channel: string) => number,
  explanations: (hash: string) => readonly Explanation[],
): CopyJudgement {
  const undelivered: ChaosEvent[] = [];
  const doubled: Doubled[] = [];
  const unexplained: { id: string; copies: number; explanations: number }[] = [];
  for (const event of events) {
    const counts = channels.map((c) => copies(event.id, c));
    if (counts.some((n) => n === 0)) undelivered.push(event);
    const most = Math.max(0, ...counts);
    if (most <= 1) continue;
    const why = explanations(event.hash);
    if (why.length >= most - 1) doubled.push({ id: event.id, copies: most, explained: why.slice(0, most - 1) });
    else unexplained.push({ id: event.id, copies: most, explanations: why.length });
  }
  return { undelivered, doubled, unexplained };
}

/** Explanations of a hash from crash windows (one per window it fell in) and the poll cycle's own lines. */
export function explainer(
  windows: readonly ReadonlySet<string>[],
  sentTwice: ReadonlyMap<string, readonly SentTwiceReason[]>,
): (hash: string) => Explanation[] {
  return (hash) => [
    ...windows.filter((w) => w.has(hash)).map((): Explanation => 'deliver→mark crash window'),
    ...(sentTwice.get(hash) ?? []),
  ];
}

export const NO_EXCUSES: Readonly<Record<Excuse, number>> = {
  'given up': 0,
  'dropped by server': 0,
  undecidable: 0,
};

/** Sort undelivered events into lost and excused, by a kind's own rule. */
export function sortUndelivered(
  undelivered: readonly ChaosEvent[],
  excuse: (event: ChaosEvent) => Excuse | { lost: string },
): Pick<RunOutcome, 'lost' | 'excused'> {
  const excused: Record<Excuse, number> = { ...NO_EXCUSES };
  const lost: { id: string; why: string }[] = [];
  for (const event of undelivered) {
    const verdict = excuse(event);
    if (typeof verdict === 'string') excused[verdict] += 1;
    else lost.push({ id: event.id, why: verdict.lost });
  }
  return { lost, excused };
}

/** Every failure of a run, as the judge wrote it. */
export function failureTexts(o: RunOutcome): string[] {
  return [
    ...o.lost.map((l) => `lost ${l.id}: ${l.why}`),
    ...o.unexplained.map(
      (u) => `${u.id} went out ${u.copies} times with ${u.explanations} explanation(s)${u.why ? `: ${u.why}` : ''}`,
    ),
    ...o.problems,
    ...o.unexpected.map((u) => `unexpected: ${u}`),
  ];
}

export function passed(o: RunOutcome): boolean {
  return failureTexts(o).length === 0;
}

/** An empty outcome, for a run that could not even be judged. */
export function brokenRun(kind: RunKind, variant: string, seed: number, error: unknown): RunOutcome {
  return {
    kind,
    variant,
    seed,
    events: 0,
    lost: [],
    excused: { ...NO_EXCUSES },
    doubled: [],
    unexplained: [],
    problems: [],
    unexpected: [`the run itself failed: ${describeError(error)}`],
    crashes: [],
    faults: {},
    figures: {},
    details: '',
    ms: 0,
  };
}

/** "3 (deliver→mark crash window 2, ambiguous send 1)". */
export function doubledText(doubled: readonly Doubled[]): string {
  const why = new Map<string, number>();
  for (const d of doubled) for (const e of d.explained) why.set(e, (why.get(e) ?? 0) + 1);
  const parts = [...why].map(([e, n]) => `${e} ${n}`);
  return `${doubled.length}${parts.length ? ` (extra copies: ${parts.join(', ')})` : ''}`;
}

export function excusedText(excused: Readonly<Record<Excuse, number>>): string {
  return `given up ${excused['given up']}, dropped by server ${excused['dropped by server']}, undecidable ${excused.undecidable}`;
}

/** Of the never-delivered events, which had no record (never seen) and which were marked failed. */
export async function recordStatuses(
  store: { findRecorded(sourceId: string, hashes: readonly string[]): Promise<Map<string, { status: string }>> },
  sourceId: string,
  hashes: readonly string[],
): Promise<Map<string, string>> {
  const found = await store.findRecorded(sourceId, hashes);
  return new Map([...found].map(([id, r]) => [id, r.status]));
}

/** An error as one line of text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
