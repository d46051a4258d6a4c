/**
 * Burst: a Friday night in a 100-table hall — 1,000 new events in one answer — through the real
 * handler wiring (StateStore on DynamoDB Local, createDeliverer on the SES and SNS emulators).
 * The source is warmed first (its first poll records the backlog without sending), then one
 * empty invocation is counted (the per-invocation cost: lease, due-list, checkpoint), then the
 * burst is injected and one invocation claims, delivers and marks it all — or what of it the
 * account's send quotas let one tick send: the rest the pacer defers to a later tick (`pacing`).
 * Then the next scheduled runs (a minute apart, as EventBridge starts them) send the rest
 * (`drain`): every event delivered, none refused, and what each event cost in sends.
 * `measureBurstMemory` runs the same burst through the built bundle in a child process with the
 * function's NODE_OPTIONS, as Lambda runs it, and reads that process's peak memory.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { POLLER_MEMORY_MB, POLLER_NODE_OPTIONS } from '../../infra/constructs/poller';
import { POLLER_TIMEOUT_SECONDS, RUNTIME_ENV } from '../../lambda/config/runtime';
import { sealConfig } from '../../lambda/config/sealed';
import { emailsOf, matchingRoutes } from '../../lambda/core/routing';
import type { DeliveryResult } from '../../lambda/domain/delivery';
import { quotaBoundBurstMs, quotaShare } from '../../lambda/notify/deliverer';
import { QrMenuClient } from '../../lambda/qrmenu/client';
import { createSimulator } from '../../local/simulator';
import { AwsMeter, summarizeCalls, type CallRecord, type CallSummary } from '../lib/aws-meter';
import type { BenchStack } from '../lib/bench-stack';
import { withCapturedOutput } from '../lib/capture';
import { emfMetricKeys } from '../lib/emf';
import { median } from '../lib/stats';
import { BENCH_TOKEN, benchConfig, lambdaContext, wireHandler } from '../lib/wiring';

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
  /**
   * The deliveries against the account's send quotas. Absent in results.json files written
   * before it was measured (bench/summary.ts still renders those).
   */
  readonly pacing?: BurstPacing;
  /** The burst invocation and the scheduled runs after it, until every event is delivered. Absent in older results. */
  readonly drain?: BurstDrain;
}

export interface BurstDrain {
  /** Invocations, the burst's included, each started a minute after the one before (at most MAX_DRAIN_INVOCATIONS). */
  readonly invocations: number;
  /** Events without a successful SNS publish after them (the goal: 0). */
  readonly undelivered: number;
  /** SES and SNS sends refused by throttling or failed, over all of them (the goal: 0). */
  readonly throttled: number;
  /** The burst's first send to its last, over all of them: the quota-bound minimum plus the runs' ends, where no send starts. */
  readonly deliverMs: number;
  /** The whole burst's quota-bound minimum (pacing.wholeBurst). */
  readonly quotaBoundMs: number;
  /** What each event cost, over all of them: SES sends and recipients, SNS publishes, DynamoDB writes (releases and take-overs of the deferred included). */
  readonly perEvent: {
    readonly sesCalls: number;
    readonly sesRecipients: number;
    readonly snsCalls: number;
    readonly dynamoDbWrites: number;
  };
}

/** Scheduled runs after the burst's, at most, to send what the quotas deferred (1,000 events at 14/s need two). */
const MAX_DRAIN_INVOCATIONS = 4;

/** What the sends count against a quota, as the pacer counts it (core/send-rate.ts). */
export interface QuotaUnits {
  /** SES: the recipients of the e-mails. */
  readonly emailRecipients: number;
  /** SNS: the phones each publish reaches, at least 1 a publish. */
  readonly smsUnits: number;
}

export interface BurstPacing {
  /** The invocation's share of the quotas, per second (`delivery.sesPerSecond`, `snsPerSecond` / shards). */
  readonly sesPerSecond: number;
  readonly snsPerSecond: number;
  /** What the invocation sent (successful SES sends, SNS publishes). */
  readonly sent: QuotaUnits;
  /**
   * `quotaBoundBurstMs` (notify/deliverer.ts) for `sent`: the least time, first send to last,
   * those sends can take without exceeding the quotas. `phases.deliverMs` is measured against it.
   */
  readonly quotaBoundMs: number;
  /** Every event of the burst (its routes' recipients and phones), and its quota-bound minimum. */
  readonly wholeBurst: QuotaUnits & { readonly quotaBoundMs: number };
  /**
   * SES and SNS sends the deliverer reported failed: refused by throttling (SES `Throttling` /
   * "Maximum sending rate exceeded", SNS `Throttled*`, kind `throttled`) or by any other error.
   * The emulators never throttle, so here this counts the deliverer's own failures; it must be 0.
   */
  readonly throttled: number;
  /**
   * SES and SNS sends the pacer answered "not before T": the quotas would not let them start
   * before the tick's deadline, so they were not attempted (not a failure; a later tick sends
   * them). Fewer than the `undelivered` events: the events the tick had no time left to hand to
   * the deliverer at all are not counted here.
   */
  readonly deferred: number;
}

/** "SES 14/s, SNS 20/s": the quota shares a burst was paced to, as the goals and the report name them. */
export function quotaRates(pacing: Pick<BurstPacing, 'sesPerSecond' | 'snsPerSecond'>): string {
  const rate = (perSecond: number) => `${Math.round(perSecond * 100) / 100}/s`;
  return `SES ${rate(pacing.sesPerSecond)}, SNS ${rate(pacing.snsPerSecond)}`;
}

/** The deliveries' time over its quota-bound minimum (NaN when not measured): 1 is as fast as the quotas allow. */
export function burstOverQuotaBound(burst: Pick<BurstResult, 'phases' | 'pacing'>): number {
  const bound = burst.pacing?.quotaBoundMs;
  return bound === undefined || bound <= 0 ? Number.NaN : burst.phases.deliverMs / bound;
}

/**
 * The burst's invocations run as at 60-s polling with the function's whole timeout: one tick
 * whose deadline leaves every delivery its whole send budget. (With the one-tick context the other
 * sections use, the tick ends 5 s in and no send may start: the burst would claim and send nothing.)
 */
const BURST_INTERVAL_SECONDS = 60;
const BURST_REMAINING_MS = POLLER_TIMEOUT_SECONDS * 1000;

export async function measureBurst(
  stack: BenchStack,
  events: number,
  deliveryConcurrency?: number,
): Promise<BurstResult> {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed: 2026 });
  try {
    const source = { id: 'burst', url: sim.url, fingerprint256: sim.fingerprint256! };
    const config = benchConfig([source], BURST_INTERVAL_SECONDS, deliveryConcurrency);
    const meter = new AwsMeter();
    let results: DeliveryResult[] = [];
    const { handler } = wireHandler({
      config,
      tableName: await stack.newTable(),
      topicArn: stack.topicArn,
      meter,
      onDelivered: (result) => results.push(result),
    });
    const invoke = () => handler({}, lambdaContext(Date.now() + BURST_REMAINING_MS));

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
    results = [];
    const started = Date.now();
    const run = await withCapturedOutput(() => invoke());
    const wallMs = Date.now() - started;
    const calls = meter.since(mark);
    const burst = summarizeCalls(calls);
    const ok = (service: 'sns' | 'ses') => calls.filter((c) => c.service === service && c.ok);
    const publishedHashes = new Set(ok('sns').map((c) => c.label));
    const lastOf = (service: 'sns' | 'ses') => Math.max(...ok(service).map((c) => c.endedAt)) - started;
    const per = (key: keyof CallSummary) => ((burst[key] as number) - (emptyInvocation[key] as number)) / events;
    const routed = injected.map((e) => {
      const routes = matchingRoutes(config, {
        sourceId: source.id,
        code: e.wire.code,
        tableName: e.wire.table_repr.name,
      });
      return { hash: e.hash, recipients: emailsOf(routes).length, phones: new Set(routes.flatMap((r) => r.sms)).size };
    });
    const sms = routed.reduce((sum, e) => sum + e.phones, 0);
    const share = quotaShare(config);
    const units = (of: readonly { recipients: number; phones: number }[]): QuotaUnits => ({
      emailRecipients: of.reduce((sum, e) => sum + e.recipients, 0),
      smsUnits: of.reduce((sum, e) => sum + Math.max(1, e.phones), 0),
    });
    const boundOf = (u: QuotaUnits) =>
      quotaBoundBurstMs(config, { emailRecipients: u.emailRecipients, smsMessages: u.smsUnits });
    const wholeBurst = units(routed);
    const sent: QuotaUnits = {
      emailRecipients: burst.sesRecipients,
      smsUnits: units(routed.filter((e) => publishedHashes.has(e.hash))).smsUnits,
    };
    const sends = results.flatMap((r) => r.channels).filter((c) => c.channel === 'email' || c.channel === 'sns');
    const refused = (of: typeof sends) => of.filter((c) => !c.ok && c.deferred !== true).length;
    const sesEmulatorEmails = (await stack.sesStoreCount()) - sesBefore;
    const logBytes = run.capture.bytes();
    const emfMetrics = emfMetricKeys(run.capture.lines);

    // The next scheduled runs, a minute apart, until every event has its SNS publish.
    let invocations = 1;
    const unpublished = () => {
      const published = new Set(
        meter
          .since(mark)
          .filter((c) => c.service === 'sns' && c.ok)
          .map((c) => c.label),
      );
      return injected.filter((e) => !published.has(e.hash)).length;
    };
    while (unpublished() > 0 && invocations < MAX_DRAIN_INVOCATIONS) {
      await sleep(started + invocations * 60_000 - Date.now());
      await withCapturedOutput(() => invoke());
      invocations += 1;
    }
    const all = meter.since(mark);
    const allSummary = summarizeCalls(all);
    const allSends = results.flatMap((r) => r.channels).filter((c) => c.channel === 'email' || c.channel === 'sns');
    const perAll = (key: keyof CallSummary) =>
      ((allSummary[key] as number) - invocations * (emptyInvocation[key] as number)) / events;
    const sendCalls = all.filter((c) => (c.service === 'ses' || c.service === 'sns') && c.ok);
    const drain: BurstDrain = {
      invocations,
      undelivered: unpublished(),
      throttled: refused(allSends),
      deliverMs:
        sendCalls.length === 0
          ? 0
          : Math.max(...sendCalls.map((c) => c.endedAt)) - Math.min(...sendCalls.map((c) => c.startedAt)),
      quotaBoundMs: boundOf(wholeBurst),
      perEvent: {
        sesCalls: perAll('sesCalls'),
        sesRecipients: perAll('sesRecipients'),
        snsCalls: perAll('snsCalls'),
        dynamoDbWrites: perAll('dynamoDbWrites'),
      },
    };
    const pacing: BurstPacing = {
      sesPerSecond: share.ses,
      snsPerSecond: share.sns,
      sent,
      quotaBoundMs: boundOf(sent),
      wholeBurst: { ...wholeBurst, quotaBoundMs: boundOf(wholeBurst) },
      throttled: refused(sends),
      deferred: sends.filter((c) => !c.ok && c.deferred === true).length,
    };
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
      sesEmulatorEmails,
      undelivered: injected.filter((e) => !publishedHashes.has(e.hash)).length,
      logBytes,
      emfMetrics,
      concurrency: config.delivery.concurrency,
      phases: phasesOf(calls),
      pacing,
      drain,
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

export interface BurstMemoryResult {
  readonly events: number;
  readonly delivered: number;
  /** The function's memory and the NODE_OPTIONS the child ran with (default: the stack's). */
  readonly memoryMb: number;
  readonly nodeOptions: string;
  /** Peak resident set of the process (import, warm-up and burst): `process.resourceUsage().maxRSS`. */
  readonly peakRssMb: number;
  /** Resident set after the import, before the first call. */
  readonly importedRssMb: number;
  /** Largest V8 heap in use and largest RSS sampled every 5 ms during the burst invocation. */
  readonly peakHeapUsedMb: number;
  /** Largest V8 heap reserved (used or not) sampled during the burst. */
  readonly peakHeapTotalMb: number;
  readonly peakSampledRssMb: number;
  /** Largest memory outside the V8 heap (Buffers, sockets) sampled during the burst. */
  readonly peakExternalMb: number;
  readonly wallMs: number;
}

const MEMORY_CHILD = `
const mb = (bytes) => bytes / 1048576;
const { handler } = await import(process.env.BENCH_BUNDLE_URL);
const importedRssMb = mb(process.memoryUsage.rss());
process.on('message', async (message) => {
  if (message !== 'invoke') return process.exit(0);
  const peak = { heapUsed: 0, heapTotal: 0, rss: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.rss = Math.max(peak.rss, m.rss);
    peak.external = Math.max(peak.external, m.external);
  };
  const timer = setInterval(sample, 5);
  const started = performance.now();
  const remaining = Number(process.env.BENCH_REMAINING_MS);
  const deadline = Date.now() + remaining;
  const report = await handler({}, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), awsRequestId: 'burst-memory' });
  const wallMs = performance.now() - started;
  clearInterval(timer);
  sample();
  process.send({ report, wallMs, importedRssMb, peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapUsedMb: mb(peak.heapUsed), peakHeapTotalMb: mb(peak.heapTotal), peakSampledRssMb: mb(peak.rss), peakExternalMb: mb(peak.external) });
});
process.send('ready');
`;

/**
 * The burst through the bundle (`bundleFile`, as buildLambdaBundle built it) in a fresh child
 * process with the stack's NODE_OPTIONS and the environment the stack sets: a warm-up call takes
 * the source's baseline, the events are injected, one call handles them; the child reports its
 * peak memory. What Lambda would call "Max Memory Used" is the peak RSS (plus the runtime client's
 * few MB, which a plain Node process does not have).
 */
export async function measureBurstMemory(
  bundleFile: string,
  stack: BenchStack,
  events: number,
  nodeOptions: string = POLLER_NODE_OPTIONS,
): Promise<BurstMemoryResult> {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed: 2026 });
  const script = join(dirname(bundleFile), 'burst-memory-child.mjs');
  writeFileSync(script, MEMORY_CHILD);
  const config = benchConfig(
    [{ id: 'burst', url: sim.url, fingerprint256: sim.fingerprint256! }],
    BURST_INTERVAL_SECONDS,
  );
  const child = fork(script, [], {
    env: {
      PATH: process.env.PATH ?? '',
      ...stack.env,
      NODE_OPTIONS: nodeOptions,
      POWERTOOLS_SERVICE_NAME: 'qrmenu-alerts',
      POWERTOOLS_METRICS_NAMESPACE: 'QrmenuAlerts/bench',
      [RUNTIME_ENV.stateTable]: await stack.newTable(),
      [RUNTIME_ENV.alertsTopicArn]: stack.topicArn,
      [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(config)),
      BENCH_BUNDLE_URL: pathToFileURL(bundleFile).href,
      BENCH_REMAINING_MS: String(BURST_REMAINING_MS),
    },
    // The handler's logs are not measured here: read and dropped, so the pipe never blocks the child.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Not the bench's own flags (tsx's loader would be measured too).
    execArgv: [],
  });
  if (process.env.BENCH_DEBUG) child.stdout?.on('data', (c: Buffer) => process.stderr.write(c));
  else child.stdout?.resume();
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const messages: unknown[] = [];
  const waiters: ((message: unknown) => void)[] = [];
  child.on('message', (message) => (waiters.shift() ?? ((m) => messages.push(m)))(message));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`the burst child exited (${code}) early:\n${stderr.join('').slice(-2_000)}`)),
    ),
  );
  const next = () =>
    Promise.race([
      messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve)),
      exited,
    ]);
  type Out = {
    report: { polls: number; errors: number; delivered: number };
    wallMs: number;
    importedRssMb: number;
    peakRssMb: number;
    peakHeapUsedMb: number;
    peakHeapTotalMb: number;
    peakSampledRssMb: number;
    peakExternalMb: number;
  };
  try {
    if ((await next()) !== 'ready') throw new Error('the burst child did not start');
    // As measureBurst: a warm-up poll (the baseline), then an empty invocation, then the burst.
    for (const phase of ['warm-up', 'empty']) {
      child.send('invoke');
      const { report } = (await next()) as Out;
      if (report.polls !== 1 || report.errors !== 0) throw new Error(`${phase} poll failed: ${JSON.stringify(report)}`);
    }
    sim.injectMany(events);
    child.send('invoke');
    const out = (await next()) as Out;
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify(out.report), stderr.join('').slice(-3000));
    return {
      events,
      delivered: out.report.delivered,
      memoryMb: POLLER_MEMORY_MB,
      nodeOptions,
      peakRssMb: out.peakRssMb,
      importedRssMb: out.importedRssMb,
      peakHeapUsedMb: out.peakHeapUsedMb,
      peakHeapTotalMb: out.peakHeapTotalMb,
      peakSampledRssMb: out.peakSampledRssMb,
      peakExternalMb: out.peakExternalMb,
      wallMs: out.wallMs,
    };
  } finally {
    exited.catch(() => undefined);
    child.kill();
    await sim.close();
  }
}
