/**
 * Compares the measured figures with the goals of issue 7 (lib/goals.ts), one check each:
 * bundle size, cold import, the burst's deliveries against the quota-bound minimum, its refused
 * sends and its peak memory, writes per event, latency p95 per interval and channel,
 * writes of an empty tick, and the polling part of the monthly bill at 60-s and 10-s polling;
 * issue 12's fixed cost and marginal cost per restaurant (cost/model.ts, COST_GOALS).
 */
import { PollingSchema } from '../lambda/config/schema';
import { COST_GOALS } from './cost/model';
import { GOALS, atMost, type GoalCheck } from './lib/goals';
import type { BenchResults } from './results';
import { type BurstResult, burstOverQuotaBound, quotaRates } from './sections/burst';

export function evaluateGoals(r: Omit<BenchResults, 'goals' | 'durationSeconds'>): GoalCheck[] {
  const checks: GoalCheck[] = [
    atMost('bundle size', r.bundle.kib, GOALS.bundleKiB, 'KiB'),
    atMost('fresh-process import (median, --enable-source-maps)', r.coldStart.importMsMedian, GOALS.importMs, 'ms'),
    ...burstGoalChecks(r.burst),
    ...(r.burstMemory
      ? [
          atMost(
            `peak memory of the bundle, burst of ${r.burstMemory.events} events (RSS)`,
            r.burstMemory.peakRssMb,
            GOALS.burstPeakRssMb,
            'MB',
          ),
        ]
      : []),
    atMost('DynamoDB write requests per new event', r.burst.perEvent.dynamoDbWrites, GOALS.writesPerEvent, 'writes'),
  ];
  const defaultInterval = PollingSchema.parse({}).intervalSeconds;
  for (const l of r.latency) {
    const atDefault = l.intervalSeconds === defaultInterval;
    const limit = atDefault ? GOALS.latencyAtDefaultMs : l.intervalSeconds * 1000 + GOALS.latencySlackMs;
    const at = `${l.intervalSeconds}-s polling${atDefault ? ' (the default)' : ''}`;
    checks.push(atMost(`latency p95 to SNS publish, ${at}`, l.sns.p95, limit, 'ms'));
    checks.push(atMost(`latency p95 to SES send, ${at}`, l.ses.p95, limit, 'ms'));
  }
  checks.push(
    atMost('DynamoDB writes per empty tick', r.idle.perEmptyTick.dynamoDbWrites, GOALS.idleWritesPerTick, 'writes'),
  );
  const polling = (seconds: number) =>
    r.cost.polling.find((p) => p.intervalSeconds === seconds)?.totalUsd ?? Number.NaN;
  checks.push(atMost('polling part at 60-s polling (list prices)', polling(60), GOALS.pollingUsdAt60s, 'USD/month'));
  checks.push(atMost('polling part at 10-s polling (list prices)', polling(10), GOALS.pollingUsdAt10s, 'USD/month'));
  checks.push(
    atMost('fixed cost of the deployment (issue 12)', r.cost.fixedTotalUsd, COST_GOALS.fixedUsd, 'USD/month'),
  );
  checks.push(
    atMost(
      'marginal cost per restaurant at the default interval (issue 12)',
      r.cost.marginalUsd ?? Number.NaN,
      COST_GOALS.marginalUsdPerSource,
      'USD/month',
    ),
  );
  for (const s of r.scale ?? []) {
    const at = `${s.sources} source${s.sources === 1 ? '' : 's'} in ${s.shards} shard${s.shards === 1 ? '' : 's'}`;
    const limit = s.intervalSeconds * 1000 + GOALS.latencySlackMs;
    checks.push(
      atMost(`scale, ${at}: latency p95 to SNS publish, ${s.intervalSeconds}-s polling`, s.latency.p95, limit, 'ms'),
    );
    checks.push(atMost(`scale, ${at}: peak memory of an invocation`, s.peakMb, GOALS.peakMemoryMb, 'MB'));
    checks.push(
      atMost(
        `scale, ${at}: CPU a shard needs (vCPU; ${s.memoryMb} MB gets ${s.vcpuAllotted.toFixed(3)})`,
        s.vcpuNeeded,
        Math.round(s.vcpuAllotted * 1000) / 1000,
        'vCPU',
      ),
    );
  }
  const largest = r.scale?.at(-1);
  if (largest && largest.sources > 1)
    checks.push(
      atMost(
        `scale, ${largest.sources} sources: cost of watching one more (list prices, no free tier; its calls apart)`,
        largest.usdPerSourceMonth,
        GOALS.usdPerSourceMonth,
        'USD/month',
      ),
    );
  return checks;
}

/**
 * Issue 12, goal 5: the burst's deliveries take at most GOALS.burstOverQuotaBound times the least
 * time the send quotas allow for what they sent, and no send is refused (throttled or failed).
 * A burst measured before these figures existed (no `pacing`) meets neither.
 */
export function burstGoalChecks(burst: Pick<BurstResult, 'events' | 'phases' | 'pacing' | 'drain'>): GoalCheck[] {
  const drained = burst.drain
    ? [
        atMost(
          `burst of ${burst.events} events: undelivered after the ${burst.drain.invocations} scheduled runs that sent it`,
          burst.drain.undelivered,
          GOALS.eventsLost,
          'events',
        ),
      ]
    : [];
  return [
    atMost(
      `burst of ${burst.events} events: deliveries' time ÷ the quota-bound minimum of what they sent` +
        (burst.pacing ? ` (${quotaRates(burst.pacing)})` : ''),
      burstOverQuotaBound(burst),
      GOALS.burstOverQuotaBound,
      '×',
    ),
    atMost(
      `burst of ${burst.events} events: sends refused by throttling or failed`,
      burst.drain?.throttled ?? burst.pacing?.throttled ?? Number.NaN,
      GOALS.burstThrottled,
      'sends',
    ),
    ...drained,
  ];
}
