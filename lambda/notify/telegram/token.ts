/**
 * Where the bot token comes from: in AWS an SSM SecureString parameter (one per deployment, the
 * stack's default) or a Secrets Manager secret, read like the QR-menu tokens (config/tokens.ts:
 * cached for `maxAgeSeconds`, so a new token takes effect within minutes without a deploy); an
 * environment variable or the value itself for local runs. Every token read is registered with
 * the log redaction before anything else sees it; no message here contains it.
 */
import { SECRET_CACHE_SECONDS } from '../../config/runtime';
import {
  putTokenCommand,
  readStoredToken,
  StoredTokenMissing,
  storeOf,
  type StoredTokenRef,
  type StoredValueRead,
} from '../../config/tokens';
import { registerSecret } from '../../obs/telemetry';

export type TelegramTokenRef = StoredTokenRef | { readonly env: string } | { readonly value: string };

/** The variable read when the config names no token. */
export const DEFAULT_TELEGRAM_TOKEN_ENV = 'TELEGRAM_BOT_TOKEN';

/** What BotFather hands out: "<bot id>:<secret>"; anything else could not even form a Bot API URL. */
const TOKEN_SHAPE = /^\d{1,20}:[A-Za-z0-9_-]{1,200}$/;

export class TelegramTokenUnavailableError extends Error {
  override readonly name = 'TelegramTokenUnavailableError';
  readonly kind = 'permanent';
}

export interface TelegramTokenOptions {
  /** Cache of the stored value, in seconds. Default 300. */
  readonly maxAgeSeconds?: number;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How the stored value is read. Default: the signed AWS call the QR-menu tokens use (config/tokens.ts). */
  readonly read?: StoredValueRead;
}

/** Does this look like a bot token? (Used to refuse a pasted line with quotes or spaces early.) */
export function isPlausibleBotToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** A function that returns the current token (re-read from its store after the cache expires). */
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
      const { service, name } = storeOf(ref);
      const empty = () =>
        new TelegramTokenUnavailableError(
          `${service} holds no bot token yet (${name}): ${putTokenCommand(ref, 'bot-token.txt')}`,
        );
      try {
        token = await readStoredToken(ref, options.maxAgeSeconds ?? SECRET_CACHE_SECONDS, options.read);
      } catch (error) {
        if (error instanceof StoredTokenMissing) throw empty();
        throw new TelegramTokenUnavailableError(
          `the Telegram bot token could not be read from ${service} (${name}): ` +
            `${error instanceof Error ? error.message : String(error)}. Check that the token is there and the poller may read it`,
        );
      }
      if (token === undefined) throw empty();
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
