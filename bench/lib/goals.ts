/**
 * The goals of issue 7, as numbers, and the one comparison the bench makes with them: a measured
 * value against an upper limit. Scripts print the comparison computed here — never a verdict
 * written by hand — so a run that misses a goal says so.
 */

export const GOALS = {
  /** Minified bundle, as CDK builds it. */
  bundleKiB: 250,
  /** Median fresh-process import of the bundle. */
  importMs: 120,
  /** 1,000 events in one answer: claim and deliver all. */
  burstSeconds: 5,
  /** Peak resident memory of the bundle in that burst (issue 12: 128 MB is enough). */
  burstPeakRssMb: 100,
  /** DynamoDB write requests per new event. */
  writesPerEvent: 2,
  /** Latency p95 may exceed the poll interval by this much. */
  latencySlackMs: 1_000,
  /** DynamoDB writes of a poll that finds nothing. */
  idleWritesPerTick: 0,
  /** Polling part of the monthly bill, one restaurant. */
  pollingUsdAt60s: 1,
  pollingUsdAt10s: 5,
  /** Scale: what each restaurant adds to the bill, and one invocation's peak memory (128 MB function). */
  usdPerSourceMonth: 0.3,
  peakMemoryMb: 100,
  /** Reliability suite. */
  eventsLost: 0,
  unhandledExceptions: 0,
} as const;

export interface GoalCheck {
  readonly what: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: string;
  readonly met: boolean;
}

/** `measured ≤ limit` (NaN — nothing measured — never meets a goal). */
export function atMost(what: string, measured: number, limit: number, unit: string): GoalCheck {
  return { what, measured, limit, unit, met: Number.isFinite(measured) && measured <= limit };
}

export function describeCheck(check: GoalCheck, digits = 1): string {
  const value = Number.isFinite(check.measured) ? check.measured.toFixed(digits) : 'not measured';
  return `${check.what}: ${value} ${check.unit} (goal ≤ ${check.limit} ${check.unit}) → ${check.met ? 'meets the goal' : 'MISSES the goal'}`;
}
