/**
 * Renders bench results as the tables the terminal shows and BENCHMARKS.md holds (text or
 * Markdown): goals, bundle, cold start, burst, latency, idle cost and the monthly cost model
 * with its arithmetic (its fixed, per-shard and per-source tables from cost/render.ts, shared with
 * docs/DEPLOY.md section 7). Reads only a BenchResults value, so `bench/summary.ts` can re-render
 * the tables from bench/results.json without measuring again.
 */
import { describeCheck } from './lib/goals';
import { machineLine } from './lib/machine';
import { markdownTable, ms, textTable, usd, type Row } from './lib/table';
import { MINUTES_PER_MONTH, PRICES } from './cost/prices';
import { renderDeploymentCost } from './cost/render';
import type { BenchResults } from './results';
import { burstOverQuotaBound, quotaRates } from './sections/burst';
import { RUN_START_MS, scaleLine } from './sections/scale';
import { sharedBurstLine } from './sections/shared-burst';

export type Format = 'text' | 'markdown';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const num = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
/** Digits a goal's figure is shown with, by its unit. */
const DIGITS: Readonly<Record<string, number>> = { vCPU: 3, 'USD/month': 2, '×': 2, sends: 0 };
const goalDigits = (unit: string) => DIGITS[unit] ?? 1;

export function renderReport(r: BenchResults, format: Format): string {
  const out: string[] = [];
  const heading = (title: string) => out.push(format === 'markdown' ? `\n### ${title}\n` : `\n== ${title} ==\n`);
  const table = (header: Row, rows: readonly Row[]) =>
    out.push(format === 'markdown' ? `\n${markdownTable(header, rows)}\n` : textTable(header, rows));
  const note = (text: string) => out.push(format === 'markdown' ? `\n${text}` : text);

  note(
    `Machine: ${machineLine(r.machine)}${r.options.quick ? ' (quick run)' : ''}; bench took ${Math.round(r.durationSeconds)} s.`,
  );

  heading('Goals');
  table(
    ['figure', 'measured', 'goal', 'verdict'],
    r.goals.map((g) => [
      g.what,
      `${num(g.measured, goalDigits(g.unit))} ${g.unit}`,
      `≤ ${g.limit} ${g.unit}`,
      g.met ? 'meets' : 'MISSES',
    ]),
  );

  heading('1. Bundle (esbuild as CDK runs it)');
  const b = r.bundle;
  table(
    ['what', 'value'],
    [
      ['index.mjs', `${b.bytes.toLocaleString('en-US')} bytes = ${kib(b.bytes)}`],
      ['source map (not loaded unless an error is printed)', kib(b.sourceMapBytes)],
      ['target / esbuild', `${b.target} / ${b.esbuild}`],
      ...(b.cdkOutAssetBytes !== undefined
        ? [
            [
              'asset of the last `cdk synth` (cdk.out, may be stale)',
              `${b.cdkOutAssetBytes.toLocaleString('en-US')} bytes`,
            ] as Row,
          ]
        : []),
    ],
  );
  note('What the bytes are (esbuild metafile, bytes in the minified output):');
  table(
    ['package family', 'bytes', 'share'],
    b.families.map((f) => [f.name, kib(f.bytes), `${((f.bytes / b.bytes) * 100).toFixed(0)} %`]),
  );
  table(
    ['package', 'bytes'],
    b.topPackages.slice(0, 12).map((p) => [p.name, kib(p.bytes)]),
  );

  heading(`2. Cold start (${r.coldStart.runs} fresh node processes each, medians)`);
  const c = r.coldStart;
  table(
    ['what', 'median'],
    [
      ['import index.mjs, NODE_OPTIONS=--enable-source-maps (as deployed)', ms(c.importMsMedian)],
      ['import index.mjs, without source maps', ms(c.importNoMapsMsMedian)],
      ['process start → bundle imported', ms(c.processToImportedMsMedian)],
      ['process spawn → exit, importing the bundle', ms(c.processWallMsMedian)],
      ['process spawn → exit, importing an empty module (Node alone)', ms(c.nodeOnlyWallMsMedian)],
      ...(c.firstInvocation
        ? ([
            [
              `first handler call: wiring + one poll (emulators, ${c.firstInvocation.runs} processes)`,
              ms(c.firstInvocation.firstMsMedian),
            ],
            ['second handler call: one poll', ms(c.firstInvocation.secondMsMedian)],
            ['first − second ≈ the wiring on first call', ms(c.firstInvocation.wiringMsMedian)],
          ] as Row[])
        : []),
    ],
  );

  const bursts = [r.burst, ...(r.burstAtHigherConcurrency ? [r.burstAtHigherConcurrency] : [])];
  heading(
    `3. Burst: ${r.burst.events} new events in one answer (DynamoDB Local, SES and SNS emulators, real deliverer)`,
  );
  table(
    ['figure', ...bursts.map((x) => `delivery.concurrency ${x.concurrency}${x === r.burst ? ' (default)' : ''}`)],
    [
      ['answer size', ...bursts.map((x) => kib(x.answerBytes))],
      ['invocation wall time (claim, deliver, mark all)', ...bursts.map((x) => ms(x.wallMs))],
      ['events per second', ...bursts.map((x) => num(x.eventsPerSecond, 0))],
      ['claims (first PutItem → last)', ...bursts.map((x) => ms(x.phases.claimMs))],
      ['deliveries (first send → last)', ...bursts.map((x) => ms(x.phases.deliverMs))],
      [
        `quota-bound minimum of what they sent${r.burst.pacing ? ` (${quotaRates(r.burst.pacing)})` : ''}`,
        ...bursts.map((x) =>
          x.pacing
            ? `${ms(x.pacing.quotaBoundMs)} (${x.pacing.sent.emailRecipients} e-mail recipients, ${x.pacing.sent.smsUnits} SMS units)`
            : 'n/a',
        ),
      ],
      [
        'deliveries ÷ quota-bound minimum',
        ...bursts.map((x) => {
          const ratio = burstOverQuotaBound(x);
          return Number.isFinite(ratio) ? `${num(ratio)} ×` : 'n/a';
        }),
      ],
      [
        'sends refused by throttling (or failed)',
        ...bursts.map((x) => (x.pacing ? String(x.pacing.throttled) : 'n/a')),
      ],
      [
        'sends deferred to a later tick by the pacer',
        ...bursts.map((x) => (x.pacing ? String(x.pacing.deferred) : 'n/a')),
      ],
      [
        'quota-bound minimum of the whole burst',
        ...bursts.map((x) =>
          x.pacing
            ? `${ms(x.pacing.wholeBurst.quotaBoundMs)} (${x.pacing.wholeBurst.emailRecipients} e-mail recipients, ${x.pacing.wholeBurst.smsUnits} SMS units)`
            : 'n/a',
        ),
      ],
      [
        'scheduled runs (a minute apart) until every event was delivered',
        ...bursts.map((x) =>
          x.drain ? `${x.drain.invocations}, ${x.drain.undelivered} undelivered, ${x.drain.throttled} refused` : 'n/a',
        ),
      ],
      [
        'first send → last, over those runs (the whole burst’s quota-bound minimum)',
        ...bursts.map((x) => (x.drain ? `${ms(x.drain.deliverMs)} (${ms(x.drain.quotaBoundMs)})` : 'n/a')),
      ],
      [
        'per event over those runs: SES recipients / SNS publishes / DynamoDB writes',
        ...bursts.map((x) =>
          x.drain
            ? `${num(x.drain.perEvent.sesRecipients)} / ${num(x.drain.perEvent.snsCalls)} / ${num(x.drain.perEvent.dynamoDbWrites)}`
            : 'n/a',
        ),
      ],
      [
        'median call: PutItem / SES / SNS / UpdateItem',
        ...bursts.map(
          (x) =>
            `${['dynamodb:PutItemCommand', 'ses:SendEmailCommand', 'sns:PublishCommand', 'dynamodb:UpdateItemCommand']
              .map((k) => num(x.phases.medianCallMs[k] ?? Number.NaN, 0))
              .join(' / ')} ms`,
        ),
      ],
      ['delivered / undelivered', ...bursts.map((x) => `${x.delivered} / ${x.undelivered}`)],
      [
        'DynamoDB write requests per event',
        ...bursts.map((x) => `${num(x.perEvent.dynamoDbWrites)} (all-in ${num(x.dynamoDbWritesPerEventAllIn, 3)})`),
      ],
      ['DynamoDB write units per event (table + index)', ...bursts.map((x) => num(x.perEvent.writeCapacityUnits))],
      ['DynamoDB read requests per event', ...bursts.map((x) => num(x.perEvent.dynamoDbReads, 3))],
      [
        'SES calls / recipients per event',
        ...bursts.map((x) => `${num(x.perEvent.sesCalls)} / ${num(x.perEvent.sesRecipients)}`),
      ],
      ['SNS publishes per event', ...bursts.map((x) => num(x.perEvent.snsCalls))],
      ['SMS per event (phones of matching routes)', ...bursts.map((x) => num(x.perEvent.smsMessages))],
      ['e-mails the SES emulator received', ...bursts.map((x) => String(x.sesEmulatorEmails))],
      [
        'per-invocation calls (empty run)',
        ...bursts.map((x) => `${x.emptyInvocation.dynamoDbWrites} writes, ${x.emptyInvocation.dynamoDbReads} read`),
      ],
    ],
  );

  if (r.burstMemory) {
    const m = r.burstMemory;
    note(
      `Peak memory, the same burst through index.mjs in a child process (MemorySize ${m.memoryMb}, NODE_OPTIONS=${m.nodeOptions}): ` +
        `${num(m.peakRssMb, 1)} MB RSS at most (${num(m.importedRssMb, 1)} MB after the import); during the burst V8's heap ` +
        `${num(m.peakHeapUsedMb, 1)} MB used of ${num(m.peakHeapTotalMb, 1)} MB, outside it ${num(m.peakExternalMb, 1)} MB; ` +
        `${m.delivered} of ${m.events} delivered in ${ms(m.wallMs)}.`,
    );
  }

  if (r.sharedBurst) {
    const b = r.sharedBurst;
    note(
      `The SES quota shared by ${b.shards} shards (one deliverer each: an own share of half the quota, one pool item in the state table for the other half): ` +
        `${b.burstSends} calls in one shard and a few in every other, ${b.sends} e-mails; the burst's first to last in ${ms(b.burstMs)} ` +
        `against the ${ms(b.boundMs)} its own share and the pool allow (×${num(b.burstMs / b.boundMs, 2)}` +
        `${b.allBoundMs === undefined ? '' : `; all ${b.sends} e-mails, which take the pool in turn, need at least ${ms(b.allBoundMs)}`}; at an equal share of the ` +
        `${b.sesPerSecond}/s: ${ms(b.atShareMs)}); at most ${b.busiestSecond} e-mails started in any second at the wire (quota ${b.sesPerSecond}); ` +
        `${num(b.writesPerSend, 2)} pool writes per e-mail (${b.refusedWrites} refused), ${b.fallbacks} fallbacks to the own share, ${b.failedSends} failed.`,
    );
    note(sharedBurstLine(b));
  }

  heading(
    `4. Latency: event queued → delivered, real time (${r.options.latencyInvocations} scheduled invocation(s) per interval, ${r.options.eventsPerMinute} events/min)`,
  );
  table(
    [
      'poll interval',
      'events',
      'SNS p50',
      'SNS p95',
      'SNS max',
      'SES p50',
      'SES p95',
      'SES max',
      'goal p95',
      'undelivered',
    ],
    r.latency.map((l) => [
      `${l.intervalSeconds} s`,
      String(l.events),
      ms(l.sns.p50),
      ms(l.sns.p95),
      ms(l.sns.max),
      ms(l.ses.p50),
      ms(l.ses.p95),
      ms(l.ses.max),
      `≤ ${ms(l.intervalSeconds * 1000 + 1000)}`,
      `${l.undeliveredSns} / ${l.undeliveredSes}`,
    ]),
  );

  heading('5. Idle cost (warmed source, empty queue)');
  const i = r.idle;
  table(
    ['what', 'writes', 'reads', 'WRU', 'RRU', 'log bytes', 'log lines'],
    [
      [
        'one empty tick',
        num(i.perEmptyTick.dynamoDbWrites),
        num(i.perEmptyTick.dynamoDbReads),
        num(i.perEmptyTick.writeCapacityUnits),
        num(i.perEmptyTick.readCapacityUnits),
        '',
        '',
      ],
      ...[i.at60, i.at10].map(
        (x): Row => [
          `one run at ${x.intervalSeconds}-s polling (${x.ticks} tick${x.ticks === 1 ? '' : 's'})`,
          num(x.dynamoDbWrites),
          num(x.dynamoDbReads),
          num(x.writeCapacityUnits),
          num(x.readCapacityUnits),
          num(x.logBytes, 0),
          num(x.logLines, 0),
        ],
      ),
    ],
  );
  note(
    `Work of one run at 60-s polling (real clock, emulators): median ${ms(i.runWorkMsMedian)} of ${i.runWorkMs.map((x) => Math.round(x)).join(', ')} ms. Custom metrics when idle: ${i.emfMetricsIdle.length}; with events: ${r.burst.emfMetrics.length}.`,
  );

  heading(`6. Monthly cost, one restaurant — ${r.cost.prices.region}, ${r.cost.prices.date}; ${r.cost.prices.caveat}`);
  for (const p of r.cost.polling) {
    note(
      `Polling part at ${p.intervalSeconds}-s polling (${p.ticksPerRun} tick(s) per run, ${num(p.runSeconds)} s billed per run):`,
    );
    table(
      ['item', 'arithmetic (USD)', 'USD/month'],
      [
        ...p.items.map((x) => [x.item, x.arithmetic, usd(x.usd)]),
        ['total', '', usd(p.totalUsd)],
        ['total after the always-free tier', '', usd(p.afterFreeTierUsd)],
      ],
    );
  }
  const lambdaAt = (seconds: number) =>
    MINUTES_PER_MONTH * seconds * (r.cost.memoryMb / 1024) * PRICES.lambdaArmGbSecond;
  const at10 = r.cost.polling.find((p) => p.intervalSeconds === 10);
  if (at10) {
    note(
      `Check against docs/DEPLOY.md §7: it bills ≈ 60 s per run at 10-s polling (${usd(lambdaAt(60))} of Lambda compute at these prices); ` +
        `the handler's loop starts its last tick at ${at10.runSeconds - r.idle.runWorkMsMedian / 1000} s and returns after it, so a run bills ≈ ${num(at10.runSeconds)} s (${usd(lambdaAt(at10.runSeconds))}). ` +
        `At 60-s polling, a run that took 1 s instead of the measured ${ms(r.idle.runWorkMsMedian)} would bill ${usd(lambdaAt(1))} of Lambda compute.`,
    );
  }
  for (const line of renderDeploymentCost(r.cost, r.inventory.configPath, format)) out.push(line);
  note(
    `Per 1,000 events (this bench's routes: ${num(r.burst.perEvent.sesRecipients)} e-mail recipients and ${num(r.burst.perEvent.snsCalls)} publish per event):`,
  );
  table(
    ['item', 'arithmetic (USD)', 'USD'],
    [
      ...r.cost.perThousandEvents.map((x) => [x.item, x.arithmetic, usd(x.usd)]),
      ['total', '', usd(r.cost.perThousandEventsUsd)],
    ],
  );
  note(
    `SMS, priced apart: ${Math.round(r.cost.smsPerThousandEvents)} SMS per 1,000 events with this bench's routes × the destination country's price per SMS segment ` +
      '(AWS End User Messaging SMS pricing page; each SMS is written to fit one segment).',
  );

  if (r.scale && r.scale.length > 0) renderScale(r, heading, table, note);

  if (format === 'text') {
    heading('Goal comparisons');
    for (const g of r.goals) out.push(describeCheck(g, goalDigits(g.unit)));
  }
  const text = out.join('\n');
  return format === 'markdown' ? text.replace(/\n{3,}/g, '\n\n').trim() : text;
}

/** Section 6: the scale runs, a table and the `scale:` line per size. */
function renderScale(
  r: BenchResults,
  heading: (title: string) => void,
  table: (header: Row, rows: readonly Row[]) => void,
  note: (text: string) => void,
): void {
  const o = r.options;
  heading('7. Scale: one deployment, 1 to 500 restaurants in shards');
  note(
    `Each size: the sources spread over shards of ${o.sourcesPerShard ?? 'polling.sourcesPerShard (default)'}, each shard one process importing the bundle (a warm Lambda), ` +
      `all the QR-menu servers in one other process, each guest calling about ${o.scaleEventsPerSourcePerMinute}× a minute; ` +
      `one measured invocation of ${r.scale?.[0] ? ms(r.scale[0].runMs) : 'n/a'} of polling, then the next scheduled one. ` +
      "Everything shares this machine's cores, so latency here is an upper bound. Cost: list prices, no free tier, the fixed part (§6) apart.",
  );
  table(
    [
      'sources',
      'shards',
      'events',
      'p50 / p95 latency',
      'CPU per tick per source',
      'vCPU needed / allotted',
      'peak RSS (heap)',
      'GB-s a month',
      'USD per source a month: watching it (+ its calls)',
    ],
    (r.scale ?? []).map((s) => [
      String(s.sources),
      String(s.shards),
      `${s.events}${s.undelivered > 0 ? ` (${s.undelivered} undelivered)` : ''}`,
      `${ms(s.latency.p50)} / ${ms(s.latency.p95)}`,
      `${num(s.cpuMsPerTick)} ms`,
      `${num(s.vcpuNeeded, 3)} / ${num(s.vcpuAllotted, 3)}`,
      `${num(s.peakMb, 1)} MB (${num(s.peakHeapMb, 1)})`,
      Math.round(s.gbSecondsPerMonth).toLocaleString('en-US'),
      s.callsPerSourceMonth === undefined || s.callsUsdPerSourceMonth === undefined
        ? usd(s.usdPerSourceMonth)
        : `${usd(s.usdPerSourceMonth)} (+ ${usd(s.callsUsdPerSourceMonth)} for ${Math.round(s.callsPerSourceMonth).toLocaleString('en-US')} calls)`,
    ]),
  );
  note(
    "What a source costs a month, by service (USD). Watching it: Lambda, DynamoDB (its source item's writes each run, and reads), logs and metrics; its calls: their records' writes and SNS publishes, at the simulated traffic all month long:",
  );
  table(
    [
      'sources',
      'Lambda',
      'DynamoDB',
      'CloudWatch Logs',
      'custom metrics',
      'calls: DynamoDB writes',
      'calls: SNS publishes',
      'DynamoDB writes per source per run (to its source item)',
      'log bytes per source per run',
      'metric series',
    ],
    (r.scale ?? []).map((s) => [
      String(s.sources),
      usd(s.usdItems.lambda),
      usd(s.usdItems.dynamodb),
      usd(s.usdItems.logs),
      usd(s.usdItems.metrics),
      usd(s.usdItems.callWrites),
      usd(s.usdItems.sns),
      `${num(s.dynamoWritesPerSource, 1)} (${s.stateWritesPerSource === undefined ? 'n/a' : num(s.stateWritesPerSource, 1)})`,
      Math.round(s.logBytesPerSource).toLocaleString('en-US'),
      String(s.metricSeries),
    ]),
  );
  const split = (r.scale ?? []).filter((s) => s.startOfRun !== undefined);
  if (split.length > 0) {
    note(
      `Where the latency goes: the run's first ${RUN_START_MS / 1000} s, when every shard takes its sources' leases and lists their pending work at once, ` +
        "apart from the rest of the run (DynamoDB answer times are DynamoDB Local's here, through the recording proxy; refused: conditional writes to the shared send slots that found the pointer elsewhere than believed):",
    );
    table(
      [
        'sources',
        `events in the first ${RUN_START_MS / 1000} s: p50 / p95`,
        'events after: p50 / p95',
        `DynamoDB in the first ${RUN_START_MS / 1000} s: requests, p50 / p95 answer`,
        'DynamoDB after: requests, p50 / p95 answer',
        'pool writes refused: first / after',
      ],
      split.map((s) => {
        const o = s.startOfRun!;
        return [
          String(s.sources),
          `${o.latencyFirst.count}: ${ms(o.latencyFirst.p50)} / ${ms(o.latencyFirst.p95)}`,
          `${o.latencyAfter.count}: ${ms(o.latencyAfter.p50)} / ${ms(o.latencyAfter.p95)}`,
          `${o.dynamoFirst.count}: ${ms(o.dynamoFirst.p50)} / ${ms(o.dynamoFirst.p95)}`,
          `${o.dynamoAfter.count}: ${ms(o.dynamoAfter.p50)} / ${ms(o.dynamoAfter.p95)}`,
          `${o.poolRefusedFirst} / ${o.poolRefusedAfter}`,
        ];
      }),
    );
  }
  note((r.scale ?? []).map(scaleLine).join('\n'));
}
