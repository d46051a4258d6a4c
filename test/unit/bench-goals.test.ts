/**
 * The bench's burst goals (issue 12, goal 5; bench/evaluate.ts): the deliveries' time over the
 * quota-bound minimum of what they sent meets the goal up to GOALS.burstOverQuotaBound and misses
 * above it, a refused send misses, and a results.json written before these figures existed still
 * renders (bench/summary.ts) with the burst's new rows as n/a.
 */
import { describe, expect, it } from 'vitest';
import { burstGoalChecks } from '../../bench/evaluate';
import { GOALS } from '../../bench/lib/goals';
import { renderReport } from '../../bench/report';
import { type BenchResults, readResults } from '../../bench/results';
import type { BurstDrain, BurstPacing, BurstResult } from '../../bench/sections/burst';

const pacing = (over: Partial<BurstPacing> = {}): BurstPacing => ({
  sesPerSecond: 14,
  snsPerSecond: 20,
  sent: { emailRecipients: 569, smsUnits: 527 },
  quotaBoundMs: 40_000,
  wholeBurst: { emailRecipients: 1_154, smsUnits: 1_033, quotaBoundMs: 82_000 },
  throttled: 0,
  deferred: 132,
  ...over,
});

const burst = (deliverMs: number, p: BurstPacing | null = pacing()) => ({
  events: 1_000,
  phases: { claimMs: 8_000, deliverMs, medianCallMs: {} },
  ...(p ? { pacing: p } : {}),
});

describe('the burst goals', () => {
  it('meet when the deliveries take at most 15 % over the quota-bound minimum', () => {
    expect(GOALS.burstOverQuotaBound).toBe(1.15);
    const [ratio, refused] = burstGoalChecks(burst(40_556));
    expect(ratio).toMatchObject({ measured: 40_556 / 40_000, limit: 1.15, unit: '×', met: true });
    expect(ratio!.what).toBe(
      "burst of 1000 events: deliveries' time ÷ the quota-bound minimum of what they sent (SES 14/s, SNS 20/s)",
    );
    expect(refused).toMatchObject({ measured: 0, limit: 0, met: true });
    expect(burstGoalChecks(burst(46_000))[0]!.met).toBe(true); // exactly 1.15
  });

  it('miss when the deliveries take longer than that', () => {
    const [ratio] = burstGoalChecks(burst(46_100));
    expect(ratio!.measured).toBeCloseTo(1.1525, 4);
    expect(ratio!.met).toBe(false);
  });

  it('miss when a send was refused by throttling or failed', () => {
    const [, refused] = burstGoalChecks(burst(40_556, pacing({ throttled: 1 })));
    expect(refused).toMatchObject({ measured: 1, met: false });
  });

  it('miss when nothing was measured (no pacing figures, or no sends)', () => {
    const [ratio, refused] = burstGoalChecks(burst(45_144, null));
    expect(Number.isNaN(ratio!.measured)).toBe(true);
    expect(ratio!.met).toBe(false);
    expect(refused!.met).toBe(false);
    expect(burstGoalChecks(burst(0, pacing({ quotaBoundMs: 0 })))[0]!.met).toBe(false);
  });
});

describe('the burst drained by the scheduled runs after it', () => {
  const drain = (over: Partial<BurstDrain> = {}): BurstDrain => ({
    invocations: 2,
    undelivered: 0,
    throttled: 0,
    deliverMs: 93_573,
    quotaBoundMs: 82_000,
    perEvent: { sesCalls: 1, sesRecipients: 1.154, snsCalls: 1, dynamoDbWrites: 3 },
    ...over,
  });

  it('meets when every event was delivered and no send was refused over all the runs', () => {
    const checks = burstGoalChecks({ ...burst(40_371), drain: drain() });
    expect(checks).toHaveLength(3);
    expect(checks[2]).toMatchObject({
      what: 'burst of 1000 events: undelivered after the 2 scheduled runs that sent it',
      measured: 0,
      met: true,
    });
  });

  it('misses when an event is still undelivered, or a later run had a send refused', () => {
    expect(burstGoalChecks({ ...burst(40_371), drain: drain({ undelivered: 3 }) })[2]!.met).toBe(false);
    // The first run refused nothing; the second did: the drain's count is the one judged.
    expect(burstGoalChecks({ ...burst(40_371), drain: drain({ throttled: 2 }) })[1]).toMatchObject({
      measured: 2,
      met: false,
    });
  });
});

describe('the burst table', () => {
  const stored = readResults('bench/results.json');
  const withBurst = (b: BurstResult): BenchResults => ({ ...stored, burst: b, burstAtHigherConcurrency: undefined });
  const { pacing: _, ...withoutPacing } = stored.burst;

  it('shows the quota-bound minimum, the ratio and the refused sends', () => {
    const text = renderReport(
      withBurst({ ...stored.burst, phases: { ...stored.burst.phases, deliverMs: 40_556 }, pacing: pacing() }),
      'text',
    );
    expect(text).toMatch(/quota-bound minimum of what they sent \(SES 14\/s, SNS 20\/s\) +40,000 ms/);
    expect(text).toMatch(/deliveries ÷ quota-bound minimum +1\.01 ×/);
    expect(text).toMatch(/sends refused by throttling \(or failed\) +0\n/);
  });

  it('renders a results.json written before those figures, with n/a', () => {
    const text = renderReport(withBurst(withoutPacing), 'markdown');
    expect(text).toContain('| deliveries ÷ quota-bound minimum | n/a |');
  });
});
