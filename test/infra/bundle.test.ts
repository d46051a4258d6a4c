/**
 * The poller's bundle, really built by esbuild through NodejsFunction: index.mjs with
 * alerts-config.json next to it (tokens pointing at their SSM parameters), importable by Node as the
 * Lambda runtime would import it, and a new asset hash whenever the config changes (or a
 * deploy would keep running the old config).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_CONFIG_FILE, RUNTIME_ENV } from '../../lambda/config/runtime';
import { AlertsConfigSchema } from '../../lambda/config/schema';
import { SAMPLE_CONFIG, synthesize, type Synthesized } from './support';

const run = promisify(execFile);

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
    const config = JSON.parse(readFileSync(join(assetDir(sample), BUNDLED_CONFIG_FILE), 'utf8'));
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

  it('gets a new asset hash when the config changes', () => {
    expect(assetDir(changed)).not.toBe(assetDir(sample));
    const config = JSON.parse(readFileSync(join(assetDir(changed), BUNDLED_CONFIG_FILE), 'utf8'));
    expect(config.routes[0].tables).toEqual(['1-12']);
  });
});
