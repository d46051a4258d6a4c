/**
 * `npm start`: the whole notifier on one machine, no AWS account needed. It starts the local
 * stack (local-stack.ts: DynamoDB Local, SES and SNS emulators, SQS "phones", a QR-menu simulator
 * with realistic traffic) and then invokes THE Lambda handler (lambda/handler.ts, unchanged) once a
 * minute, as EventBridge Scheduler would, printing a live feed of what it does.
 *
 *   npm start                               demo restaurant, simulated guests
 *   npm start -- --config my.yaml           your deployment config, simulated servers
 *   npm start -- --url https://… --token …  a real QR-menu server; everything else stays local
 *   npm start -- --json | --once | --state-dir DIR
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { POLLER_TIMEOUT_SECONDS } from '../lambda/config/runtime';
import { parseAlertsConfig, type AlertsConfig } from '../lambda/config/schema';
import { shardCount, shardEvent } from '../lambda/config/shards';
import { feed } from '../lambda/obs/feed';
import type { FeedEntry } from '../lambda/domain/ports';
import { normalizeFingerprint } from '../lambda/qrmenu/http';
import { parseDeploymentConfig, readConfigFile } from '../infra/config/deployment';
import { DEMO_CONFIG } from './demo-config';
import { startSimulatedWaiters } from './simulated-waiters';
import { FeedPrinter } from './feed-printer';
import { drainQueue, LOCAL_TABLE, phoneMessage, startLocalStack, tokenEnvName, type LocalStack } from './local-stack';
import { DynamoDb } from '../lambda/state/dynamodb';
import { localDateOf } from '../lambda/report/day';
import { sendDailyReport } from '../lambda/report/send';
import { createSesClient } from '../lambda/notify/ses';

/** The Lambda's timeout in the CDK stack: the handler plans its ticks against it. */
const INVOCATION_TIMEOUT_MS = POLLER_TIMEOUT_SECONDS * 1000;
const SCHEDULE_MS = 60_000;

export interface StartOptions {
  config?: string;
  url?: string;
  token?: string;
  fingerprint?: string;
  caFile?: string;
  json?: boolean;
  once?: boolean;
  stateDir?: string;
  rate: number;
  verbose?: boolean;
  /** After every invocation, send today's daily report (seen in the SES emulator's web view). */
  reportNow?: boolean;
}

export async function start(options: StartOptions): Promise<number> {
  const config = buildConfig(options);
  const printer = new FeedPrinter({ json: options.json ?? false, write: (line) => process.stdout.write(`${line}\n`) });
  if (!options.json) printer.note('starting DynamoDB Local, the SES and SNS emulators and the QR-menu simulator…');
  const stack = await startLocalStack({
    config,
    realServer: options.url !== undefined,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
  });
  Object.assign(process.env, stack.env, {
    POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: options.verbose ? 'false' : 'true',
  });
  if (options.url && options.token) process.env[tokenEnvName(config.sources[0]!.id)] = options.token;
  const { handler } = await import('../lambda/handler');

  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  const shutdown = async (code: number): Promise<number> => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    await stack.stop();
    return code;
  };

  const enqueuedAt = new Map<string, number>();
  for (const [, sim] of stack.simulators) {
    for (const event of sim.queue()) enqueuedAt.set(event.hash ?? '', event.enqueuedAt);
  }
  feed.on('entry', (entry: FeedEntry) =>
    printer.entry(entry, 'hash' in entry ? enqueuedAt.get(entry.hash) : undefined),
  );
  printer.banner(stack, { realUrl: options.url, intervalSeconds: config.polling.intervalSeconds });

  // Every shard's schedule fires at once, as in AWS (config/shards.ts): one invocation per shard.
  const shards = shardCount(config);
  const invoke = async () => {
    const startedAt = Date.now();
    const reports = await Promise.all(
      Array.from({ length: shards }, (_, shard) =>
        handler(
          { source: 'local-schedule', ...shardEvent(shard) },
          {
            awsRequestId: randomUUID(),
            getRemainingTimeInMillis: () => (options.once ? 12_001 : INVOCATION_TIMEOUT_MS) - (Date.now() - startedAt),
          },
        ),
      ),
    );
    return { errors: reports.reduce((sum, report) => sum + report.errors, 0) };
  };

  if (options.once) {
    try {
      const report = await invoke();
      await readPhones(stack, printer);
      const code = report.errors > 0 ? 1 : 0;
      if (!options.json) printer.note(code === 0 ? 'one tick done' : 'the tick had errors (see above)');
      return await shutdown(code);
    } catch (error) {
      printer.fatal(error);
      return shutdown(1);
    }
  }

  const stopSignal = new Promise<number>((resolve) => {
    const onSignal = () => resolve(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  // The schedule: one invocation a minute, overlapping as real ones may (the lease sorts that out).
  const schedule = (at: number) => {
    if (stopping) return;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        schedule(at + SCHEDULE_MS);
        invoke()
          .then(() => (options.reportNow ? reportToday(stack, printer) : undefined))
          .catch((error: unknown) => printer.fatal(error));
      },
      Math.max(0, at - Date.now()),
    );
    timers.add(timer);
  };
  schedule(Date.now());

  // Guests: after the first poll has seen the (empty) queue, a first waiter call, then random traffic.
  for (const [sourceId, sim] of stack.simulators) {
    const track = (hash: string | null, at: number) => hash && enqueuedAt.set(hash, at);
    const startTraffic = () => {
      const first = sim.inject({ code: 'waiter_call', tableName: '6' });
      track(first.hash, first.enqueuedAt);
      const next = () => {
        if (stopping || options.rate <= 0) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          const event = sim.inject();
          track(event.hash, event.enqueuedAt);
          next();
        }, exponentialDelay(options.rate));
        timers.add(timer);
      };
      next();
    };
    const waitForFirstPoll = () => {
      if (stopping) return;
      if (sim.served.some((s) => s.status === 200)) {
        const timer = setTimeout(startTraffic, 1_500);
        timers.add(timer);
        return;
      }
      const timer = setTimeout(waitForFirstPoll, 200);
      timers.add(timer);
    };
    waitForFirstPoll();
    void sourceId;
  }

  // The waiters in the hall's Telegram group press "Иду" on most calls.
  const waiters = stack.telegram ? startSimulatedWaiters(stack.config, stack.telegram) : undefined;

  // The stand-in phones and the operator's inbox.
  const pollPhones = async () => {
    while (!stopping) {
      await readPhones(stack, printer, 1).catch(() => undefined);
    }
  };
  void pollPhones();

  const code = await stopSignal;
  if (!options.json) printer.note('stopping…');
  waiters?.stop();
  return shutdown(code);
}

/** The daily report of today so far, sent through the SES emulator (the config needs a `report`). */
async function reportToday(stack: LocalStack, printer: FeedPrinter): Promise<void> {
  const { config } = stack;
  if (!config.report) {
    printer.note('--report-now: the config has no report section (report: { to: [...] })');
    return;
  }
  const now = Date.now();
  const sent = await sendDailyReport({
    config,
    tableName: LOCAL_TABLE,
    db: new DynamoDb(),
    ses: createSesClient(),
    now,
    day: localDateOf(now, config.timeZone),
  });
  printer.report(sent.email.subject, sent.recipients, `${stack.endpoints.ses}/`);
}

async function readPhones(stack: LocalStack, printer: FeedPrinter, waitSeconds = 0): Promise<void> {
  await Promise.all([
    ...stack.phones.map(async (phone) => {
      for (const message of await drainQueue(stack.sqs, phone.queueUrl, waitSeconds)) {
        if (message.structured) printer.sms(phone.phone, phoneMessage(message.structured));
      }
    }),
    (async () => {
      for (const message of await drainQueue(stack.sqs, stack.opsQueueUrl, waitSeconds))
        printer.ops(message.subject ?? '', message.message);
    })(),
  ]);
}

/** Seconds until the next guest event, for `rate` events a minute on average. */
function exponentialDelay(ratePerMinute: number): number {
  return Math.min(120_000, Math.round((-Math.log(1 - Math.random()) * 60_000) / ratePerMinute));
}

function buildConfig(options: StartOptions): AlertsConfig {
  let input: unknown = DEMO_CONFIG;
  let where = 'the demo config';
  if (options.config) {
    where = options.config;
    input = readDeploymentFile(options.config);
  }
  const config = parseAlertsConfig(input, where);
  if (!options.url) return config;
  const source = config.sources[0]!;
  const tls = {
    ...(options.fingerprint ? { fingerprint256: normalizeFingerprint(options.fingerprint) } : {}),
    ...(options.caFile ? { caPem: readFileSync(options.caFile, 'utf8') } : {}),
  };
  return parseAlertsConfig(
    {
      ...config,
      sources: [
        {
          id: source.id,
          name: source.name ?? source.id,
          url: options.url,
          // An http:// URL typed on the command line is an explicit choice; the client still warns about it.
          allowPlainHttp: new URL(options.url).protocol === 'http:',
          ...(Object.keys(tls).length ? { tls } : {}),
          token: { env: tokenEnvName(source.id) },
        },
      ],
      routes: config.routes.map((route) => ({ ...route, sources: undefined })),
    },
    where,
  );
}

/** A deployment config file (YAML or JSON), validated whole; its `aws` section is for `cdk deploy` only. */
function readDeploymentFile(path: string): AlertsConfig {
  const { aws: _aws, ...alerts } = parseDeploymentConfig(readConfigFile(path), path);
  return alerts;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name('npm start --')
    .description(
      'Run the notifier locally: simulator, DynamoDB Local, SES and SNS emulators, and the Lambda handler on a one-minute schedule.',
    )
    .option('--config <file>', 'deployment config (YAML or JSON); default: a demo restaurant')
    .option('--url <url>', 'poll this real QR-menu server instead of the simulator')
    .addOption(new Option('--token <token>', "the real server's token").env('QRMENU_TOKEN'))
    .option('--fingerprint <sha256>', "pin the real server's certificate by its SHA-256 fingerprint")
    .option('--ca-file <pem>', "pin the real server's certificate (or its CA) by a PEM file")
    .option('--json', 'one JSON object per line instead of the human feed')
    .option('--once', 'run a single tick and exit (0 on success)')
    .option('--state-dir <dir>', "keep DynamoDB Local's data in this folder between runs")
    .option('--rate <n>', 'simulated guest events per minute', (v) => Number(v), 6)
    .option('--verbose', "also print the Lambda's own JSON logs and metrics")
    .option('--report-now', "after every run, send today's daily report (open the SES emulator's web view)")
    .parse(argv, { from: 'user' });
  const options = program.opts<StartOptions>();
  // The project runs on Node 20 (package.json engines); the SDK's reminder about Node 22 would only clutter the feed.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (options.url && !options.token) {
    console.error('give --token (or set QRMENU_TOKEN) with --url');
    process.exit(2);
  }
  try {
    process.exitCode = await start(options);
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
  // Timers of the SDK's keep-alive agents may linger; everything we started is stopped.
  process.exit();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
