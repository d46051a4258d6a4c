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
  /**
   * 1,000 events in one answer (issue 12, goal 5): the deliveries (first send → last) take at most
   * 15 % more than the least time the account's send quotas allow for what they sent
   * (`quotaBoundBurstMs`: SES 14 recipients/s, SNS 20 SMS/s by default). The pacer
   * (core/send-rate.ts, notify/pacing/send-pacer.ts) itself allows up to ≈ 8 % more: it serves sends in
   * arrival order and never splits one, so a 2-recipient e-mail that does not fit a second's
   * last slot waits for the next second — at worst 13 of 14 units a second (14/13 = 1.077; SNS
   * 20/19 = 1.053), where the bound assumes every second full. A second's sends start when the
   * pacer's timer fires, a few ms late (tens on a loaded machine), and the lateness adds up
   * over the ≈ 45–80 seconds of a burst (≈ 1–3 %); the last call's own time adds tens of ms. The
   * remaining ≈ 4 % is margin for two shared cores. A ratio below 1 would mean the sends outran
   * the quotas (what SES and SNS would throttle).
   */
  burstOverQuotaBound: 1.15,
  /** Sends of that burst refused by throttling or failing otherwise (issue 12, goal 5: none). */
  burstThrottled: 0,
  /** Peak resident memory of the bundle in that burst (issue 12: 128 MB is enough). */
  burstPeakRssMb: 100,
  /** DynamoDB write requests per new event. */
  writesPerEvent: 2,
  /** Latency p95 may exceed the poll interval by this much (issue 12, goal 4)… */
  latencySlackMs: 1_000,
  /** …but at the default settings it is at most this (issue 12, goal 1). */
  latencyAtDefaultMs: 2_000,
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
