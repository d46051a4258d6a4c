/**
 * How a chaos run is judged and printed. An event is lost when it never went out; a copy beyond
 * the first is a duplicate, allowed only where the product cannot avoid it — a poller that died
 * between delivering and marking (the crash window), or a delivery the poll cycle itself logged
 * as "may be sent twice" after another poller took its claim over — and never more than two.
 * Events a forgetful server restart dropped before the poller recorded them are counted apart,
 * and so are events the poll cycle gave up on after its delivery attempts (marked failed, which
 * raises the DeliveryFailed alarm): loud, not silent.
 */

export type RunKind = 'crash' | 'overlap' | 'real-delivery';

export interface RunOutcome {
  readonly kind: RunKind;
  readonly variant: string;
  readonly seed: number;
  readonly events: number;
  readonly lost: readonly string[];
  readonly droppedByServer: number;
  /** Never delivered and marked failed after the attempts ran out (the operator is alarmed). */
  readonly gaveUp: number;
  readonly windowDuplicates: number;
  readonly acknowledgedDuplicates: number;
  readonly unexplainedDuplicates: readonly string[];
  /** Events that went out more than twice. */
  readonly tooManyCopies: readonly string[];
  /** Errors other than simulated crashes, as text. */
  readonly unexpected: readonly string[];
  readonly crashes: readonly string[];
  /** What the server did during the run. */
  readonly server: {
    readonly restartsKeep: number;
    readonly restartsForget: number;
    readonly faults: number;
    readonly modes: readonly string[];
  };
  readonly details: string;
  readonly ms: number;
}

export interface JudgeInput {
  readonly injected: readonly string[];
  /** Copies that went out, per hash (a channel the run judges on). */
  readonly copies: ReadonlyMap<string, number>;
  readonly crashWindow: ReadonlySet<string>;
  readonly acknowledged: ReadonlySet<string>;
  /** Dropped by forgetful restarts and never recorded by the poller. */
  readonly droppedUnrecorded: ReadonlySet<string>;
  /** Marked failed by the poll cycle. */
  readonly markedFailed: ReadonlySet<string>;
}

export function judge(
  input: JudgeInput,
): Pick<
  RunOutcome,
  | 'lost'
  | 'droppedByServer'
  | 'gaveUp'
  | 'windowDuplicates'
  | 'acknowledgedDuplicates'
  | 'unexplainedDuplicates'
  | 'tooManyCopies'
> {
  const never = input.injected.filter((h) => (input.copies.get(h) ?? 0) === 0);
  const duplicates = [...input.copies].filter(([, n]) => n > 1).map(([h]) => h);
  return {
    lost: never.filter((h) => !input.droppedUnrecorded.has(h) && !input.markedFailed.has(h)),
    droppedByServer: never.filter((h) => input.droppedUnrecorded.has(h)).length,
    gaveUp: never.filter((h) => !input.droppedUnrecorded.has(h) && input.markedFailed.has(h)).length,
    windowDuplicates: duplicates.filter((h) => input.crashWindow.has(h)).length,
    acknowledgedDuplicates: duplicates.filter((h) => !input.crashWindow.has(h) && input.acknowledged.has(h)).length,
    unexplainedDuplicates: duplicates.filter((h) => !input.crashWindow.has(h) && !input.acknowledged.has(h)),
    tooManyCopies: [...input.copies].filter(([, n]) => n > 2).map(([h]) => h),
  };
}

export function passed(o: RunOutcome): boolean {
  return (
    o.lost.length === 0 &&
    o.unexplainedDuplicates.length === 0 &&
    o.tooManyCopies.length === 0 &&
    o.unexpected.length === 0
  );
}

export function summaryLine(index: number, o: RunOutcome): string {
  const verdict = passed(o) ? 'pass' : 'FAIL';
  const problems = [
    ...(o.lost.length ? [`lost ${o.lost.join(' ')}`] : []),
    ...(o.unexplainedDuplicates.length ? [`unexplained duplicates ${o.unexplainedDuplicates.join(' ')}`] : []),
    ...(o.tooManyCopies.length ? [`more than two copies ${o.tooManyCopies.join(' ')}`] : []),
    ...o.unexpected.map((u) => `unexpected: ${u}`),
  ];
  return (
    `run ${String(index + 1).padStart(3)} seed ${o.seed} ${o.kind}/${o.variant}: ${o.events} events, ` +
    `crashes ${o.crashes.length ? o.crashes.join(',') : 'none'}, lost ${o.lost.length}, ` +
    `duplicates ${o.windowDuplicates} in crash window + ${o.acknowledgedDuplicates} acknowledged + ${o.unexplainedDuplicates.length} unexplained, ` +
    `dropped by server ${o.droppedByServer}, given up ${o.gaveUp}; ${o.details}; ${Math.round(o.ms)} ms — ${verdict}` +
    (problems.length ? ` (${problems.join('; ')})` : '')
  );
}

/** Of the never-delivered events, which had no record (never seen) and which were marked failed. */
export async function classifyUndelivered(
  store: { findRecorded(sourceId: string, hashes: readonly string[]): Promise<Map<string, { status: string }>> },
  sourceId: string,
  undelivered: readonly string[],
  dropped: ReadonlySet<string>,
): Promise<{ droppedUnrecorded: Set<string>; markedFailed: Set<string> }> {
  const recorded = await store.findRecorded(sourceId, undelivered);
  return {
    droppedUnrecorded: new Set(undelivered.filter((h) => dropped.has(h) && !recorded.has(h))),
    markedFailed: new Set(undelivered.filter((h) => recorded.get(h)?.status === 'failed')),
  };
}

/** An error as one line of text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
