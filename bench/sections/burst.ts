/**
 * Burst: a Friday night in a 100-table hall — 1,000 new events in one answer — through the real
 * handler wiring (StateStore on DynamoDB Local, createDeliverer on the SES and SNS emulators).
 * The source is warmed first (its first poll records the backlog without sending), then one
 * empty invocation is counted (the per-invocation cost: lease, due-list, checkpoint), then the
 * burst is injected and one invocation claims, delivers and marks it all.
 */
import { matchingRoutes } from '../../lambda/core/routing';
import { QrMenuClient } from '../../lambda/qrmenu/client';
import { createSimulator } from '../../local/simulator';
import { AwsMeter, summarizeCalls, type CallRecord, type CallSummary } from '../lib/aws-meter';
import type { BenchStack } from '../lib/bench-stack';
import { withCapturedOutput } from '../lib/capture';
import { emfMetricKeys } from '../lib/emf';
import { median } from '../lib/stats';
import { BENCH_TOKEN, ONE_TICK_REMAINING_MS, benchConfig, lambdaContext, wireHandler } from '../lib/wiring';

export interface BurstResult {
  readonly events: number;
  /** Bytes of the server's answer carrying the burst. */
  readonly answerBytes: number;
  /** The invocation that handled the burst, start to return. */
  readonly wallMs: number;
  /** From the invocation's start to the last successful SNS publish / SES send. */
  readonly lastSnsMs: number;
  readonly lastSesMs: number;
  readonly eventsPerSecond: number;
  readonly delivered: number;
  /** Calls of the empty invocation before the burst (lease, due-list, checkpoint). */
  readonly emptyInvocation: CallSummary;
  readonly burstInvocation: CallSummary;
  /** (burst − empty invocation) / events. */
  readonly perEvent: {
    readonly dynamoDbWrites: number;
    readonly dynamoDbReads: number;
    readonly writeCapacityUnits: number;
    readonly readCapacityUnits: number;
    readonly sesCalls: number;
    readonly sesRecipients: number;
    readonly snsCalls: number;
    /** SMS the alerts topic's subscriptions would send (phones of the matching routes). */
    readonly smsMessages: number;
  };
  /** Every call of the burst invocation divided by the events, per-invocation cost included. */
  readonly dynamoDbWritesPerEventAllIn: number;
  /** E-mails the SES emulator received during the burst (cross-check of the SES count). */
  readonly sesEmulatorEmails: number;
  /** Events with no successful SNS publish after the burst invocation. */
  readonly undelivered: number;
  readonly logBytes: number;
  /** Distinct CloudWatch metrics (name + dimensions) in the burst invocation's EMF output. */
  readonly emfMetrics: readonly string[];
  /** delivery.concurrency of the run. */
  readonly concurrency: number;
  /** Where the time went: first start to last end of each kind of call, and their median duration. */
  readonly phases: {
    readonly claimMs: number;
    readonly deliverMs: number;
    readonly medianCallMs: Readonly<Record<string, number>>;
  };
}

export async function measureBurst(
  stack: BenchStack,
  events: number,
  deliveryConcurrency?: number,
): Promise<BurstResult> {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed: 2026 });
  try {
    const source = { id: 'burst', url: sim.url, fingerprint256: sim.fingerprint256! };
    const config = benchConfig([source], 10, deliveryConcurrency);
    const meter = new AwsMeter();
    const { handler } = wireHandler({ config, tableName: await stack.newTable(), topicArn: stack.topicArn, meter });
    const invoke = () => handler({}, lambdaContext(Date.now() + ONE_TICK_REMAINING_MS));

    const warm = await withCapturedOutput(() => invoke());
    if (warm.result.polls !== 1 || warm.result.errors !== 0)
      throw new Error(`warm-up poll failed: ${JSON.stringify(warm.result)}`);
    const emptyMark = meter.mark();
    await withCapturedOutput(() => invoke());
    const emptyInvocation = summarizeCalls(meter.since(emptyMark));

    const injected = sim.injectMany(events);
    const probe = new QrMenuClient({
      baseUrl: sim.url,
      token: BENCH_TOKEN,
      tls: { fingerprint256: sim.fingerprint256! },
    });
    const answer = await probe.fetchEvents(null);
    const sesBefore = await stack.sesStoreCount();

    const mark = meter.mark();
    const started = Date.now();
    const run = await withCapturedOutput(() => invoke());
    const wallMs = Date.now() - started;
    const calls = meter.since(mark);
    const burst = summarizeCalls(calls);
    const ok = (service: 'sns' | 'ses') => calls.filter((c) => c.service === service && c.ok);
    const publishedHashes = new Set(ok('sns').map((c) => c.label));
    const lastOf = (service: 'sns' | 'ses') => Math.max(...ok(service).map((c) => c.endedAt)) - started;
    const per = (key: keyof CallSummary) => ((burst[key] as number) - (emptyInvocation[key] as number)) / events;
    const sms = injected.reduce((sum, e) => {
      const facts = { sourceId: source.id, code: e.wire.code, tableName: e.wire.table_repr.name };
      return sum + new Set(matchingRoutes(config, facts).flatMap((r) => r.sms)).size;
    }, 0);
    return {
      events,
      answerBytes: answer.bytes,
      wallMs,
      lastSnsMs: lastOf('sns'),
      lastSesMs: lastOf('ses'),
      eventsPerSecond: events / (wallMs / 1000),
      delivered: run.result.delivered,
      emptyInvocation,
      burstInvocation: burst,
      perEvent: {
        dynamoDbWrites: per('dynamoDbWrites'),
        dynamoDbReads: per('dynamoDbReads'),
        writeCapacityUnits: per('writeCapacityUnits'),
        readCapacityUnits: per('readCapacityUnits'),
        sesCalls: per('sesCalls'),
        sesRecipients: per('sesRecipients'),
        snsCalls: per('snsCalls'),
        smsMessages: sms / events,
      },
      dynamoDbWritesPerEventAllIn: burst.dynamoDbWrites / events,
      sesEmulatorEmails: (await stack.sesStoreCount()) - sesBefore,
      undelivered: injected.filter((e) => !publishedHashes.has(e.hash)).length,
      logBytes: run.capture.bytes(),
      emfMetrics: emfMetricKeys(run.capture.lines),
      concurrency: config.delivery.concurrency,
      phases: phasesOf(calls),
    };
  } finally {
    await sim.close();
  }
}

function phasesOf(calls: readonly CallRecord[]): BurstResult['phases'] {
  const span = (pick: (c: CallRecord) => boolean) => {
    const chosen = calls.filter(pick);
    return chosen.length === 0
      ? 0
      : Math.max(...chosen.map((c) => c.endedAt)) - Math.min(...chosen.map((c) => c.startedAt));
  };
  const medianCallMs: Record<string, number> = {};
  for (const command of new Set(calls.map((c) => `${c.service}:${c.command}`))) {
    medianCallMs[command] = median(
      calls.filter((c) => `${c.service}:${c.command}` === command).map((c) => c.endedAt - c.startedAt),
    );
  }
  return {
    claimMs: span((c) => c.command === 'PutItemCommand'),
    deliverMs: span((c) => c.service !== 'dynamodb'),
    medianCallMs,
  };
}
