/**
 * The Lambda entry point (EventBridge Scheduler invokes it once a minute).
 * Work in progress: the poll loop is wired in by the poll-cycle work; for now it validates the
 * bundled config at cold start so that a broken deployment fails loudly.
 */
import { readFileSync } from 'node:fs';
import { parseAlertsConfig } from './config/schema';
import { BUNDLED_CONFIG_FILE, RUNTIME_ENV } from './config/runtime';

const configText =
  process.env[RUNTIME_ENV.configJson] ??
  readFileSync(process.env[RUNTIME_ENV.configFile] ?? new URL(`./${BUNDLED_CONFIG_FILE}`, import.meta.url), 'utf8');
const config = parseAlertsConfig(JSON.parse(configText), 'the bundled config');

export async function handler(): Promise<{ sources: number }> {
  return { sources: config.sources.length };
}
