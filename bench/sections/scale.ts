/**
 * Scale: one deployment polling 1, 10, 100 and 500 restaurants, in real time. The sources are
 * spread over shards as the stack spreads them (lambda/config/shards.ts: one scheduled invocation
 * per shard, told its shard in the event, every one reading the whole sealed config), each shard
 * runs in its own process as a warm Lambda would (bench/child/invoke-bundle.mjs imports the
 * bundle CDK builds), and all the QR-menu servers run in one other process
 * (bench/child/simulators.ts), each guest calling a waiter about once a minute.
 *
 * Measured per size, from outside the handler (recording proxies in front of DynamoDB Local and
 * the SNS emulator) and from inside each shard's process (CPU time, peak RSS):
 *   p95 latency from an event entering its server's queue to the end of its SNS publish;
 *   CPU time per tick per source, and the share of a vCPU a shard needs next to what a 128 MB
 *   Lambda gets (Lambda gives CPU in proportion to memory: a full vCPU at 1,769 MB);
 *   peak memory of one invocation; GB-s a month; and what each source costs a month at list
 *   prices without the free tier, in two parts: watching it (Lambda, its source item's writes
 *   each run, reads, CloudWatch Logs and metrics), which is the marginal cost issue 12 bounds, and
 *   its calls at the simulated traffic (their records' writes and SNS publishes).
 * The shards run side by side on this machine's cores, with the simulators and emulators:
 * latency here is an upper bound of what Lambda, with a core per invocation share, would show.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { POLLER_MEMORY_MB } from '../../infra/constructs/poller';
import { RUNTIME_ENV } from '../../lambda/config/runtime';
import { SOURCE_STATE_SK } from '../../lambda/state/keys';
import { sealConfig } from '../../lambda/config/sealed';
import { shardCount, shardEvent, sourcesOfShard } from '../../lambda/config/shards';
import { MAX_RUN_MS, SAFETY_MS } from '../../lambda/handler';
import type { AlertsConfig } from '../../lambda/config/schema';
import { LAMBDA_PLATFORM_LOG_BYTES, LOG_EVENT_OVERHEAD_BYTES, MINUTES_PER_MONTH, PRICES } from '../cost/prices';
import type { BenchStack } from '../lib/bench-stack';
import { emfMetricKeys } from '../lib/emf';
import { RecordingProxy } from '../lib/recording-proxy';
import { distribution, type Distribution } from '../lib/stats';
import { BENCH_TOKEN, FOLLOW_UP_REMAINING_MS, ONE_TICK_REMAINING_MS, benchConfig } from '../lib/wiring';
import { lambdaEnv } from './cold-start';
import { SCHEDULE_MS } from './latency';

/** Lambda gives a full vCPU at 1,769 MB, and CPU in proportion to memory below it. */
export const MB_PER_VCPU = 1_769;
const MARK = 'BENCH_RESULT ';
/**
 * The first seconds of a run, when every shard takes its sources' leases and lists their pending
 * work at once: the figures are also given apart for them (`startOfRun`), to show where latency goes.
 */
export const RUN_START_MS = 10_000;
/** Shards warmed up together (each takes its sources' leases and polls them once). */
const WARM_SHARDS_AT_ONCE = 4;
const SIMULATORS_CHILD = fileURLToPath(new URL('../child/simulators.ts', import.meta.url));
const INVOKE_CHILD = fileURLToPath(new URL('../child/invoke-bundle.mjs', import.meta.url));
const WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

export interface ScaleOptions {
  readonly sizes: readonly number[];
  /** Sources one shard (one scheduled invocation) polls. Default: the product's (polling.sourcesPerShard). */
  readonly sourcesPerShard?: number;
  /** Guest calls per source per minute. */
  readonly eventsPerSourcePerMinute: number;
  /** The measured invocation's remaining time at its start: POLLER_TIMEOUT as deployed; less for a quick run. */
  readonly remainingMs: number;
  readonly seed: number;
}

export interface ScaleResult {
  readonly sources: number;
  readonly shards: number;
  readonly intervalSeconds: number;
  /** Length of the measured invocation's polling (the handler's own plan). */
  readonly runMs: number;
  readonly events: number;
  /** ms from an event's enqueuedAt to the end of its first successful SNS publish. */
  readonly latency: Distribution;
  readonly undelivered: number;
  readonly pollErrors: number;
  /** Shards some source of which had not polled once after the warm-up (its first run was the measured one). Absent before 2026-12-03. */
  readonly coldShards?: number;
  /** The same run split at RUN_START_MS after its start (absent before 2026-12-03): where its latency goes. */
  readonly startOfRun?: StartOfRun;
  /** Polls (source ticks) of the measured invocations, all shards. */
  readonly polls: number;
  /** CPU time of the measured invocations / their polls. */
  readonly cpuMsPerTick: number;
  /** The busiest shard's CPU time / its wall time: the share of one vCPU it needs. */
  readonly vcpuNeeded: number;
  /** What the function's memory size gets: POLLER_MEMORY_MB / MB_PER_VCPU. */
  readonly vcpuAllotted: number;
  /** Highest RSS of any shard's measured invocation, and its V8 heap at most. */
  readonly peakMb: number;
  readonly peakHeapMb: number;
  readonly memoryMb: number;
  readonly gbSecondsPerMonth: number;
  /**
   * What watching one source costs a month (list prices, no free tier): Lambda, DynamoDB (the
   * source item's lease and saves each run, and reads), logs and metrics — calls not included.
   */
  readonly usdPerSourceMonth: number;
  /** What its calls add a month at this run's traffic: their records' writes and SNS publishes. Absent from runs before 2026-12-02 (their usdPerSourceMonth included them). */
  readonly callsUsdPerSourceMonth?: number;
  /** Calls a month per source at this run's traffic (eventsPerSourcePerMinute, all month long). */
  readonly callsPerSourceMonth?: number;
  readonly usdItems: Readonly<Record<'lambda' | 'dynamodb' | 'logs' | 'metrics' | 'callWrites' | 'sns', number>>;
  /** DynamoDB write requests of the measured invocations, per source; of them, to its source item. */
  readonly dynamoWritesPerSource: number;
  readonly stateWritesPerSource?: number;
  readonly logBytesPerSource: number;
  readonly metricSeries: number;
}

export interface StartOfRun {
  /** Latency of the events enqueued in the run's first RUN_START_MS, and of those after. */
  readonly latencyFirst: Distribution;
  readonly latencyAfter: Distribution;
  /** DynamoDB requests answered in each part (count) and their answer times, proxy to emulator and back. */
  readonly dynamoFirst: Distribution;
  readonly dynamoAfter: Distribution;
  /** Conditional writes to the shared send slots (`rate#…`) refused, in each part. */
  readonly poolRefusedFirst: number;
  readonly poolRefusedAfter: number;
}

/** One line of a child's stdout at a time, to `onLine`. */
function lines(child: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

interface SimulatorsHandle {
  readonly urls: readonly string[];
  readonly fingerprint256: string;
  /** [source index, hash, enqueuedAt] of every event queued. */
  readonly events: [number, string, number][];
  traffic(eventsPerMinute: number, untilMs: number): void;
  stop(): Promise<void>;
}

async function startSimulators(sources: number, seed: number): Promise<SimulatorsHandle> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SIMULATORS_CHILD, String(sources), BENCH_TOKEN, String(seed)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const events: [number, string, number][] = [];
  const ready = new Promise<{ urls: string[]; fingerprint256: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the simulators process exited (${code}) before it was ready`)));
    lines(child, (line) => {
      const message = JSON.parse(line) as {
        e?: [number, string, number];
        ready?: { urls: string[]; fingerprint256: string };
      };
      if (message.e) events.push(message.e);
      else if (message.ready) resolve(message.ready);
    });
  });
  const { urls, fingerprint256 } = await ready;
  return {
    urls,
    fingerprint256,
    events,
    traffic: (eventsPerMinute, untilMs) =>
      child.stdin!.write(`${JSON.stringify({ cmd: 'traffic', eventsPerMinute, untilMs })}\n`),
    async stop() {
      child.stdin!.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5_000)]);
      child.kill('SIGKILL');
    },
  };
}

interface InvocationOutcome {
  readonly report?: { ticks: number; polls: number; delivered: number; errors: number };
  readonly error?: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
  /** The handler's own output during the invocation (log and EMF lines). */
  readonly output: string[];
}

/** A warm execution environment for one shard: one process, invocations one after the other. */
class ShardProcess {
  readonly #child: ChildProcess;
  #output: string[] = [];
  #waiting: ((outcome: InvocationOutcome) => void) | undefined;

  constructor(bundleFile: string, env: Record<string, string>) {
    this.#child = spawn(process.execPath, [INVOKE_CHILD, pathToFileURL(bundleFile).href], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    lines(this.#child, (line) => {
      if (!line.startsWith(MARK)) {
        this.#output.push(line);
        return;
      }
      const outcome = {
        ...(JSON.parse(line.slice(MARK.length)) as Omit<InvocationOutcome, 'output'>),
        output: this.#output,
      };
      this.#output = [];
      this.#waiting?.(outcome);
    });
  }

  invoke(event: unknown, remainingMs: number, id: string): Promise<InvocationOutcome> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#child.stdin!.write(`${JSON.stringify({ event, remainingMs, id })}\n`);
    });
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}

/** The bench restaurant (wiring.ts) N times, at the product's default poll interval and shard size. */
function scaleConfig(urls: readonly string[], fingerprint256: string, sourcesPerShard?: number): AlertsConfig {
  const config = benchConfig(urls.map((url, i) => ({ id: `r${String(i + 1).padStart(3, '0')}`, url, fingerprint256 })));
  return sourcesPerShard === undefined ? config : { ...config, polling: { ...config.polling, sourcesPerShard } };
}

export async function measureScaleSize(
  stack: BenchStack,
  bundleFile: string,
  sources: number,
  options: ScaleOptions,
  say: (text: string) => void = () => {},
): Promise<ScaleResult> {
  const sims = await startSimulators(sources, options.seed + sources);
  const dynamodb = await RecordingProxy.start(stack.endpoints.dynamodb);
  const sns = await RecordingProxy.start(stack.endpoints.sns);
  const shardProcesses: ShardProcess[] = [];
  try {
    const config = scaleConfig(sims.urls, sims.fingerprint256, options.sourcesPerShard);
    const shards = shardCount(config);
    const sealed = JSON.stringify(sealConfig(config));
    const table = await stack.newTable();
    for (let k = 0; k < shards; k += 1) {
      shardProcesses.push(
        new ShardProcess(
          bundleFile,
          lambdaEnv(
            {
              ...stack.env,
              AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
              AWS_ENDPOINT_URL_SNS: sns.endpoint,
              [RUNTIME_ENV.stateTable]: table,
              [RUNTIME_ENV.alertsTopicArn]: stack.topicArn,
              [RUNTIME_ENV.configJson]: sealed,
            },
            true,
          ),
        ),
      );
    }
    // Each source's first poll records its server's (empty) backlog, as after a deploy, so that
    // the measured run is not a first run (whose first poll records what is queued without sending
    // it). A shard whose run took longer than its one tick to take the leases polls nothing then:
    // a shard is warm only when every one of its sources polled. Shards warm a few at a time (all
    // 20 at once put 1,000 lease writes and queries on DynamoDB Local together), up to three
    // rounds; a source still cold takes its baseline in the measured run.
    const warmed = new Set<number>();
    for (let round = 0; round < 3 && warmed.size < shards; round += 1) {
      const cold = shardProcesses.map((_, k) => k).filter((k) => !warmed.has(k));
      for (let i = 0; i < cold.length; i += WARM_SHARDS_AT_ONCE) {
        const group = cold.slice(i, i + WARM_SHARDS_AT_ONCE);
        const warm = await Promise.all(
          group.map((k) => shardProcesses[k]!.invoke(shardEvent(k), ONE_TICK_REMAINING_MS, `warm-${round}-${k}`)),
        );
        group.forEach((k, j) => {
          const w = warm[j]!;
          const polled = w.report?.polls ?? 0;
          if (w.error === undefined && w.report?.errors === 0 && polled >= sourcesOfShard(config, k).length)
            warmed.add(k);
        });
      }
    }
    if (warmed.size < shards)
      say(`    ${shards - warmed.size} shard(s) still cold after the warm-up: their first poll is in the measured run`);

    const start = Date.now() + 500;
    const runMs = Math.min(MAX_RUN_MS, options.remainingMs - SAFETY_MS);
    const trafficEnd = start + runMs;
    const dynamoBefore = dynamodb.calls.length;
    sims.traffic(options.eventsPerSourcePerMinute, trafficEnd);
    await sleep(Math.max(0, start - Date.now()));
    const measured = await Promise.all(
      shardProcesses.map((p, k) => p.invoke(shardEvent(k), options.remainingMs, `run-${k}`)),
    );
    const dynamoCalls = dynamodb.calls.slice(dynamoBefore);
    // The next scheduled invocation picks up what arrived after the last poll of the run (it
    // runs long enough to deliver; only its first poll matters to the latency).
    await sleep(Math.max(0, start + SCHEDULE_MS - Date.now()));
    await Promise.all(shardProcesses.map((p, k) => p.invoke(shardEvent(k), FOLLOW_UP_REMAINING_MS, `next-${k}`)));

    const injected = sims.events.filter(([, , at]) => at >= start && at < trafficEnd);
    const published = new Map<string, number>();
    for (const call of sns.calls) {
      if (call.hash === undefined || call.status !== 200) continue;
      published.set(call.hash, Math.min(published.get(call.hash) ?? Number.POSITIVE_INFINITY, call.endedAt));
    }
    const latencyOf = (events: typeof injected) =>
      events.flatMap(([, hash, at]) => (published.has(hash) ? [published.get(hash)! - at] : []));
    const latencies = latencyOf(injected);
    const split = start + RUN_START_MS;
    const wallMs = Math.max(...measured.map((m) => m.wallMs));
    const runEnd = start + wallMs;
    const first = dynamoCalls.filter((c) => c.endedAt >= start && c.endedAt < split);
    const after = dynamoCalls.filter((c) => c.endedAt >= split && c.endedAt <= runEnd);
    const refused = (calls: typeof dynamoCalls) =>
      calls.filter((c) => c.status === 400 && c.partitionKey?.startsWith('rate#')).length;
    const startOfRun: StartOfRun = {
      latencyFirst: distribution(latencyOf(injected.filter(([, , at]) => at < split))),
      latencyAfter: distribution(latencyOf(injected.filter(([, , at]) => at >= split))),
      dynamoFirst: distribution(first.map((c) => c.endedAt - c.startedAt)),
      dynamoAfter: distribution(after.map((c) => c.endedAt - c.startedAt)),
      poolRefusedFirst: refused(first),
      poolRefusedAfter: refused(after),
    };

    const polls = measured.reduce((sum, m) => sum + (m.report?.polls ?? 0), 0);
    const cpuMs = measured.reduce((sum, m) => sum + m.cpuMs, 0);
    const output = measured.flatMap((m) => m.output);
    const logBytes = output.reduce((sum, line) => sum + Buffer.byteLength(line) + 1 + LOG_EVENT_OVERHEAD_BYTES, 0);
    const metricSeries = emfMetricKeys(output).length;
    const writeCalls = dynamoCalls.filter((c) => WRITE_OPERATIONS.some((op) => c.operation.endsWith(op)));
    const writes = writeCalls.length;
    // The source item is written a fixed number of times a run (lease, first-run checkpoint,
    // release), whatever the run's length or traffic; every other write is a call's: its event
    // record's, or the shared send slots' (items `rate#…`, written as sends are paced).
    const stateWrites = writeCalls.filter(
      (c) => c.sortKey === SOURCE_STATE_SK && !c.partitionKey?.startsWith('rate#'),
    ).length;
    const reads = dynamoCalls
      .filter((c) => !WRITE_OPERATIONS.some((op) => c.operation.endsWith(op)))
      .reduce((sum, c) => sum + (c.items ?? 1), 0);
    const publishes = sns.calls.filter(
      (c) => c.operation === 'Publish' && c.endedAt >= start && c.endedAt <= start + wallMs,
    ).length;

    // A month of this minute: one invocation per shard per minute, billed for its whole run.
    const fullRunBilledSeconds = (wallMs + (MAX_RUN_MS - runMs)) / 1000;
    const gbSecondsPerMonth = shards * MINUTES_PER_MONTH * fullRunBilledSeconds * (POLLER_MEMORY_MB / 1024);
    const scaleToMonth = MINUTES_PER_MONTH * (MAX_RUN_MS / runMs);
    const watching = {
      lambda:
        gbSecondsPerMonth * PRICES.lambdaArmGbSecond +
        ((shards * MINUTES_PER_MONTH) / 1e6) *
          (PRICES.lambdaRequestsPerMillion + PRICES.schedulerInvocationsPerMillion),
      dynamodb:
        ((stateWrites * MINUTES_PER_MONTH) / 1e6) * PRICES.dynamoWriteUnitsPerMillion +
        ((reads * scaleToMonth) / 1e6) * PRICES.dynamoReadUnitsPerMillion,
      // Every line the run wrote, its calls' lines included: an upper bound of watching's share.
      logs:
        ((logBytes * scaleToMonth + shards * MINUTES_PER_MONTH * LAMBDA_PLATFORM_LOG_BYTES) / 1e9) *
        PRICES.logsIngestedPerGb,
      metrics: metricSeries * PRICES.customMetricPerMonth,
    };
    const calls = {
      callWrites: (((writes - stateWrites) * scaleToMonth) / 1e6) * PRICES.dynamoWriteUnitsPerMillion,
      sns: ((publishes * scaleToMonth) / 1e6) * PRICES.snsPublishesPerMillion,
    };
    const perSource = (items: Record<string, number>) =>
      Object.fromEntries(Object.entries(items).map(([k, v]) => [k, v / sources]));
    const usdItems = { ...perSource(watching), ...perSource(calls) } as ScaleResult['usdItems'];
    const total = (items: Record<string, number>) => Object.values(items).reduce((a, b) => a + b, 0) / sources;
    return {
      sources,
      shards,
      intervalSeconds: config.polling.intervalSeconds,
      runMs,
      events: injected.length,
      latency: distribution(latencies),
      undelivered: injected.length - latencies.length,
      coldShards: shards - warmed.size,
      startOfRun,
      pollErrors: measured.reduce((sum, m) => sum + (m.report?.errors ?? 0) + (m.error ? 1 : 0), 0),
      polls,
      cpuMsPerTick: polls === 0 ? Number.NaN : cpuMs / polls,
      vcpuNeeded: Math.max(...measured.map((m) => m.cpuMs / m.wallMs)),
      vcpuAllotted: POLLER_MEMORY_MB / MB_PER_VCPU,
      peakMb: Math.max(...measured.map((m) => m.peakRssMb)),
      peakHeapMb: Math.max(...measured.map((m) => m.peakHeapMb)),
      memoryMb: POLLER_MEMORY_MB,
      gbSecondsPerMonth,
      usdPerSourceMonth: total(watching),
      callsUsdPerSourceMonth: total(calls),
      callsPerSourceMonth: (injected.length * scaleToMonth) / sources,
      usdItems,
      dynamoWritesPerSource: writes / sources,
      stateWritesPerSource: stateWrites / sources,
      logBytesPerSource: logBytes / sources,
      metricSeries,
    };
  } finally {
    for (const p of shardProcesses) p.stop();
    await Promise.allSettled([sims.stop(), dynamodb.close(), sns.close()]);
  }
}

export async function measureScale(
  stack: BenchStack,
  bundleFile: string,
  options: ScaleOptions,
  say: (text: string) => void = () => {},
): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const size of options.sizes) {
    say(`    ${size} source(s)…`);
    results.push(await measureScaleSize(stack, bundleFile, size, options, say));
  }
  return results;
}

/** The line issue 12 asks for, one per size (n/a for a figure a results.json from before it lacks). */
export function scaleLine(r: ScaleResult): string {
  const fixed = (value: number | undefined, digits: number) =>
    value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
  return (
    `scale: sources=${r.sources} shards=${r.shards} p95_ms=${fixed(r.latency.p95, 0)} ` +
    `cpu_ms_per_tick=${fixed(r.cpuMsPerTick, 2)} peak_mb=${fixed(r.peakMb, 1)} ` +
    `gb_s_month=${fixed(r.gbSecondsPerMonth, 0)} usd_per_source_month=${fixed(r.usdPerSourceMonth, 3)} ` +
    `calls_usd_per_source_month=${fixed(r.callsUsdPerSourceMonth, 3)} calls_per_source_month=${fixed(r.callsPerSourceMonth, 0)}`
  );
}
