/**
 * What the Lambda reads off a validated config, without zod: the config error, the record TTL,
 * whether Telegram is used, a source's display name, the Telegram section's defaults. The schema
 * (lambda/config/schema.ts, zod) validates at synth and in local runs and re-exports all of this;
 * the deployed poller never loads zod — it opens the config synth validated and sealed
 * (lambda/config/sealed.ts). Structural types only: schema.ts imports this file, not the reverse.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** One line per problem, each naming the field. */
    readonly problems: readonly string[],
    where = 'config',
  ) {
    super(`${where} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The `telegram` section's defaults (TelegramSchema writes them into a config that has the section). */
export const TELEGRAM_DEFAULTS: {
  readonly token: { readonly env: string };
  readonly acknowledgeCodes: readonly string[];
  readonly apiRoot?: string;
} = {
  token: { env: 'TELEGRAM_BOT_TOKEN' },
  acknowledgeCodes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
};

/** How long event records are kept: the delivery's own need, or the daily report's days if longer. */
export function recordTtlSeconds(config: {
  readonly delivery: { readonly recordTtlSeconds: number };
  readonly report?: { readonly keepDays: number } | undefined;
}): number {
  const forReport = config.report ? config.report.keepDays * 86_400 : 0;
  return Math.max(config.delivery.recordTtlSeconds, forReport);
}

/** Whether the deployment sends to Telegram (a route lists chats, or the config has a bot). */
export function usesTelegram(config: {
  readonly telegram?: object | undefined;
  readonly routes: readonly { readonly telegram: readonly unknown[] }[];
}): boolean {
  return config.telegram !== undefined || config.routes.some((route) => route.telegram.length > 0);
}

/** Display name of a source. */
export function sourceName(source: { readonly id: string; readonly name?: string | undefined }): string {
  return source.name ?? source.id;
}
