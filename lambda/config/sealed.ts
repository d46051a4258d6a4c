/**
 * The config as the deployed Lambda reads it: sealed. `cdk synth` validates the deployment's
 * config with the zod schema (lambda/config/schema.ts) and writes what passed, normalized (every
 * default filled in), with a format and a SHA-256 of it; at cold start the Lambda checks both and
 * uses the config as it stands. That keeps zod (≈ 95 KiB, and its import time) out of the bundle,
 * and a config nobody validated out of the Lambda: a file edited after synth, or written for
 * another format, fails the cold start loudly with what to do instead.
 * Why not the schema on zod/mini: the schema is shared with the CDK app, which extends it with zod
 * classic, and a second validation in the Lambda would only repeat the one synth already did.
 * Pure apart from node:crypto; imports no zod.
 */
import { createHash } from 'node:crypto';
import type { AlertsConfig } from './schema';
import { ConfigError } from './settings';

/** Changes whenever a sealed config of the old format could be misread by new code. */
export const SEALED_CONFIG_FORMAT = 'qrmenu-alerts/validated-config@1';

export interface SealedConfig {
  readonly format: typeof SEALED_CONFIG_FORMAT;
  /** SHA-256 (hex) of `JSON.stringify(config)`. */
  readonly sha256: string;
  readonly config: AlertsConfig;
}

function digest(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** Seal a config that `parseAlertsConfig` returned (the CDK app, the local runner and tests do). */
export function sealConfig(validated: AlertsConfig): SealedConfig {
  return { format: SEALED_CONFIG_FORMAT, sha256: digest(validated), config: validated };
}

/** The config inside a sealed one, or a {@link ConfigError} saying why it cannot be trusted. */
export function openSealedConfig(json: unknown, where: string): AlertsConfig {
  const sealed = typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {};
  const { format, sha256, config } = sealed as Partial<Record<keyof SealedConfig, unknown>>;
  const redeploy = 'deploy the deployment config with `npx cdk deploy`, which validates it and writes this file';
  if (format !== SEALED_CONFIG_FORMAT) {
    throw new ConfigError(
      [
        typeof format === 'string'
          ? `was sealed in the format "${format}", but this code reads "${SEALED_CONFIG_FORMAT}": ${redeploy} together with the code`
          : `is not a config sealed by the CDK app (no "format": "${SEALED_CONFIG_FORMAT}"): ${redeploy}`,
      ],
      where,
    );
  }
  if (typeof config !== 'object' || config === null || typeof sha256 !== 'string' || digest(config) !== sha256) {
    throw new ConfigError(
      [
        `was changed after it was validated (its SHA-256 does not match the one sealed with it): ${redeploy}, never edit it by hand`,
      ],
      where,
    );
  }
  return config as AlertsConfig;
}
