/**
 * The config the deployed Lambda reads (lambda/config/sealed.ts): what synth validated, sealed with
 * a format and a digest, opened without zod at cold start — and refused, saying what to do, when
 * it was edited after synth, written for another format, or never sealed at all.
 */
import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lambda/handler';
import { RUNTIME_ENV } from '../../lambda/config/runtime';
import { ConfigError, parseAlertsConfig, TELEGRAM_DEFAULTS, TelegramSchema } from '../../lambda/config/schema';
import { openSealedConfig, SEALED_CONFIG_FORMAT, sealConfig } from '../../lambda/config/sealed';

const validated = parseAlertsConfig({
  name: 'sealed',
  sources: [{ id: 'lenina', url: 'https://203.0.113.10:8443', token: { secret: 'qrmenu-alerts/sealed/lenina/token' } }],
  routes: [{ name: 'hall', tables: ['1-10'], sms: ['+79161234567'], telegram: [-1001000000042] }],
});
/** As the CDK app writes it: pretty-printed JSON, read back by JSON.parse. */
const written = () => JSON.parse(JSON.stringify(sealConfig(validated), null, 2));

function refusal(json: unknown): string {
  try {
    openSealedConfig(json, 'the config file alerts-config.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'opened';
}

describe('the sealed config', () => {
  it('opens to exactly the validated config, defaults filled in', () => {
    expect(openSealedConfig(written(), 'x')).toEqual(validated);
    expect(written()).toMatchObject({ format: SEALED_CONFIG_FORMAT, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('is refused when it was changed after it was validated', () => {
    const edited = written();
    edited.config.routes[0].tables = ['1-x'];
    expect(refusal(edited)).toBe(
      'the config file alerts-config.json is invalid:\n  - was changed after it was validated (its SHA-256 does not ' +
        'match the one sealed with it): deploy the deployment config with `npx cdk deploy`, which validates it and ' +
        'writes this file, never edit it by hand',
    );
    expect(refusal({ ...written(), sha256: undefined })).toMatch(/was changed after it was validated/);
  });

  it('is refused when it was sealed in another format, or never sealed', () => {
    expect(refusal({ ...written(), format: 'qrmenu-alerts/validated-config@0' })).toMatch(
      /was sealed in the format "qrmenu-alerts\/validated-config@0", but this code reads "qrmenu-alerts\/validated-config@1": deploy .* together with the code/,
    );
    // A plain config (what the CDK app wrote before configs were sealed, or one written by hand).
    expect(refusal(validated)).toMatch(
      /is not a config sealed by the CDK app \(no "format": "qrmenu-alerts\/validated-config@1"\)/,
    );
    expect(refusal(null)).toMatch(/is not a config sealed by the CDK app/);
    expect(refusal([written()])).toMatch(/is not a config sealed by the CDK app/);
  });

  it('is what the handler reads, naming where the config came from', () => {
    const env = { [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(validated)) };
    expect(loadRuntimeConfig(env)).toEqual(validated);
    expect(() => loadRuntimeConfig({ [RUNTIME_ENV.configJson]: JSON.stringify(validated) })).toThrow(
      /^the ALERTS_CONFIG environment variable is invalid:\n {2}- is not a config sealed by the CDK app/,
    );
    expect(() => loadRuntimeConfig({ [RUNTIME_ENV.configJson]: '{"format":' })).toThrow(/cannot be read as JSON/);
  });

  it("keeps the Telegram section's defaults in one place: the schema fills in what the handler assumes", () => {
    expect(TelegramSchema.parse({})).toEqual(TELEGRAM_DEFAULTS);
  });
});
