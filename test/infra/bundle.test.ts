/**
 * The poller's bundle, really built by esbuild through NodejsFunction: index.mjs with the sealed
 * alerts-config.json next to it (tokens pointing at their SSM parameters), importable by Node as the
 * Lambda runtime would import it, without the SDK's default credential chain (no STS/SSO client),
 * running a poll against the emulators on environment credentials alone (its token read from an
 * SSM parameter with the bundle's own signed call: test/support/aws-json-fake.ts), without grammY
 * (the Telegram channel has its own Bot API client), and a new asset hash whenever the config
 * changes (or a deploy would keep running the old config).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLED_CONFIG_FILE, RUNTIME_ENV } from '../../lambda/config/runtime';
import { AlertsConfigSchema, parseAlertsConfig } from '../../lambda/config/schema';
import { SEALED_CONFIG_FORMAT, sealConfig } from '../../lambda/config/sealed';
import { POLLER_NODE_OPTIONS } from '../../infra/constructs/poller';
import { createSimulator } from '../../local/simulator';
import { startAwsJsonFake } from '../support/aws-json-fake';
import { freshTable } from '../support/harness';
import { SAMPLE_CONFIG, synthesize, type Synthesized } from './support';

const run = promisify(execFile);
const emulators = inject('emulators');

let sample: Synthesized;
let changed: Synthesized;

/** The directory of the poller's bundled asset in the cloud assembly. */
function assetDir(s: Synthesized): string {
  const fn = Object.values(s.template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Handler === 'index.handler',
  );
  const key = fn?.Properties.Code.S3Key as string;
  return join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

beforeAll(() => {
  sample = synthesize(SAMPLE_CONFIG, { bundle: true });
  changed = synthesize(
    {
      ...SAMPLE_CONFIG,
      routes: SAMPLE_CONFIG.routes!.map((r) => (r.name === 'waiter-hall' ? { ...r, tables: ['1-12'] } : r)),
    },
    { bundle: true },
  );
}, 240_000);

describe("the poller's bundle", () => {
  it('holds index.mjs (ESM, with its source map) and alerts-config.json side by side', () => {
    const dir = assetDir(sample);
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    expect(existsSync(join(dir, BUNDLED_CONFIG_FILE))).toBe(true);
    // Guard against the SDK or zod being bundled twice over: a few hundred KiB is expected.
    expect(statSync(join(dir, 'index.mjs')).size).toBeLessThan(3 * 1_048_576);
  });

  it("carries the deployment's config with each token pointing at its SSM parameter, and no aws section", () => {
    const sealed = JSON.parse(readFileSync(join(assetDir(sample), BUNDLED_CONFIG_FILE), 'utf8'));
    expect(sealed).toMatchObject({ format: SEALED_CONFIG_FORMAT, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const { config } = sealed;
    expect(config.sources[0].token).toEqual({ ssm: '/qrmenu-alerts/sample/lenina/token' });
    expect(config).not.toHaveProperty('aws');
    expect(AlertsConfigSchema.safeParse(config).success).toBe(true);
  });

  it('imports in plain Node with only the environment the stack gives it', { timeout: 60_000 }, async () => {
    const url = pathToFileURL(join(assetDir(sample), 'index.mjs')).href;
    const { stdout } = await run(
      process.execPath,
      ['--enable-source-maps', '-e', 'import(process.argv[1]).then((m) => console.log(typeof m.handler))', url],
      {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-central-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          [RUNTIME_ENV.stateTable]: 'state',
          [RUNTIME_ENV.alertsTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:alerts',
          [RUNTIME_ENV.opsTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:ops',
          POWERTOOLS_SERVICE_NAME: 'qrmenu-alerts',
          POWERTOOLS_METRICS_NAMESPACE: 'QrmenuAlerts/sample',
        },
      },
    );
    expect(stdout.trim()).toBe('function');
  });

  it("leaves the SDK's default credential chain out: no STS, SSO or sign-in client, the environment only", () => {
    // The source map lists every module esbuild put into index.mjs.
    const { sources } = JSON.parse(readFileSync(join(assetDir(sample), 'index.mjs.map'), 'utf8')) as {
      sources: string[];
    };
    const chain = sources.filter((s) =>
      /@aws-sdk\/(nested-clients|client-sts|client-sso|token-providers|credential-provider-(?!env\/))|credential-provider-imds/.test(
        s,
      ),
    );
    expect(chain).toEqual([]);
    expect(sources.some((s) => s.endsWith('lambda/aws/lambda-credentials.ts'))).toBe(true);
    expect(sources.some((s) => s.includes('@aws-sdk/credential-provider-env/'))).toBe(true);
    // Tokens are read with one signed call (lambda/aws/json-call.ts), not through service clients.
    expect(sources.filter((s) => /client-ssm|client-secrets-manager|powertools\/parameters/.test(s))).toEqual([]);
    // SES and SNS are called with the Query protocol (lambda/aws/query-call.ts), not through service clients.
    expect(sources.filter((s) => /@aws-sdk\/client-(ses|sns)\//.test(s))).toEqual([]);
    expect(sources.some((s) => s.endsWith('lambda/aws/query-call.ts'))).toBe(true);
    const code = readFileSync(join(assetDir(sample), 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/AssumeRoleWithWebIdentity|GetRoleCredentials|sso-oidc/);
  });

  it('holds no grammY: the Telegram channel speaks the Bot API through its own client on fetch', () => {
    const { sources } = JSON.parse(readFileSync(join(assetDir(sample), 'index.mjs.map'), 'utf8')) as {
      sources: string[];
    };
    expect(sources.filter((s) => /node_modules\/(grammy|@grammyjs|node-fetch|abort-controller)\//.test(s))).toEqual([]);
    expect(sources.some((s) => s.endsWith('lambda/notify/telegram/bot-api.ts'))).toBe(true);
  });

  it("runs in plain Node with the stack's NODE_OPTIONS and credentials from the environment only, records and sends", {
    timeout: 90_000,
  }, async () => {
    const sim = await createSimulator({ token: 'bundle-test-token', seed: 12 });
    const ssm = await startAwsJsonFake('eu-central-1', { accessKeyId: 'local', secretAccessKey: 'local' });
    ssm.parameters.set('/qrmenu-alerts/bundled/lenina/token', 'bundle-test-token');
    try {
      const client = new DynamoDBClient({ maxAttempts: 2 });
      const table = await freshTable();
      client.destroy();
      const [event] = sim.injectMany(1, { code: 'waiter_call' });
      const config = parseAlertsConfig({
        name: 'bundled',
        sources: [
          {
            id: 'lenina',
            url: sim.url,
            tls: { fingerprint256: sim.fingerprint256 },
            token: { ssm: '/qrmenu-alerts/bundled/lenina/token' },
          },
        ],
        routes: [{ name: 'log', email: ['log@bundle.example'] }],
        email: { from: 'alerts@bundle.example' },
        // One tick, with the whole send budget; the queued call is delivered on this first poll.
        polling: { intervalSeconds: 60, deliverBacklog: true },
      });
      const url = pathToFileURL(join(assetDir(sample), 'index.mjs')).href;
      const script =
        'import(process.argv[1]).then(async (m) => { const end = Date.now() + 90000; ' +
        'console.log(JSON.stringify(await m.handler({}, { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: "bundle-test" }))); })';
      const { stdout } = await run(process.execPath, ['-e', script, url], {
        env: {
          PATH: process.env.PATH,
          NODE_OPTIONS: POLLER_NODE_OPTIONS,
          AWS_REGION: 'eu-central-1',
          // What Lambda gives: the role's keys in the environment; no profile, no ~/.aws, no metadata endpoint.
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_SESSION_TOKEN: 'local-session',
          HOME: '/nonexistent',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
          AWS_ENDPOINT_URL_SES: emulators.ses,
          AWS_ENDPOINT_URL_SSM: ssm.endpoint,
          POWERTOOLS_LOG_LEVEL: 'ERROR',
          [RUNTIME_ENV.stateTable]: table,
          [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(config)),
        },
      });
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(report).toMatchObject({ polls: 1, errors: 0, delivered: 1 });
      expect(ssm.calls).toEqual([
        {
          target: 'AmazonSSM.GetParameter',
          input: { Name: '/qrmenu-alerts/bundled/lenina/token', WithDecryption: true },
        },
      ]);
      const store = (await (await fetch(`${emulators.ses}/store`)).json()) as {
        emails: { destination: { to: string[] }; body: { text?: string; html?: string } }[];
      };
      const mine = store.emails.filter((e) => e.destination.to.includes('log@bundle.example'));
      expect(mine.some((e) => `${e.body.text ?? ''}${e.body.html ?? ''}`.includes(event!.wire.table_repr.name))).toBe(
        true,
      );
    } finally {
      await sim.close();
      await ssm.close();
    }
  });

  it('gets a new asset hash when the config changes', () => {
    expect(assetDir(changed)).not.toBe(assetDir(sample));
    const { config } = JSON.parse(readFileSync(join(assetDir(changed), BUNDLED_CONFIG_FILE), 'utf8'));
    expect(config.routes[0].tables).toEqual(['1-12']);
  });
});
