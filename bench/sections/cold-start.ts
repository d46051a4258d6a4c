/**
 * Cold start of the built bundle: fresh `node` processes that import index.mjs with the
 * environment the stack sets (its NODE_OPTIONS included, as deployed; also measured without
 * --enable-source-maps), and an empty-module process for Node's own start-up. Importing is the
 * whole cold-start cost of module evaluation: the handler wires itself on its first call. That
 * first call is measured apart, in fresh processes against the emulators and a simulator:
 * first invocation (wiring + one poll) minus the second (one poll) ≈ the wiring.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { POLLER_NODE_OPTIONS } from '../../infra/constructs/poller';
import { BUNDLED_CONFIG_FILE, RUNTIME_ENV } from '../../lambda/config/runtime';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { sealConfig } from '../../lambda/config/sealed';
import { lambdaConfigOf, loadDeploymentConfig } from '../../infra/config/deployment';
import type { BenchStack } from '../lib/bench-stack';
import { median } from '../lib/stats';
import { BENCH_TOKEN, ONE_TICK_REMAINING_MS, benchConfig } from '../lib/wiring';
import { createSimulator } from '../../local/simulator';

const run = promisify(execFile);
const MARK = 'BENCH_RESULT ';

export interface ColdStartResult {
  readonly runs: number;
  /** In-process `await import()` of index.mjs, with --enable-source-maps (as deployed). */
  readonly importMs: readonly number[];
  readonly importMsMedian: number;
  /** The same without --enable-source-maps. */
  readonly importNoMapsMsMedian: number;
  /** From the process's time origin to the bundle imported (Node start-up + import). */
  readonly processToImportedMsMedian: number;
  /** Spawn to exit, measured by the parent. */
  readonly processWallMsMedian: number;
  /** Spawn to exit of a process importing an empty module: Node's own share. */
  readonly nodeOnlyWallMsMedian: number;
  readonly firstInvocation?: FirstInvocationResult;
}

export interface FirstInvocationResult {
  readonly runs: number;
  /** First call of `handler`: createDefaultHandler (config, clients) + lease + one poll + checkpoint. */
  readonly firstMsMedian: number;
  /** Second call in the same process: lease + one poll + checkpoint. */
  readonly secondMsMedian: number;
  /** Per-process first − second. */
  readonly wiringMsMedian: number;
}

/** The environment the CDK stack gives the function (names from RUNTIME_ENV), with fake AWS values. */
export function lambdaEnv(extra: Record<string, string>, sourceMaps: boolean): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-central-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [RUNTIME_ENV.stateTable]: 'state',
    [RUNTIME_ENV.alertsTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:alerts',
    [RUNTIME_ENV.opsTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:ops',
    POWERTOOLS_SERVICE_NAME: 'qrmenu-alerts',
    POWERTOOLS_METRICS_NAMESPACE: 'QrmenuAlerts/bench',
    NODE_OPTIONS: sourceMaps ? POLLER_NODE_OPTIONS : POLLER_NODE_OPTIONS.replace('--enable-source-maps', '').trim(),
    ...extra,
  };
}

const IMPORT_CHILD = `
const t0 = performance.now();
const m = await import(process.argv[1]);
const t1 = performance.now();
process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify({ importMs: t1 - t0, sinceOriginMs: t1, handler: typeof m.handler }) + '\\n');
`;

const INVOKE_CHILD = `
const t0 = performance.now();
const { handler } = await import(process.argv[1]);
const t1 = performance.now();
const context = { getRemainingTimeInMillis: () => ${ONE_TICK_REMAINING_MS}, awsRequestId: 'cold-start' };
const first = await handler({}, context);
const t2 = performance.now();
const second = await handler({}, context);
const t3 = performance.now();
process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2, first, second }) + '\\n');
`;

async function child<T>(
  code: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ result: T; wallMs: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code, ...args], {
    env,
    maxBuffer: 16 * 1_048_576,
  });
  const wallMs = performance.now() - started;
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`the child printed no result:\n${stdout.slice(-2_000)}`);
  return { result: JSON.parse(line.slice(MARK.length)) as T, wallMs };
}

/** alerts-config.json next to index.mjs, as CDK's afterBundling hook puts it (sealed, tokens naming their SSM parameters). */
export function placeBundledConfig(bundleFile: string, deploymentConfigPath: string): void {
  const config = loadDeploymentConfig(deploymentConfigPath);
  const lambdaConfig = lambdaConfigOf(config, (sourceId) => ({
    ssm: `/qrmenu-alerts/${config.name}/${sourceId}/token`,
  }));
  const sealed = sealConfig(parseAlertsConfig(lambdaConfig, 'the bench config'));
  writeFileSync(join(dirname(bundleFile), BUNDLED_CONFIG_FILE), `${JSON.stringify(sealed, null, 2)}\n`);
}

export async function measureColdStart(
  bundleFile: string,
  runs: number,
  deploymentConfigPath: string,
): Promise<ColdStartResult> {
  placeBundledConfig(bundleFile, deploymentConfigPath);
  const url = pathToFileURL(bundleFile).href;
  const empty = 'data:text/javascript,export const x = 1;';
  // One discarded round: the first process also pays for the OS reading the files.
  await child(IMPORT_CHILD, [url], lambdaEnv({}, true));
  const withMaps: { importMs: number; sinceOriginMs: number; wallMs: number }[] = [];
  const noMaps: number[] = [];
  const nodeOnly: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const a = await child<{ importMs: number; sinceOriginMs: number; handler: string }>(
      IMPORT_CHILD,
      [url],
      lambdaEnv({}, true),
    );
    if (a.result.handler !== 'function')
      throw new Error(`the bundle exports no handler function (got ${a.result.handler})`);
    withMaps.push({ importMs: a.result.importMs, sinceOriginMs: a.result.sinceOriginMs, wallMs: a.wallMs });
    noMaps.push((await child<{ importMs: number }>(IMPORT_CHILD, [url], lambdaEnv({}, false))).result.importMs);
    nodeOnly.push((await child(IMPORT_CHILD, [empty], lambdaEnv({}, true))).wallMs);
  }
  return {
    runs,
    importMs: withMaps.map((r) => r.importMs),
    importMsMedian: median(withMaps.map((r) => r.importMs)),
    importNoMapsMsMedian: median(noMaps),
    processToImportedMsMedian: median(withMaps.map((r) => r.sinceOriginMs)),
    processWallMsMedian: median(withMaps.map((r) => r.wallMs)),
    nodeOnlyWallMsMedian: median(nodeOnly),
  };
}

/**
 * The first call's wiring, against the emulators: each fresh process imports the bundle and calls
 * the handler twice (one poll each) on a source whose baseline was taken by a discarded process.
 */
export async function measureFirstInvocation(
  bundleFile: string,
  stack: BenchStack,
  runs: number,
): Promise<FirstInvocationResult> {
  const sim = await createSimulator({ token: BENCH_TOKEN, seed: 42 });
  try {
    const config = benchConfig([{ id: 'cold', url: sim.url, fingerprint256: sim.fingerprint256! }], 10);
    const env = lambdaEnv(
      {
        ...stack.env,
        [RUNTIME_ENV.stateTable]: await stack.newTable(),
        [RUNTIME_ENV.alertsTopicArn]: stack.topicArn,
        [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(config)),
        POWERTOOLS_METRICS_NAMESPACE: 'QrmenuAlerts/bench',
      },
      true,
    );
    delete env[RUNTIME_ENV.opsTopicArn];
    const url = pathToFileURL(bundleFile).href;
    type Out = {
      firstMs: number;
      secondMs: number;
      first: { polls: number; errors: number };
      second: { polls: number; errors: number };
    };
    await child<Out>(INVOKE_CHILD, [url], env); // takes the source's baseline
    const samples: Out[] = [];
    for (let i = 0; i < runs; i += 1) {
      const { result } = await child<Out>(INVOKE_CHILD, [url], env);
      if (result.first.polls !== 1 || result.first.errors !== 0 || result.second.errors !== 0) {
        throw new Error(`the cold-start invocations did not poll cleanly: ${JSON.stringify(result)}`);
      }
      samples.push(result);
    }
    return {
      runs,
      firstMsMedian: median(samples.map((s) => s.firstMs)),
      secondMsMedian: median(samples.map((s) => s.secondMs)),
      wiringMsMedian: median(samples.map((s) => s.firstMs - s.secondMs)),
    };
  } finally {
    await sim.close();
  }
}
