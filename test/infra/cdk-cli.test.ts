/**
 * The real CDK CLI, as an operator runs it, offline: `npx cdk synth --quiet` in a stripped
 * environment (no AWS credentials or profile, a throwaway HOME) synthesizes the example config,
 * bundle, CloudFormation validation and cdk-nag included, and exits 0; a config with mistakes
 * ends it with a plain list of them and exit code 1, not a stack trace.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cdk(args: readonly string[]): Promise<Result> {
  const home = mkdtempSync(join(tmpdir(), 'qrmenu-cdk-home-'));
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['cdk', ...args],
      {
        cwd: REPO,
        // Nothing from this process: no AWS_* variables, no ~/.aws, no emulator endpoints.
        env: {
          PATH: process.env.PATH,
          HOME: home,
          CDK_DISABLE_VERSION_CHECK: 'true',
          CDK_DISABLE_CLI_TELEMETRY: 'true',
        },
        maxBuffer: 16 * 1_048_576,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('npx cdk synth', () => {
  it('synthesizes the example config offline, with no credentials, and exits 0', { timeout: 300_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'qrmenu-cdk-out-'));
    const result = await cdk(['synth', '--quiet', '-o', out]);
    expect(result.stderr).not.toMatch(/AwsSolutions-/);
    expect(result.code).toBe(0);
    expect(existsSync(join(out, 'QrmenuAlerts-lenina.template.json'))).toBe(true);
    const asset = readdirSync(out).find(
      (name) => name.startsWith('asset.') && existsSync(join(out, name, 'index.mjs')),
    );
    expect(asset && existsSync(join(out, asset, 'alerts-config.json'))).toBe(true);
  });

  it('stops at a config mistake with the field named and no stack trace', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qrmenu-bad-config-'));
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      [
        'sources:',
        '  - { id: hall, url: "https://203.0.113.10:8443" }',
        'routes:',
        '  - { name: waiters, tables: ["1-10"], sms: ["+79161234567"] }',
        '  - { name: manager, sms: ["+79161234568"] }',
        '  - { name: broken, tables: ["1-x"], sms: ["+79161234569"] }',
        'aws:',
        '  reservedConcurrency: 0',
        '',
      ].join('\n'),
    );
    const result = await cdk(['synth', '--quiet', '-c', `config=${config}`, '-o', join(dir, 'out')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${config} is invalid:`);
    expect(result.stderr).toContain('routes[2].tables[0]: "1-x" is not a table range (write it like "1-10")');
    expect(result.stderr).toContain('aws.reservedConcurrency:');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
