/**
 * `npm run bench` — measures what issue 7 asks and prints it beside its goals:
 *   1. the Lambda bundle as CDK builds it (bytes, what takes them) and its cold start;
 *   2. a burst of 1,000 events through the real wiring on DynamoDB Local and the SES/SNS emulators;
 *   3. latency from queue to SNS publish / SES send at 2- (the default), 5- and 10-s polling, in real time;
 *   4. idle cost per empty tick and a monthly AWS cost model for one restaurant;
 *   5. scale: one deployment polling 1, 10, 100 and 500 restaurants in shards, in real time.
 * Writes bench/results.json (with the machine) and prints the tables; `--markdown` prints them
 * for BENCHMARKS.md. Exits 0 whatever the figures: it measures, it does not judge by hand.
 *   npm run bench                 # ≈ 10 minutes on 2 cores
 *   npm run bench -- --quick      # ≈ 4 minutes: fewer runs, one latency minute, shorter scale runs
 */
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { stackInventory } from './cost/inventory';
import { costModelOf } from './cost-inputs';
import { evaluateGoals } from './evaluate';
import { startBenchStack } from './lib/bench-stack';
import { describeMachine, machineLine } from './lib/machine';
import { renderReport } from './report';
import { writeResults, type BenchOptions, type BenchResults } from './results';
import { buildLambdaBundle } from './sections/bundle';
import { measureBurst, measureBurstMemory } from './sections/burst';
import { measureColdStart, measureFirstInvocation } from './sections/cold-start';
import { measureIdle } from './sections/idle';
import { LATENCY_INTERVALS_SECONDS, measureLatency } from './sections/latency';
import { measureScale, scaleLine } from './sections/scale';
import { measureSharedBurst, sharedBurstLine } from './sections/shared-burst';
import { POLLER_TIMEOUT } from '../infra/constructs/poller';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

function sizeList(value: string): number[] {
  const sizes = value.split(',').map((part) => Number(part.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < 1))
    throw new InvalidArgumentError('must be whole numbers ≥ 1, separated by commas (e.g. 1,10,100,500)');
  return sizes;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return parsed;
}

const program = new Command()
  .name('npm run bench --')
  .description('Measure bundle, cold start, burst, latency and idle cost of qrmenu-alerts; write bench/results.json')
  .option('--quick', 'a shorter run: 7 cold starts, one latency minute, no extra burst', false)
  .option('--cold-runs <n>', 'fresh processes per cold-start figure (default 9, quick 7)', positiveInt)
  .option('--latency-invocations <n>', 'scheduled minutes of the latency run (default 3, quick 1)', positiveInt)
  .option('--events-per-minute <n>', 'simulated traffic per source in the latency run', positiveInt, 30)
  .option('--seed <n>', 'seed of the simulated traffic', positiveInt, 7)
  .option('--scale-sizes <list>', 'sources of each scale run (default 1,10,100,500)', sizeList)
  .option('--sources-per-shard <n>', 'sources one scheduled invocation polls in the scale runs', positiveInt)
  .option('--config <file>', 'deployment config whose stack the fixed costs are counted from', 'config/example.yaml')
  .option('--out <file>', 'where to write the results', 'bench/results.json')
  .option('--markdown', 'print the tables as Markdown (for BENCHMARKS.md)', false)
  .parse();

const flags = program.opts<{
  quick: boolean;
  coldRuns?: number;
  latencyInvocations?: number;
  eventsPerMinute: number;
  seed: number;
  scaleSizes?: number[];
  sourcesPerShard?: number;
  config: string;
  out: string;
  markdown: boolean;
}>();

const options: BenchOptions = {
  quick: flags.quick,
  coldRuns: flags.coldRuns ?? (flags.quick ? 7 : 9),
  firstInvocationRuns: flags.quick ? 3 : 5,
  burstEvents: 1_000,
  sensitivityConcurrency: flags.quick ? null : 32,
  latencyInvocations: flags.latencyInvocations ?? (flags.quick ? 1 : 3),
  latencyIntervals: LATENCY_INTERVALS_SECONDS,
  eventsPerMinute: flags.eventsPerMinute,
  idleRepeats: flags.quick ? 2 : 3,
  costConfig: flags.config,
  seed: flags.seed,
  scaleSizes: flags.scaleSizes ?? [1, 10, 100, 500],
  ...(flags.sourcesPerShard !== undefined ? { sourcesPerShard: flags.sourcesPerShard } : {}),
  scaleEventsPerSourcePerMinute: 1,
  // A quick run measures 33 s of polling per size instead of the deployed 57 s.
  scaleRemainingMs: flags.quick ? 45_000 : POLLER_TIMEOUT.toMilliseconds(),
};

const say = (text: string) => process.stderr.write(`${text}\n`);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const started = Date.now();
const machine = describeMachine();
say(`bench on ${machineLine(machine)}`);

say('1/7 building the Lambda bundle as CDK does…');
const bundle = await buildLambdaBundle(REPO_ROOT);
say(`    ${bundle.bytes} bytes in ${Math.round(bundle.buildMs)} ms`);
say(`2/7 cold start: ${options.coldRuns} fresh processes per figure…`);
const cold = await measureColdStart(bundle.file, options.coldRuns, options.costConfig);

say('    starting DynamoDB Local and the SES/SNS emulators…');
const stack = await startBenchStack();
let results: BenchResults;
try {
  say(`    first invocation's wiring: ${options.firstInvocationRuns} fresh processes…`);
  const firstInvocation = await measureFirstInvocation(bundle.file, stack, options.firstInvocationRuns);
  say(`3/7 idle cost: ${options.idleRepeats} runs at 60-s and 10-s polling…`);
  const idle = await measureIdle(stack, options.idleRepeats);
  say(`4/7 burst of ${options.burstEvents} events…`);
  const burst = await measureBurst(stack, options.burstEvents);
  say('    the same burst through the bundle in a child process, for its peak memory…');
  const burstMemory = await measureBurstMemory(bundle.file, stack, options.burstEvents);
  say('    the send quota shared by 20 shards: a burst in one while the others send a few…');
  const sharedBurst = await measureSharedBurst(stack);
  say(`    ${sharedBurstLine(sharedBurst)}`);
  const burstAtHigherConcurrency =
    options.sensitivityConcurrency === null
      ? undefined
      : await measureBurst(stack, options.burstEvents, options.sensitivityConcurrency);
  say(
    `5/7 latency at ${options.latencyIntervals.join(', ')}-s polling for ${options.latencyInvocations} minute(s) in real time…`,
  );
  const latency = await measureLatency(stack, {
    intervalsSeconds: options.latencyIntervals,
    invocations: options.latencyInvocations,
    eventsPerMinute: options.eventsPerMinute,
    seed: options.seed,
  });
  say(
    `6/7 scale: ${options.scaleSizes.join(', ')} sources, ${options.sourcesPerShard ?? 'the default number'} per shard, one invocation each in real time…`,
  );
  const scale = await measureScale(
    stack,
    bundle.file,
    {
      sizes: options.scaleSizes,
      ...(options.sourcesPerShard !== undefined ? { sourcesPerShard: options.sourcesPerShard } : {}),
      eventsPerSourcePerMinute: options.scaleEventsPerSourcePerMinute,
      remainingMs: options.scaleRemainingMs,
      seed: options.seed,
    },
    say,
  );
  for (const line of scale.map(scaleLine)) say(`    ${line}`);
  say(`7/7 cost model: counting the fixed resources of ${options.costConfig}'s stack…`);
  const inventory = stackInventory(options.costConfig);
  const cost = costModelOf(idle, burst, inventory);
  const { file: _file, dir: _dir, packages, ...bundleFigures } = bundle;
  const partial = {
    schema: 1 as const,
    machine,
    options,
    bundle: { ...bundleFigures, topPackages: packages.slice(0, 20) },
    coldStart: { ...cold, firstInvocation },
    burst,
    ...(burstAtHigherConcurrency ? { burstAtHigherConcurrency } : {}),
    burstMemory,
    sharedBurst,
    latency,
    idle,
    inventory,
    cost,
    scale,
  };
  results = { ...partial, goals: evaluateGoals(partial), durationSeconds: (Date.now() - started) / 1000 };
} finally {
  await stack.stop();
}

writeResults(flags.out, results);
process.stdout.write(`${renderReport(results, flags.markdown ? 'markdown' : 'text')}\n`);
say(`\nwrote ${flags.out}`);
