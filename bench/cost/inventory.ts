/**
 * Counts the fixed-cost resources a deployment really gets, by synthesizing the CDK stack of a
 * deployment config (bundling skipped: the template is otherwise the same) — as written, and
 * again with every optional paid item switched off in the config's `aws` section
 * (`dashboard: false`, `sms.monthlySpendLimitUsd: null`) to show that the switches work.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeploymentConfig, readConfigFile } from '../../infra/config/deployment';
import { createQrmenuApp } from '../../infra/qrmenu-app';

export interface StackInventory {
  readonly sources: number;
  readonly secrets: number;
  readonly kmsKeys: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly sqsQueues: number;
}

export interface InventoryResult {
  readonly configPath: string;
  readonly asWritten: StackInventory;
  /** With `aws.dashboard: false` and `aws.sms.monthlySpendLimitUsd: null`. */
  readonly optionalOff: StackInventory;
}

/** The config's `aws` switches that remove the optional paid items. */
export const OPTIONAL_OFF = { dashboard: false, sms: { monthlySpendLimitUsd: null } } as const;

export function stackInventory(configPath: string): InventoryResult {
  const raw = readConfigFile(configPath) as Record<string, unknown>;
  const aws = (raw.aws ?? {}) as Record<string, unknown>;
  const off = {
    ...raw,
    aws: { ...aws, dashboard: OPTIONAL_OFF.dashboard, sms: { ...((aws.sms ?? {}) as object), ...OPTIONAL_OFF.sms } },
  };
  return {
    configPath,
    asWritten: inventoryOf(raw, configPath),
    optionalOff: inventoryOf(off, `${configPath} (optional items off)`),
  };
}

function inventoryOf(input: unknown, where: string): StackInventory {
  const config = parseDeploymentConfig(input, where);
  const { app, stack } = createQrmenuApp(config, {
    outdir: mkdtempSync(join(tmpdir(), 'qrmenu-bench-synth-')),
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string }>;
  };
  const count = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
  return {
    sources: config.sources.length,
    secrets: count('AWS::SecretsManager::Secret'),
    kmsKeys: count('AWS::KMS::Key'),
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    sqsQueues: count('AWS::SQS::Queue'),
  };
}
