/**
 * Latency in real time: for each poll interval N (run side by side, one source and one simulator
 * each), events enter the simulator's queue at random moments (exponential gaps from a seeded
 * stream) while the real handler runs as EventBridge Scheduler runs it — one invocation at the
 * start of every minute, each polling every N s until shortly before its end. Measured per event:
 * from its `enqueuedAt` to the end of its successful SNS Publish and SES SendEmail. A last
 * one-poll invocation at the next minute picks up what arrived after the last poll of the run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { POLLER_TIMEOUT } from '../../infra/constructs/poller';
import { PollingSchema } from '../../lambda/config/schema';
import { createSimulator } from '../../local/simulator';
import { createRandom } from '../../local/simulator/random';
import { AwsMeter } from '../lib/aws-meter';
import type { BenchStack } from '../lib/bench-stack';
import { withCapturedOutput } from '../lib/capture';
import { distribution, type Distribution } from '../lib/stats';
import {
  BENCH_TOKEN,
  benchConfig,
  FOLLOW_UP_REMAINING_MS,
  lambdaContext,
  ONE_TICK_REMAINING_MS,
  wireHandler,
} from '../lib/wiring';

/** EventBridge Scheduler starts the poller once a minute. */
export const SCHEDULE_MS = 60_000;

/** The intervals measured by default: the product's default (1.75 s, whose p95 goal is 2 s), then 5 and 10 s. */
export const LATENCY_INTERVALS_SECONDS: readonly number[] = [
  ...new Set([PollingSchema.parse({}).intervalSeconds, 5, 10]),
];

export interface LatencyOptions {
  readonly intervalsSeconds: readonly number[];
  /** Scheduled invocations in the measured window (each about a minute). */
  readonly invocations: number;
  readonly eventsPerMinute: number;
  readonly seed: number;
}

export interface LatencyResult {
  readonly intervalSeconds: number;
  readonly invocations: number;
  readonly events: number;
  /** ms from enqueuedAt to the end of the successful SNS Publish. */
  readonly sns: Distribution;
  /** ms from enqueuedAt to the end of the successful SES SendEmail. */
  readonly ses: Distribution;
  /** Events without a successful publish / send by the end. */
  readonly undeliveredSns: number;
  readonly undeliveredSes: number;
  readonly pollErrors: number;
}

export async function measureLatency(stack: BenchStack, options: LatencyOptions): Promise<LatencyResult[]> {
  // One seed per interval, a whole number (an interval may be 1.75 s).
  const prepared = await Promise.all(
    options.intervalsSeconds.map((n) => prepareSource(stack, n, options.seed + Math.round(n * 100))),
  );
  try {
    const { result } = await withCapturedOutput(async () => {
      for (const p of prepared) await p.warm();
      const start = Date.now() + 1_000;
      return Promise.all(prepared.map((p) => p.run(start, options)));
    });
    return result;
  } finally {
    await Promise.all(prepared.map((p) => p.close()));
  }
}

async function prepareSource(stack: BenchStack, intervalSeconds: number, seed: number) {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed });
  const config = benchConfig(
    [{ id: `every-${String(intervalSeconds).replace('.', '-')}s`, url: sim.url, fingerprint256: sim.fingerprint256! }],
    intervalSeconds,
  );
  const meter = new AwsMeter();
  const { handler } = wireHandler({ config, tableName: await stack.newTable(), topicArn: stack.topicArn, meter });
  const random = createRandom(seed);
  return {
    close: () => sim.close(),
    /** The source's first poll: records the (empty) backlog. */
    async warm() {
      const report = await handler({}, lambdaContext(Date.now() + ONE_TICK_REMAINING_MS, Date.now, 'warm'));
      if (report.errors !== 0) throw new Error(`the warm-up poll of the ${intervalSeconds}-s source failed`);
    },
    async run(start: number, options: LatencyOptions): Promise<LatencyResult> {
      const injected: { hash: string; enqueuedAt: number }[] = [];
      const trafficEnd = start + options.invocations * SCHEDULE_MS;
      const meanGapMs = 60_000 / options.eventsPerMinute;
      const traffic = (async () => {
        await sleep(Math.max(0, start - Date.now()));
        for (;;) {
          const gap = Math.min(-Math.log(1 - random.next()) * meanGapMs, 20 * meanGapMs);
          if (Date.now() + gap >= trafficEnd) break;
          await sleep(gap);
          const event = sim.inject();
          injected.push({ hash: event.hash, enqueuedAt: event.enqueuedAt });
        }
      })();
      const runs: Promise<{ errors: number }>[] = [];
      for (let k = 0; k <= options.invocations; k += 1) {
        const at = start + k * SCHEDULE_MS;
        await sleep(Math.max(0, at - Date.now()));
        const last = k === options.invocations;
        // The last one picks up what arrived after the previous run's last poll, and sends it.
        const remaining = last ? FOLLOW_UP_REMAINING_MS : POLLER_TIMEOUT.toMilliseconds();
        runs.push(handler({}, lambdaContext(Date.now() + remaining, Date.now, `run-${k}`)));
      }
      await traffic;
      const reports = await Promise.all(runs);
      const firstOk = (service: 'sns' | 'ses') => {
        const at = new Map<string, number>();
        for (const call of meter.calls) {
          if (call.service !== service || !call.ok || call.label === undefined) continue;
          at.set(call.label, Math.min(at.get(call.label) ?? Number.POSITIVE_INFINITY, call.endedAt));
        }
        return at;
      };
      const sns = firstOk('sns');
      const ses = firstOk('ses');
      const latencies = (done: Map<string, number>) =>
        injected.flatMap((e) => (done.has(e.hash) ? [done.get(e.hash)! - e.enqueuedAt] : []));
      return {
        intervalSeconds,
        invocations: options.invocations,
        events: injected.length,
        sns: distribution(latencies(sns)),
        ses: distribution(latencies(ses)),
        undeliveredSns: injected.filter((e) => !sns.has(e.hash)).length,
        undeliveredSes: injected.filter((e) => !ses.has(e.hash)).length,
        pollErrors: reports.reduce((sum, r) => sum + r.errors, 0),
      };
    },
  };
}
