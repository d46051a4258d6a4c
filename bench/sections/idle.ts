/**
 * Idle cost: what polling costs when nobody calls a waiter. On a warmed source with an empty
 * queue, whole invocations at 60-s and 10-s polling run on a fast clock (its sleeps pass at
 * once, so a minute-long invocation takes a moment) through the real wiring; their DynamoDB
 * requests and capacity, log bytes and EMF metrics are counted. The two intervals differ only in
 * their number of ticks, which gives the cost of one empty tick. A few real-clock invocations at
 * 60-s polling give the work of one run, for the Lambda GB-s of the cost model.
 */
import type { Clock } from '../../lambda/domain/ports';
import { POLLER_TIMEOUT } from '../../infra/constructs/poller';
import { createSimulator } from '../../local/simulator';
import { AwsMeter, summarizeCalls } from '../lib/aws-meter';
import type { BenchStack } from '../lib/bench-stack';
import { withCapturedOutput } from '../lib/capture';
import { emfMetricKeys } from '../lib/emf';
import { median } from '../lib/stats';
import { BENCH_TOKEN, benchConfig, lambdaContext, wireHandler } from '../lib/wiring';

/** Real time, except that sleeping takes no time: a scheduled invocation runs in a moment. */
export class FastClock implements Clock {
  #offset = 0;
  now = (): number => Date.now() + this.#offset;
  sleep = async (ms: number): Promise<void> => {
    this.#offset += Math.max(0, ms);
  };
}

export interface InvocationCost {
  readonly intervalSeconds: number;
  readonly ticks: number;
  readonly dynamoDbWrites: number;
  readonly dynamoDbReads: number;
  readonly writeCapacityUnits: number;
  readonly readCapacityUnits: number;
  /** stdout of the invocation: JSON log lines and EMF documents. */
  readonly logBytes: number;
  readonly logLines: number;
}

export interface IdleResult {
  /** Averages over `repeats` invocations each. */
  readonly at60: InvocationCost;
  readonly at10: InvocationCost;
  /** (at10 − at60) / (ticks10 − ticks60). */
  readonly perEmptyTick: {
    readonly dynamoDbWrites: number;
    readonly dynamoDbReads: number;
    readonly writeCapacityUnits: number;
    readonly readCapacityUnits: number;
  };
  /** Real-clock invocations at 60-s polling: start to return (one tick, lease, checkpoint). */
  readonly runWorkMs: readonly number[];
  readonly runWorkMsMedian: number;
  readonly emfMetricsIdle: readonly string[];
  readonly repeats: number;
}

export async function measureIdle(stack: BenchStack, repeats: number): Promise<IdleResult> {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed: 60 });
  try {
    const tableName = await stack.newTable();
    const source = { id: 'idle', url: sim.url, fingerprint256: sim.fingerprint256! };
    const clock = new FastClock();
    const meter = new AwsMeter();
    const wire = (intervalSeconds: number, withClock?: Clock) =>
      wireHandler({
        config: benchConfig([source], intervalSeconds),
        tableName,
        topicArn: stack.topicArn,
        meter,
        ...(withClock ? { clock: withClock } : {}),
      }).handler;
    const fast60 = wire(60, clock);
    const fast10 = wire(10, clock);
    const real60 = wire(60);
    const timeout = POLLER_TIMEOUT.toMilliseconds();
    const emf: string[] = [];

    const invocation = async (handler: typeof fast60, intervalSeconds: number): Promise<InvocationCost> => {
      const mark = meter.mark();
      const { result, capture } = await withCapturedOutput(() =>
        handler({}, lambdaContext(clock.now() + timeout, clock.now, `idle-${intervalSeconds}`)),
      );
      if (result.errors !== 0 || result.delivered !== 0)
        throw new Error(`an idle invocation was not idle: ${JSON.stringify(result)}`);
      emf.push(...capture.lines);
      const calls = summarizeCalls(meter.since(mark));
      return {
        intervalSeconds,
        ticks: result.ticks,
        dynamoDbWrites: calls.dynamoDbWrites,
        dynamoDbReads: calls.dynamoDbReads,
        writeCapacityUnits: calls.writeCapacityUnits,
        readCapacityUnits: calls.readCapacityUnits,
        logBytes: capture.bytes(),
        logLines: capture.lines.length,
      };
    };

    await invocation(fast60, 60); // the source's first poll: records the backlog
    emf.length = 0;
    const at60: InvocationCost[] = [];
    const at10: InvocationCost[] = [];
    for (let i = 0; i < repeats; i += 1) {
      at60.push(await invocation(fast60, 60));
      at10.push(await invocation(fast10, 10));
    }
    const runWorkMs: number[] = [];
    for (let i = 0; i < repeats; i += 1) {
      const started = Date.now();
      await withCapturedOutput(() => real60({}, lambdaContext(Date.now() + timeout, Date.now, `work-${i}`)));
      runWorkMs.push(Date.now() - started);
    }
    const a = average(at60);
    const b = average(at10);
    const perTick = (key: 'dynamoDbWrites' | 'dynamoDbReads' | 'writeCapacityUnits' | 'readCapacityUnits') =>
      (b[key] - a[key]) / (b.ticks - a.ticks);
    return {
      at60: a,
      at10: b,
      perEmptyTick: {
        dynamoDbWrites: perTick('dynamoDbWrites'),
        dynamoDbReads: perTick('dynamoDbReads'),
        writeCapacityUnits: perTick('writeCapacityUnits'),
        readCapacityUnits: perTick('readCapacityUnits'),
      },
      runWorkMs,
      runWorkMsMedian: median(runWorkMs),
      emfMetricsIdle: emfMetricKeys(emf),
      repeats,
    };
  } finally {
    await sim.close();
  }
}

function average(costs: readonly InvocationCost[]): InvocationCost {
  const mean = (pick: (c: InvocationCost) => number) => costs.reduce((s, c) => s + pick(c), 0) / costs.length;
  return {
    intervalSeconds: costs[0]!.intervalSeconds,
    ticks: mean((c) => c.ticks),
    dynamoDbWrites: mean((c) => c.dynamoDbWrites),
    dynamoDbReads: mean((c) => c.dynamoDbReads),
    writeCapacityUnits: mean((c) => c.writeCapacityUnits),
    readCapacityUnits: mean((c) => c.readCapacityUnits),
    logBytes: mean((c) => c.logBytes),
    logLines: mean((c) => c.logLines),
  };
}
