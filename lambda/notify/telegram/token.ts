/**
 * Where the bot token comes from: Secrets Manager in AWS (one secret per deployment, through
 * Powertools Parameters, cached for `maxAgeSeconds`, so a new token takes effect within minutes
 * without a deploy), an environment variable or the value itself for local runs. Every token read
 * is registered with the log redaction before anything else sees it; no message here contains it.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { awsClientConfig } from '../../aws/clients';
import { registerSecret } from '../../obs/telemetry';

export type TelegramTokenRef = { readonly secret: string } | { readonly env: string } | { readonly value: string };

/** The variable read when the config names no token. */
export const DEFAULT_TELEGRAM_TOKEN_ENV = 'TELEGRAM_BOT_TOKEN';

/** What BotFather hands out: "<bot id>:<secret>"; anything else could not even form a Bot API URL. */
const TOKEN_SHAPE = /^\d{1,20}:[A-Za-z0-9_-]{1,200}$/;

export class TelegramTokenUnavailableError extends Error {
  override readonly name = 'TelegramTokenUnavailableError';
  readonly kind = 'permanent';
}

export interface TelegramTokenOptions {
  /** Cache of the secret's value, in seconds. Default 300. */
  readonly maxAgeSeconds?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default: one shared SecretsProvider with the poller's client timeouts. */
  readonly provider?: Pick<SecretsProvider, 'get'>;
}

let sharedProvider: SecretsProvider | undefined;

/** Does this look like a bot token? (Used to refuse a pasted line with quotes or spaces early.) */
export function isPlausibleBotToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** A function that returns the current token (re-read from the secret after the cache expires). */
export function telegramTokenResolver(
  ref: TelegramTokenRef = { env: DEFAULT_TELEGRAM_TOKEN_ENV },
  options: TelegramTokenOptions = {},
): () => Promise<string> {
  const env = options.env ?? process.env;
  return async () => {
    let token: string | undefined;
    if ('value' in ref) token = ref.value;
    else if ('env' in ref) {
      token = env[ref.env];
      if (!token?.trim())
        throw new TelegramTokenUnavailableError(
          `the Telegram bot token is not set: put it in the environment variable ${ref.env}`,
        );
    } else {
      let value: unknown;
      try {
        if (!options.provider && !sharedProvider)
          sharedProvider = new SecretsProvider({ clientConfig: awsClientConfig() });
        const provider = options.provider ?? sharedProvider!;
        value = await provider.get(ref.secret, { maxAge: options.maxAgeSeconds ?? 300 });
      } catch (error) {
        throw new TelegramTokenUnavailableError(
          `the Telegram bot token could not be read from Secrets Manager (${ref.secret}): ` +
            `${error instanceof Error ? error.message : String(error)}. Check that the secret exists and the poller may read it`,
        );
      }
      token = typeof value === 'string' ? value : undefined;
      if (!token?.trim()) {
        throw new TelegramTokenUnavailableError(
          `the secret ${ref.secret} holds no bot token yet: aws secretsmanager put-secret-value --secret-id ${ref.secret} --secret-string file://bot-token.txt`,
        );
      }
    }
    token = token.trim();
    registerSecret(token);
    if (!isPlausibleBotToken(token))
      throw new TelegramTokenUnavailableError(
        'the Telegram bot token is malformed: it should look like 123456789:AA… (digits, a colon, then letters, digits, "_" or "-"), exactly as @BotFather gave it',
      );
    return token;
  };
}
